package slos_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// fakeProm answers /api/v1/query_range with two counters that start at
// t0: "total" grows 100 a minute and "good" by each minute's good count.
type fakeProm struct {
	mu   sync.Mutex
	good map[int]float64 // minute index → good requests in it; 100 when absent
	down bool
}

func (f *fakeProm) value(expr string, at time.Time) float64 {
	m := int(at.Sub(t0) / time.Minute)
	if expr == "total" {
		return float64(100 * m)
	}
	sum := 0.0
	for i := range m {
		g, ok := f.good[i]
		if !ok {
			g = 100
		}
		sum += g
	}
	return sum
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path != "/api/v1/query_range" || r.ParseForm() != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	num := func(k string) float64 { v, _ := strconv.ParseFloat(r.Form.Get(k), 64); return v }
	start, end, step := num("start"), num("end"), num("step")
	var values [][2]any
	for s := start; s <= end && step > 0; s += step {
		at := time.UnixMilli(int64(s * 1000))
		if !at.Before(t0) {
			values = append(values, [2]any{s, strconv.FormatFloat(f.value(r.Form.Get("query"), at), 'f', -1, 64)})
		}
	}
	result := []any{}
	if len(values) > 0 {
		result = append(result, map[string]any{"metric": map[string]string{}, "values": values})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
}

func (f *fakeProm) set(down bool, good map[int]float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	for k, v := range good {
		f.good[k] = v
	}
}

// promObjective serves a fakeProm until the test ends and stores, in a
// new project, an objective that reads it.
func promObjective(t *testing.T, db *store.DB, svc *slos.Service) (*fakeProm, *promsli.Client, *nightjar.Project, *slos.SLO) {
	t.Helper()
	prom := &fakeProm{good: map[int]float64{}}
	srv := httptest.NewServer(prom)
	t.Cleanup(srv.Close)
	client := promsli.New(netguard.Policy{AllowPrivate: true}, 5*time.Second)
	p := storetest.NewProject(t, db, "P", t0)
	d := def("shop", "availability")
	d.Indicator.Prometheus = &slo.PromQuery{URL: srv.URL, Good: "good", Total: "total"}
	return prom, client, p, newSLO(t, svc, p.ID, d)
}

// An objective read from Prometheus gets its counts, fires when they burn,
// and neither fires nor resolves while Prometheus is down.
func TestPrometheusObjective(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		stage := alerting.New(db)
		svc := slos.New(db, stage)
		prom, client, p, o := promObjective(t, db, svc)

		page := func() *nightjar.Alert {
			alerts, err := stage.List(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range alerts {
				if a.Severity == nightjar.SeverityPage {
					return a
				}
			}
			return nil
		}
		// step runs minute k's evaluation as the engine module does.
		step := func(k int) (map[string]error, *slos.Status) {
			t.Helper()
			now := t0.Add(time.Duration(k)*time.Minute + slos.EvalDelay)
			failed, err := svc.FetchPrometheus(ctx, client, now)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := svc.ProcessDue(ctx, now, 100); err != nil || n != 1 {
				t.Fatalf("evaluation at minute %d: %d, %v", k, n, err)
			}
			_, st, err := svc.Status(ctx, p.ID, o.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			return failed, st
		}

		// Ten good minutes: evaluated at minute k, the k-1 minutes that
		// ended a scrape interval ago are stored and cached.
		for k := 1; k <= 10; k++ {
			if failed, st := step(k); len(failed) != 0 || st.SourceError != "" || st.Decision.Budget.Counts.Total != uint64(100*(k-1)) {
				t.Fatalf("minute %d: failed %v, status %+v", k, failed, st.Decision.Budget)
			}
		}
		want := slo.Counts{Good: 900, Total: 900}
		if got := svc.CachedSum(o.ID, t0, t0.Add(time.Hour)); got != want {
			t.Fatalf("cached %+v, want %+v", got, want)
		}

		// Prometheus goes down as every request starts failing: nothing
		// fires, and the status says why.
		bad := map[int]float64{}
		for m := 10; m < 60; m++ {
			bad[m] = 0
		}
		prom.set(true, bad)
		for k := 11; k <= 20; k++ {
			failed, st := step(k)
			if failed[o.ID] == nil || st.SourceError == "" || page() != nil {
				t.Fatalf("minute %d with prometheus down: failed %v, status error %q, page %+v", k, failed, st.SourceError, page())
			}
		}

		// Back up: the missed minutes are read and the page fires.
		prom.set(false, nil)
		failed, st := step(21)
		if len(failed) != 0 || st.SourceError != "" || st.Decision.Budget.Counts != (slo.Counts{Good: 1000, Total: 2000}) {
			t.Fatalf("after recovery: failed %v, status %+v", failed, st.Decision.Budget)
		}
		if a := page(); a == nil || a.Status != nightjar.AlertFiring || a.Details["slo_id"] != o.ID {
			t.Fatalf("page after ten failing minutes = %+v", a)
		}

		// Down again as requests recover: the page stays firing.
		good := map[int]float64{}
		for m := 20; m < 200; m++ {
			good[m] = 100
		}
		prom.set(true, good)
		for k := 22; k <= 100; k++ {
			if failed, _ := step(k); failed[o.ID] == nil {
				t.Fatalf("minute %d: fetch did not fail", k)
			}
		}
		if a := page(); a == nil || a.Status != nightjar.AlertFiring {
			t.Fatalf("page while prometheus is down = %+v", a)
		}
		// Once read again, the good hour resolves it.
		prom.set(false, nil)
		step(101)
		if a := page(); a == nil || a.Status != nightjar.AlertResolved {
			t.Fatalf("page after a good hour = %+v", a)
		}
	})
}

// A failed Prometheus read is stored with the objective, so another
// replica on the same database (another Service) reports it in Status and
// the list, and waits with the evaluation too; the next good read, by
// either replica, clears it everywhere.
func TestPrometheusErrorSharedByReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		stage := alerting.New(db)
		reader, other := slos.New(db, stage), slos.New(db, stage)
		prom, client, p, o := promObjective(t, db, reader)

		seen := func(now time.Time) (string, time.Time) {
			t.Helper()
			_, st, err := other.Status(ctx, p.ID, o.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			list, err := other.ListEvaluated(ctx, p.ID, 0, 0)
			if err != nil || len(list) != 1 {
				t.Fatalf("list = %v, %v", list, err)
			}
			if list[0].SourceError != st.SourceError || !list[0].SourceErrorAt.Equal(st.SourceErrorAt) {
				t.Errorf("the list says %q at %v, Status %q at %v", list[0].SourceError, list[0].SourceErrorAt, st.SourceError, st.SourceErrorAt)
			}
			return st.SourceError, st.SourceErrorAt
		}

		prom.set(true, nil)
		now := t0.Add(5*time.Minute + slos.EvalDelay)
		failed, err := reader.FetchPrometheus(ctx, client, now)
		if err != nil || failed[o.ID] == nil {
			t.Fatalf("fetch from a Prometheus that is down: %v, %v", failed, err)
		}
		if msg, at := seen(now); msg != failed[o.ID].Error() || !at.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("the other replica sees %q at %v; want %q at %v", msg, at, failed[o.ID], now)
		}
		// The other replica's evaluation waits for a good read: the
		// objective stays unevaluated.
		if _, err := other.ProcessDue(ctx, now, 100); err != nil {
			t.Fatal(err)
		}
		if list, _ := other.ListEvaluated(ctx, p.ID, 0, 0); list[0].Decision != nil {
			t.Errorf("evaluated without its counts: %+v", list[0].Decision)
		}

		prom.set(false, nil)
		now = now.Add(time.Minute)
		if failed, err := other.FetchPrometheus(ctx, client, now); err != nil || len(failed) != 0 {
			t.Fatalf("fetch after recovery: %v, %v", failed, err)
		}
		if msg, at := seen(now); msg != "" || !at.IsZero() {
			t.Fatalf("after a good read the error is still %q at %v", msg, at)
		}
		if _, err := reader.ProcessDue(ctx, now, 100); err != nil {
			t.Fatal(err)
		}
		if list, _ := reader.ListEvaluated(ctx, p.ID, 0, 0); list[0].Decision == nil || list[0].Decision.Budget.Counts.Total == 0 {
			t.Errorf("after a good read the evaluation lists %+v", list[0].Decision)
		}
	})
}
