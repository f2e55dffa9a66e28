package slo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
	"go.yaml.in/yaml/v3"
)

// promDefinition returns a valid availability objective read from
// Prometheus.
func promDefinition() slo.Definition {
	d := availability(99.9, "30d")
	d.Indicator.Prometheus = &slo.PromQuery{
		URL:   "http://prometheus:9090",
		Good:  `http_requests_total{job="checkout",code!~"5.."}`,
		Total: `http_requests_total{job="checkout"}`,
	}
	return d
}

func TestPrometheusIndicatorProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *slo.Definition, q *slo.PromQuery)
		fields []string
	}{
		{"valid", func(d *slo.Definition, q *slo.PromQuery) {}, nil},
		{"latency without threshold", func(d *slo.Definition, q *slo.PromQuery) { d.Indicator.Kind = slo.KindLatency }, nil},
		{"https with a path", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "https://metrics.example.com/prometheus" }, nil},
		{"no kind", func(d *slo.Definition, q *slo.PromQuery) { d.Indicator.Kind = "" }, []string{"indicator.kind"}},
		{"span fields", func(d *slo.Definition, q *slo.PromQuery) {
			d.Indicator.Selector.Route = "/checkout"
			d.Indicator.Errors = &slo.ErrorRules{HTTPFrom: 400}
			d.Indicator.Threshold = "300ms"
		}, []string{"indicator.errors", "indicator.threshold", "indicator.selector"}},
		{"everything empty", func(d *slo.Definition, q *slo.PromQuery) { *q = slo.PromQuery{} },
			[]string{"indicator.prometheus.url", "indicator.prometheus.good", "indicator.prometheus.total"}},
		{"relative URL", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "prometheus:9090" }, []string{"indicator.prometheus.url"}},
		{"ftp URL", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "ftp://prometheus" }, []string{"indicator.prometheus.url"}},
		{"credentials", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "http://u:p@prometheus:9090" }, []string{"indicator.prometheus.url"}},
		{"query in URL", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "http://prometheus:9090/?x=1" }, []string{"indicator.prometheus.url"}},
		{"line break in URL", func(d *slo.Definition, q *slo.PromQuery) { q.URL = "http://prom\netheus" }, []string{"indicator.prometheus.url"}},
		{"blank good", func(d *slo.Definition, q *slo.PromQuery) { q.Good = "   " }, []string{"indicator.prometheus.good"}},
		{"long total", func(d *slo.Definition, q *slo.PromQuery) { q.Total = strings.Repeat("x", slo.MaxPromQLLength+1) }, []string{"indicator.prometheus.total"}},
		{"NUL in good", func(d *slo.Definition, q *slo.PromQuery) { q.Good = "up\x00" }, []string{"indicator.prometheus.good"}},
		{"and a bad objective", func(d *slo.Definition, q *slo.PromQuery) { d.Objective = 0 }, []string{"objective"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := promDefinition()
			tc.change(&d, d.Indicator.Prometheus)
			checkProblems(t, &d, tc.fields)
			var e *nightjar.Error
			if err := d.Validate(); (err == nil) != (len(tc.fields) == 0) || (err != nil && (!errors.As(err, &e) || e.Field != tc.fields[0])) {
				t.Errorf("Validate: %v, want an error naming %q", err, tc.fields)
			}
		})
	}
}

// An objective read from Prometheus never counts spans or events, even
// ones of its service: ingest must leave its counts to the Prometheus
// source.
func TestPrometheusObjectiveCountsNoRequests(t *testing.T) {
	o := build(t, promDefinition())
	r := &slo.Request{Service: "checkout", SpanKind: "SERVER", HTTPStatus: 200}
	if build(t, availability(99.9, "30d")).Matches(r) == false {
		t.Fatal("the span-based objective should count the request the test uses")
	}
	var b slo.Bucket
	if o.Matches(r) || o.Observe(&b, r) || b.Total != 0 {
		t.Errorf("the Prometheus objective counted a span: %+v", b)
	}
	if got := o.Definition().Indicator.Prometheus; got == nil || got.Total != promDefinition().Indicator.Prometheus.Total {
		t.Errorf("definition lost its queries: %+v", got)
	}
}

func TestPrometheusIndicatorYAML(t *testing.T) {
	const doc = `
service: checkout
name: checkout-availability
indicator:
  kind: availability
  prometheus:
    url: http://127.0.0.1:9090
    good: sum without (code) (http_requests_total{code!~"5.."})
    total: http_requests_total
objective: 99.5
window: {rolling: 28d}
`
	var d slo.Definition
	if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	build(t, d)
	if q := d.Indicator.Prometheus; q.URL != "http://127.0.0.1:9090" || q.Good != `sum without (code) (http_requests_total{code!~"5.."})` || q.Total != "http_requests_total" {
		t.Errorf("decoded %+v", q)
	}
}

// FuzzPromQuery feeds arbitrary Prometheus indicator fields through
// validation: nothing panics, every problem names a field of the
// indicator, and an accepted query is the text it was given.
func FuzzPromQuery(f *testing.F) {
	f.Add("http://prometheus:9090", `http_requests_total{code!~"5.."}`, "http_requests_total", "availability")
	f.Add("https://[::1]:9090/prom", "a", "b", "latency")
	f.Add("http://:0", "", "\x00", "")
	f.Add("http://user@host", "x\ny", strings.Repeat("é", 2001), "availability")
	f.Add("http://h/%zz", "up", "up", "latency")
	f.Fuzz(func(t *testing.T, u, good, total, kind string) {
		d := availability(99, "30d")
		d.Indicator.Kind = kind
		d.Indicator.Prometheus = &slo.PromQuery{URL: u, Good: good, Total: total}
		problems := d.Problems()
		for _, p := range problems {
			if !strings.HasPrefix(p.Field, "indicator.") || !strings.HasPrefix(p.Message, p.Field+": ") {
				t.Fatalf("problem %+v does not name an indicator field", p)
			}
		}
		o, err := slo.New(d)
		if (err == nil) != (len(problems) == 0) {
			t.Fatalf("New says %v, Problems %v", err, problems)
		}
		if err == nil && (*o.Definition().Indicator.Prometheus != slo.PromQuery{URL: u, Good: good, Total: total} || strings.TrimSpace(good) == "") {
			t.Fatalf("accepted %q %q %q as %+v", u, good, total, o.Definition().Indicator.Prometheus)
		}
	})
}
