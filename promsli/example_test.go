package promsli_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
)

// The evaluation module's step for an objective read from Prometheus:
// fetch the minutes, add them to the objective's series, evaluate.
func ExampleClient_Fetch() {
	// A stand-in Prometheus whose counters count 10 requests a minute,
	// one of them failed.
	prom := httptest.NewServer(&fakePrometheus{series: map[string][]fakeSeries{
		`http_requests_total{job="checkout"}`:             {{`{"code":"200"}`, minutes(0, 9, 9, 9, 9, 9)}, {`{"code":"500"}`, minutes(0, 1, 1, 1, 1, 1)}},
		`http_requests_total{job="checkout",code!~"5.."}`: {{`{"code":"200"}`, minutes(0, 9, 9, 9, 9, 9)}},
	}})
	defer prom.Close()

	d := slo.Definition{
		Service: "checkout", Name: "availability", Objective: 99, Window: slo.Window{Rolling: "28d"},
		Indicator: slo.Indicator{Kind: slo.KindAvailability, Prometheus: &slo.PromQuery{
			URL:   prom.URL + "/prom",
			Good:  `http_requests_total{job="checkout",code!~"5.."}`,
			Total: `http_requests_total{job="checkout"}`,
		}},
	}
	o, err := slo.New(d)
	if err != nil {
		panic(err)
	}
	// The server's policy; a Prometheus on loopback needs AllowPrivate.
	client := promsli.New(netguard.Policy{AllowPrivate: true}, 10*time.Second)
	now := t0.Add(5*time.Minute + 20*time.Second)
	got, err := client.Fetch(context.Background(), *d.Indicator.Prometheus, now.Add(-time.Hour), now)
	if err != nil {
		panic(err) // errors.Is(err, promsli.ErrUnavailable): try again next minute
	}
	series := slo.NewSeries(o.Retention())
	got.AddTo(series)
	b := o.Budget(series, now)
	fmt.Printf("%d minutes from %s: %d of %d good, %.0f%% of the budget left\n",
		len(got.Counts), got.Start.Format("15:04"), b.Counts.Good, b.Counts.Total, 100*b.Remaining)
	// Output: 5 minutes from 10:00: 45 of 50 good, -900% of the budget left
}
