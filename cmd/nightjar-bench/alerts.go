package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/nightjar-dev/nightjar/serverproc"
)

// Targets of the alert benchmark, from the issue. Reported, never
// enforced.
const (
	goalAlertRatio    = 1.0
	goalAlertDelivery = 100 * time.Millisecond
)

// alertOptions shape the --alerts benchmark.
type alertOptions struct {
	alertmanager string
	batch        int
	pool         int
	probes       int
	gap          time.Duration
}

// runAlerts measures how many alerts a second Nightjar's Alertmanager
// receiver accepts durably (committed before the 200), beside how many a
// real Alertmanager takes on its own POST /api/v2/alerts, which only keeps
// them in memory, both driven in the same run with the same alerts in
// batches of the same size; then, per database, how long an alert takes
// from the sender to the first notification at a loopback webhook.
func runAlerts(ctx context.Context, w io.Writer, o *options) error {
	a := &o.alerts
	header(w, o, "alert ingest, Nightjar's Alertmanager receiver against Alertmanager's own POST /api/v2/alerts")
	fmt.Fprintf(w, "  alerts      batches of %d alerts from a pool of %d distinct ones (the first pass fires them, later ones resend them)\n\n", a.batch, a.pool)
	tmp, done, err := workDir(w, o, "nightjar-bench-alerts-")
	if err != nil {
		return err
	}
	defer done()

	pool := benchAlerts(a.pool, time.Now().UTC())
	am := &target{name: "alertmanager"}
	amBase, stopAM, err := startAlertmanager(ctx, a.alertmanager, tmp)
	if err != nil {
		return err
	}
	defer stopAM()
	am.mk = postBodies(amBase+"/api/v2/alerts", batches(pool, a.batch, amBody))

	binary := o.binary
	if binary == "" {
		fmt.Fprintln(w, "building ./cmd/nightjar ...")
		if binary, err = serverproc.Build(ctx, tmp); err != nil {
			return err
		}
	}
	webhooks := batches(pool, a.batch, webhookBody)
	setup := func(t *target, dataDir, dsn string) {
		if startNightjar(binary, dataDir, dsn, tmp, t, "NIGHTJAR_ALLOW_PRIVATE_NETWORKS=true") == nil {
			return
		}
		var k struct {
			AlertmanagerURL string `json:"alertmanager_url"`
		}
		if err := t.api.do(ctx, http.MethodPost, "/api/v1/integration-keys", map[string]any{"name": "bench", "service": "bench"}, &k); err != nil {
			t.err = err
			return
		}
		t.mk = postBodies(k.AlertmanagerURL, webhooks)
	}
	sq := &target{name: "nightjar sqlite", goal: goalAlertRatio}
	fmt.Fprintf(w, "starting %s ...\n", sq.name)
	if dir, err := os.MkdirTemp(tmp, "sqlite-"); err != nil {
		sq.err = err
	} else {
		setup(sq, dir, "")
	}
	defer stopNightjar(sq)
	pg := &target{name: "nightjar postgres", goal: goalAlertRatio}
	if o.postgres == "" || o.postgres == "off" {
		pg.skip = "skipped (--postgres off)"
	} else if dsn, drop, err := postgresSchema(ctx, o.postgres); err != nil {
		pg.skip = "skipped: " + err.Error()
	} else {
		defer func() {
			if err := drop(); err != nil {
				fmt.Fprintf(w, "warning: %v\n", err)
			}
		}()
		fmt.Fprintf(w, "starting %s ...\n", pg.name)
		setup(pg, "", dsn)
		defer stopNightjar(pg)
	}
	targets := []*target{am, sq, pg}
	if err := runRounds(ctx, w, o, targets, float64(a.batch), "alerts/s"); err != nil {
		return err
	}

	delivery := map[*target][]time.Duration{}
	for _, t := range targets[1:] {
		if t.mk == nil || t.err != nil {
			continue
		}
		fmt.Fprintf(w, "%s: %d alerts, one every %s, to the first notification ...\n", t.name, a.probes, a.gap)
		lat, err := measureDelivery(ctx, t.api, a.probes, a.gap)
		if err != nil {
			t.err = err
			continue
		}
		delivery[t] = lat
	}
	for _, t := range targets[1:] {
		if t.proc != nil && t.err == nil && t.merged().Errors > 0 {
			t.err = fmt.Errorf("server log:\n%s", t.proc.LogTail(10))
		}
	}
	fmt.Fprintln(w)
	printAlertTable(w, o, targets, delivery)
	return failures(targets)
}

// benchAlert is one alert of the benchmark, as Prometheus sends it to
// Alertmanager.
type benchAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	GeneratorURL string            `json:"generatorURL"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	fingerprint  string
}

// benchAlerts makes n distinct firing alerts that last an hour from now.
func benchAlerts(n int, now time.Time) []benchAlert {
	out := make([]benchAlert, n)
	for i := range out {
		host := fmt.Sprintf("host-%05d", i)
		labels := map[string]string{"alertname": "BenchDiskFull", "instance": host + ":9100", "job": "node", "severity": "warning"}
		out[i] = benchAlert{Labels: labels,
			Annotations:  map[string]string{"summary": "Disk almost full on " + host, "runbook_url": "https://runbooks.example/disk"},
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=disk_free_ratio+%3C+0.1",
			StartsAt:     now, EndsAt: now.Add(time.Hour), fingerprint: fingerprint(labels)}
	}
	return out
}

// fingerprint is Alertmanager's fingerprint of an alert's labels, which
// its webhook sends and Nightjar's dedup key holds.
func fingerprint(labels map[string]string) string {
	ls := model.LabelSet{}
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// batches renders the pool as request bodies of size alerts each, going
// round it.
func batches(pool []benchAlert, size int, render func([]benchAlert) []byte) [][]byte {
	n := max(1, len(pool)/size)
	out := make([][]byte, n)
	for r := range out {
		b := make([]benchAlert, size)
		for j := range b {
			b[j] = pool[(r*size+j)%len(pool)]
		}
		out[r] = render(b)
	}
	return out
}

// amBody is a POST /api/v2/alerts body, as Prometheus sends it.
func amBody(alerts []benchAlert) []byte {
	b, _ := json.Marshal(alerts)
	return b
}

// webhookBody is an Alertmanager webhook notification (version 4) of the
// alerts, as Alertmanager sends it.
func webhookBody(alerts []benchAlert) []byte {
	type item struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	items := make([]item, len(alerts))
	for i, a := range alerts {
		items[i] = item{"firing", a.Labels, a.Annotations, a.StartsAt, time.Time{}, a.GeneratorURL, a.fingerprint}
	}
	b, _ := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="BenchDiskFull"}`, "truncatedAlerts": 0, "status": "firing", "receiver": "nightjar",
		"groupLabels": map[string]string{"alertname": "BenchDiskFull"}, "commonLabels": map[string]string{"alertname": "BenchDiskFull", "job": "node"},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example:9093", "alerts": items,
	})
	return b
}

// postBodies returns a request maker that POSTs the bodies to url in turn.
func postBodies(url string, bodies [][]byte) newRequest {
	return func(ctx context.Context, i int64) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i%int64(len(bodies))]))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	}
}

// startAlertmanager runs a real Alertmanager on a free loopback port with
// a receiver that sends nothing, so what is measured is how it takes
// alerts in, and returns its URL and how to stop it.
func startAlertmanager(ctx context.Context, bin, dir string) (string, func(), error) {
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: none\n  group_wait: 1h\nreceivers:\n  - name: none\n"), 0o600); err != nil {
		return "", nil, err
	}
	addr, err := serverproc.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, fmt.Errorf("start alertmanager (%s; scripts/ensure-alertmanager.sh installs it): %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case <-exited:
			b, _ := os.ReadFile(logFile.Name())
			return "", nil, fmt.Errorf("alertmanager exited during start-up:\n%s", b)
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("alertmanager not ready after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// measureDelivery gives the server's project a webhook channel to a
// loopback receiver, sends n new alerts through its Alertmanager receiver,
// one every gap without waiting for their notifications, and returns how
// long each took from the moment its request was sent to its firing
// notification's arrival, sorted.
func measureDelivery(ctx context.Context, api *apiClient, n int, gap time.Duration) ([]time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	all := make(chan struct{})
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var p struct {
			Event string `json:"event"`
			Alert struct {
				DedupKey string `json:"dedup_key"`
			} `json:"alert"`
		}
		if json.NewDecoder(r.Body).Decode(&p) != nil || p.Event != "alert.firing" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, seen := arrived[p.Alert.DedupKey]; !seen {
			arrived[p.Alert.DedupKey] = at
			if len(arrived) == n {
				close(all)
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	hook := map[string]any{"kind": "webhook", "name": "bench receiver", "config": map[string]any{"url": "http://" + ln.Addr().String() + "/hook"}}
	if err := api.do(ctx, http.MethodPost, "/api/v1/channels", hook, nil); err != nil {
		return nil, err
	}
	var k struct {
		AlertmanagerURL string `json:"alertmanager_url"`
	}
	if err := api.do(ctx, http.MethodPost, "/api/v1/integration-keys", map[string]any{"name": "latency", "service": "bench"}, &k); err != nil {
		return nil, err
	}
	client := newLoadClient(1, 30*time.Second)
	defer client.CloseIdleConnections()
	run := serverproc.RandomHex(4)
	sent := make([]time.Time, n)
	keys := make([]string, n)
	for i := range n {
		a := benchAlerts(1, time.Now().UTC())[0]
		a.Labels = map[string]string{"alertname": "LatencyProbe", "probe": fmt.Sprintf("%s-%d", run, i), "severity": "critical"}
		a.fingerprint = fingerprint(a.Labels)
		keys[i] = "alertmanager:" + a.fingerprint
		req, err := postBodies(k.AlertmanagerURL, [][]byte{webhookBody([]benchAlert{a})})(ctx, 0)
		if err != nil {
			return nil, err
		}
		sent[i] = time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("probe %d: HTTP %d", i, resp.StatusCode)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(gap):
		}
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrived) < n {
		return nil, fmt.Errorf("only %d of %d probe alerts were notified within 30s", len(arrived), n)
	}
	lat := make([]time.Duration, n)
	for i := range n {
		lat[i] = arrived[keys[i]].Sub(sent[i])
	}
	slices.Sort(lat)
	return lat, nil
}

func printAlertTable(w io.Writer, o *options, targets []*target, delivery map[*target][]time.Duration) {
	am := targets[0]
	batch := float64(o.alerts.batch)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-18s\trequests\terrors\talerts/s\t(min-max)\trequest p50\tp99\tvs alertmanager\tdelivery p50\tp99\t\n", "target")
	measured, notes := splitMeasured(targets)
	for _, t := range measured {
		m := t.merged()
		rps := t.rps()
		ratio, p50, p99 := "-", "-", "-"
		if t != am && len(am.rounds) > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*median(t.ratios(am)))
		}
		if lat := delivery[t]; len(lat) > 0 {
			p50, p99 = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99))
		}
		fmt.Fprintf(tw, "%-18s\t%d\t%d\t%.0f\t(%.0f-%.0f)\t%s\t%s\t%s\t%s\t%s\t\n", t.name, m.Total(), m.Errors, median(rps)*batch,
			slices.Min(rps)*batch, slices.Max(rps)*batch, ms(m.Percentile(0.50)), ms(m.Percentile(0.99)), ratio, p50, p99)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintf(w, "alerts/s is the median of the rounds, \"vs alertmanager\" the median of the round-by-round ratios;\n"+
		"Nightjar answers each batch after committing it, Alertmanager after keeping it in memory.\n"+
		"delivery is from sending a new alert to its firing notification arriving at a loopback webhook.\n")

	fmt.Fprintf(w, "\nissue targets (at %d connections, %d alerts per request):\n", o.load.Conns, o.alerts.batch)
	for _, t := range targets[1:] {
		if len(t.rounds) == 0 {
			continue
		}
		if len(am.rounds) > 0 {
			share := median(t.ratios(am))
			fmt.Fprintf(w, "  %-18s alerts/s >= %.0f%% of alertmanager: %8.1f%%   %s\n", t.name, 100*t.goal, 100*share, verdict(share >= t.goal))
		}
		if lat := delivery[t]; len(lat) > 0 && strings.Contains(t.name, "sqlite") {
			p99 := percentile(lat, 0.99)
			fmt.Fprintf(w, "  %-18s delivery p99 <= %s:        %9s   %s\n", t.name, ms(goalAlertDelivery), ms(p99), verdict(p99 <= goalAlertDelivery))
		}
	}
	fmt.Fprintln(w, "\nThe load generator, Alertmanager and the servers share this machine's CPUs.")
}
