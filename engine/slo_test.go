package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The evaluation module reads a Prometheus objective's counts before
// evaluating it: every request failing pages; a Prometheus that stops
// answering is logged with the objective's id.
func TestSLOEvaluationReadsPrometheus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var down atomic.Bool
		// Counters from t0: 60 requests a minute, none of them good.
		prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() || r.ParseForm() != nil {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
			end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
			var vals []string
			for s := max(start, float64(t0.Unix())); s <= end; s += 60 {
				v := 0.0
				if r.Form.Get("query") == "total" {
					v = s - float64(t0.Unix())
				}
				vals = append(vals, fmt.Sprintf(`[%.3f,"%g"]`, s, v))
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[%s]}]}}`, strings.Join(vals, ","))
		}))
		defer prom.Close()
		stage := alerting.New(db)
		svc := slos.New(db, stage)
		p := storetest.NewProject(t, db, "P", t0)
		o := &slos.SLO{ProjectID: p.ID, Definition: slo.Definition{Service: "shop", Name: "availability", Objective: 99,
			Window: slo.Window{Rolling: "7d"}, Alerting: slo.Alerting{MinEvents: 1},
			Indicator: slo.Indicator{Kind: slo.KindAvailability, Prometheus: &slo.PromQuery{URL: prom.URL, Good: "good", Total: "total"}}}}
		if err := svc.Create(ctx, o, t0); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		eval := &engine.SLOEvaluation{SLOs: svc, Prometheus: promsli.New(netguard.Policy{AllowPrivate: true}, 5*time.Second),
			Log: slog.New(slog.NewTextHandler(&logs, nil))}
		for k := 1; k <= 5; k++ {
			if err := eval.Step(ctx, t0.Add(time.Duration(k)*time.Minute+slos.EvalDelay)); err != nil {
				t.Fatal(err)
			}
		}
		// It fires at the third evaluation, on the two minutes that ended
		// a scrape interval before it.
		alerts, err := stage.List(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 1 || alerts[0].Status != nightjar.AlertFiring || alerts[0].Details["slo_id"] != o.ID || alerts[0].Details["requests"] != "120" {
			t.Fatalf("alerts after four failing minutes: %d, %+v", len(alerts), alerts)
		}
		down.Store(true)
		if err := eval.Step(ctx, t0.Add(6*time.Minute+slos.EvalDelay)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "slo_id="+o.ID) || !strings.Contains(logs.String(), "prometheus unavailable") {
			t.Errorf("log after a failed read: %s", logs.String())
		}
	})
}
