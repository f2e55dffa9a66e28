package promsli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nightjar-dev/nightjar/peerbin"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
)

// EnvPrometheus names the Prometheus binary the integration test runs;
// "off" skips the test. scripts/test.sh sets it from
// scripts/ensure-prometheus.sh.
const EnvPrometheus = "NIGHTJAR_TEST_PROMETHEUS"

// prometheusBinary returns the binary to run, skipping the test when there
// is none, except in CI (CI set), where it fails it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	return peerbin.Find(t, peerbin.Peer{Name: "Prometheus", Env: EnvPrometheus, Default: "prometheus",
		Installer: "scripts/ensure-prometheus.sh"})
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPrometheus runs a Prometheus that scrapes target every second,
// with its storage in a temporary directory, and returns its base URL
// once it is ready.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := prometheusBinary(t)
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 20s\n%s", logs.String())
		}
	}
}

// shop is a scrape target whose request counters grow once per step, at
// a scrape in the middle of the step, so which step each request falls in
// does not depend on the few milliseconds between Prometheus stamping a
// scrape and the target answering it. It remembers what it counted in
// each step: the truth Fetch must find.
type shop struct {
	step     time.Duration
	requests *prometheus.CounterVec
	handler  http.Handler

	mu      sync.Mutex
	scrapes int
	first   time.Time            // the first scrape
	served  map[int64]slo.Counts // by step index since the epoch
	counted map[int64]bool
}

func newShop(step time.Duration) *shop {
	reg := prometheus.NewRegistry()
	s := &shop{step: step, served: map[int64]slo.Counts{}, counted: map[int64]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_requests_total", Help: "Requests answered, by status."}, []string{"code"})}
	reg.MustRegister(s.requests)
	s.requests.WithLabelValues("200")
	s.requests.WithLabelValues("500")
	s.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return s
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	s.scrapes++
	k := now.UnixNano() / int64(s.step)
	phase := time.Duration(now.UnixNano() % int64(s.step))
	switch {
	case s.scrapes == 1:
		s.first = now // the first value is the base, counted in no step
	case phase >= s.step/4 && phase < s.step*3/4 && !s.counted[k]:
		s.counted[k] = true
		s.requests.WithLabelValues("200").Add(7)
		if len(s.counted) == 3 {
			// The 500 series restarts from zero, as after a crash.
			s.requests.DeleteLabelValues("500")
		}
		s.requests.WithLabelValues("500").Add(2)
		s.served[k] = slo.Counts{Good: 7, Total: 9}
	}
	s.mu.Unlock()
	s.handler.ServeHTTP(w, r)
}

// truth returns what the target counted in each step of [from, to).
func (s *shop) truth(from, to time.Time) []slo.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []slo.Counts
	for t := from; t.Before(to); t = t.Add(s.step) {
		out = append(out, s.served[t.UnixNano()/int64(s.step)])
	}
	return out
}

func (s *shop) firstScrape() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

// TestRealPrometheus runs Debian's Prometheus against a target with
// good and total counters (one of which restarts) and reads them back
// with Fetch. Steps are two seconds instead of a minute, so that the test
// takes seconds; range queries are split every four points, so that long
// windows' splitting runs against the real server too.
func TestRealPrometheus(t *testing.T) {
	const step = 2 * time.Second
	const steps = 6
	s := newShop(step)
	target := httptest.NewServer(s)
	t.Cleanup(target.Close)
	base := startPrometheus(t, strings.TrimPrefix(target.URL, "http://"))
	c := promsli.New(local, 5*time.Second).WithStep(step, 4)
	q := slo.PromQuery{URL: base, Good: `shop_requests_total{code="200"}`, Total: `shop_requests_total{job="shop"}`}

	deadline := time.Now().Add(25 * time.Second)
	for s.firstScrape().IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("prometheus never scraped the target")
		}
		time.Sleep(50 * time.Millisecond) // polling for a scrape, not waiting for a deadline
	}
	from := s.firstScrape().Truncate(step).Add(2 * step)
	to := from.Add(steps * step)
	var got *promsli.Minutes
	for {
		var err error
		if time.Now().After(to) {
			got, err = c.Fetch(context.Background(), q, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Counts) == fmt.Sprint(s.truth(from, to)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %v from %s, want %v from %s", got, got.Start, s.truth(from, to), from)
		}
		time.Sleep(200 * time.Millisecond)
	}
	want := s.truth(from, to)
	var total slo.Counts
	for _, c := range want {
		total = total.Add(c)
	}
	if !got.Start.Equal(from) || total.Total < 9*(steps-2) || got.Total() != total {
		t.Errorf("minutes from %s totalling %+v, want from %s totalling %+v (at least %d requests)", got.Start, got.Total(), from, total, 9*(steps-2))
	}

	// A query Prometheus cannot parse is refused with its own words.
	_, err := c.Fetch(context.Background(), slo.PromQuery{URL: base, Good: "shop_requests_total{", Total: "shop_requests_total"}, from, to)
	if !errors.Is(err, promsli.ErrQuery) || !strings.Contains(err.Error(), "good query") || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("bad query: %v", err)
	}
	// An expression that is not a counter's values is refused too.
	_, err = c.Fetch(context.Background(), slo.PromQuery{URL: base, Good: "-shop_requests_total", Total: "shop_requests_total"}, from, to)
	if !errors.Is(err, promsli.ErrQuery) || !strings.Contains(err.Error(), "which no counter has") {
		t.Errorf("negative values: %v", err)
	}
}
