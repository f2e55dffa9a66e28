package openslo_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/openslo"
	"github.com/nightjar-dev/nightjar/slo"
)

func TestImportShop(t *testing.T) {
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := openslo.Import(data)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	want := []slo.Definition{{
		Service:     "checkout",
		Name:        "checkout-availability",
		Description: "99.9% of checkouts succeed each month",
		Indicator: slo.Indicator{Kind: slo.KindAvailability, Errors: &slo.ErrorRules{HTTPCodes: []int{429}},
			Selector: slo.Selector{Service: "checkout", Route: "/api/checkout", Attributes: map[string]string{"region": "eu"}}},
		Objective: 99.9,
		Window:    slo.Window{Calendar: "month", TimeZone: "Europe/Berlin"},
		Alerting: slo.Alerting{Rules: []slo.Rule{
			{Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 14.4},
			{Severity: "ticket", LongWindow: "3d", ShortWindow: "360m", BurnRate: 1},
		}},
	}, {
		Service:   "search",
		Name:      "search-latency",
		Indicator: slo.Indicator{Kind: slo.KindLatency, Threshold: "300ms", Selector: slo.Selector{Service: "search", SpanName: "GET /search"}},
		Objective: 99,
		Window:    slo.Window{Rolling: "4w"},
	}}
	got, _ := json.MarshalIndent(res.SLOs, "", "  ")
	exp, _ := json.MarshalIndent(want, "", "  ")
	if string(got) != string(exp) {
		t.Errorf("definitions:\n%s\nwant:\n%s", got, exp)
	}
	for _, d := range res.SLOs {
		if _, err := slo.New(d); err != nil {
			t.Errorf("imported %s does not compile: %v", d.Name, err)
		}
	}
	if len(res.Notes) != 1 || res.Notes[0].Field != "documents[3].spec.notificationTargets" {
		t.Errorf("notes %+v, want the notification targets noted once", res.Notes)
	}
}

const header = "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: s}\n"

// slo returns an SLO document with its spec's parts replaced.
func sloDoc(parts map[string]string) string {
	spec := map[string]string{
		"service":         "service: shop",
		"indicator":       "indicator: {spec: {ratioMetric: {good: {metricSource: {type: Nightjar}}, total: {metricSource: {type: Nightjar}}}}}",
		"budgetingMethod": "budgetingMethod: Occurrences",
		"timeWindow":      "timeWindow: [{duration: 30d, isRolling: true}]",
		"objectives":      "objectives: [{target: 0.99}]",
	}
	for k, v := range parts {
		spec[k] = v
	}
	var b strings.Builder
	b.WriteString(header + "spec:\n")
	for _, k := range []string{"service", "indicator", "budgetingMethod", "timeWindow", "objectives", "alertPolicies", "extra"} {
		if spec[k] != "" {
			b.WriteString("  " + spec[k] + "\n")
		}
	}
	return b.String()
}

func TestImportRefusesWhatItCannotHonour(t *testing.T) {
	const cond = "\n---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec:\n  conditions: [{kind: AlertCondition, metadata: {name: c}, spec: %s}]\n"
	for _, tc := range []struct {
		name, doc string
		fields    []string
	}{
		{"valid", sloDoc(nil), nil},
		{"not YAML", "a: [", []string{"documents"}},
		{"empty", "", []string{"documents"}},
		{"old version", strings.Replace(sloDoc(nil), "openslo/v1", "openslo/v1alpha", 1), []string{"documents[0].apiVersion"}},
		{"data source", "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\nspec: {type: Prometheus}\n", []string{"documents[0].kind"}},
		{"unknown field", sloDoc(map[string]string{"extra": "budget: 3"}), []string{"documents[0].spec.budget"}},
		{"bad name", strings.Replace(sloDoc(nil), "name: s", "name: Shop_SLO", 1), []string{"documents[0].metadata.name"}},
		{"prometheus", sloDoc(map[string]string{"indicator": "indicator: {spec: {ratioMetric: {good: {metricSource: {type: Prometheus, spec: {query: up}}}, total: {metricSource: {type: Nightjar}}}}}"}),
			[]string{"documents[0].spec.indicator.spec.ratioMetric.good.metricSource.type"}},
		{"data source ref", sloDoc(map[string]string{"indicator": "indicator: {spec: {ratioMetric: {good: {metricSource: {metricSourceRef: x}}, total: {metricSource: {type: Nightjar}}}}}"}),
			[]string{"documents[0].spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef"}},
		{"raw", sloDoc(map[string]string{"indicator": "indicator: {spec: {ratioMetric: {rawType: success, raw: {metricSource: {type: Nightjar}}}}}"}),
			[]string{"documents[0].spec.indicator.spec.ratioMetric.raw", "documents[0].spec.indicator.spec.ratioMetric.rawType", "documents[0].spec.indicator.spec.ratioMetric.total", "documents[0].spec.indicator.spec.ratioMetric.good"}},
		{"good and bad", sloDoc(map[string]string{"indicator": "indicator: {spec: {ratioMetric: {good: {metricSource: {type: Nightjar}}, bad: {metricSource: {type: Nightjar}}, total: {metricSource: {type: Nightjar}}}}}"}),
			[]string{"documents[0].spec.indicator.spec.ratioMetric.bad"}},
		{"selector key", sloDoc(map[string]string{"indicator": "indicator: {spec: {ratioMetric: {good: {metricSource: {type: Nightjar}}, total: {metricSource: {type: Nightjar, spec: {query: x}}}}}}"}),
			[]string{"documents[0].spec.indicator.spec.ratioMetric.total.metricSource.spec.query"}},
		{"time slices", sloDoc(map[string]string{"budgetingMethod": "budgetingMethod: Timeslices", "objectives": "objectives: [{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 1m}]"}),
			[]string{"documents[0].spec.budgetingMethod", "documents[0].spec.objectives[0].timeSliceTarget", "documents[0].spec.objectives[0].timeSliceWindow"}},
		{"two objectives", sloDoc(map[string]string{"objectives": "objectives: [{target: 0.99}, {target: 0.9}]"}), []string{"documents[0].spec.objectives[1]"}},
		{"target as percent", sloDoc(map[string]string{"objectives": "objectives: [{target: 99.9}]"}), []string{"documents[0].spec.objectives[0].target"}},
		{"both targets", sloDoc(map[string]string{"objectives": "objectives: [{target: 0.9, targetPercent: 90}]"}), []string{"documents[0].spec.objectives[0].target"}},
		{"threshold op", sloDoc(map[string]string{"indicator": "indicator: {spec: {thresholdMetric: {metricSource: {type: Nightjar}}}}", "objectives": "objectives: [{op: gt, value: 300, target: 0.99}]"}),
			[]string{"documents[0].spec.objectives[0].op"}},
		{"threshold without value", sloDoc(map[string]string{"indicator": "indicator: {spec: {thresholdMetric: {metricSource: {type: Nightjar}}}}", "objectives": "objectives: [{op: lte, target: 0.99}]"}),
			[]string{"documents[0].spec.objectives[0].value"}},
		{"rolling month", sloDoc(map[string]string{"timeWindow": "timeWindow: [{duration: 1M, isRolling: true}]"}), []string{"documents[0].spec.timeWindow[0].duration"}},
		{"calendar mid-month", sloDoc(map[string]string{"timeWindow": "timeWindow: [{duration: 1M, calendar: {startTime: 2024-01-15 00:00:00, timeZone: UTC}}]"}),
			[]string{"documents[0].spec.timeWindow[0].calendar.startTime"}},
		{"calendar quarter in February", sloDoc(map[string]string{"timeWindow": "timeWindow: [{duration: 1Q, calendar: {startTime: 2024-02-01 00:00:00, timeZone: Nowhere/City}}]"}),
			[]string{"documents[0].spec.timeWindow[0].calendar.timeZone", "documents[0].spec.timeWindow[0].calendar.startTime"}},
		{"calendar week", sloDoc(map[string]string{"timeWindow": "timeWindow: [{duration: 1w, calendar: {startTime: 2024-01-01 00:00:00, timeZone: UTC}}]"}),
			[]string{"documents[0].spec.timeWindow[0].duration"}},
		{"no window", sloDoc(map[string]string{"timeWindow": "timeWindow: []"}), []string{"documents[0].spec.timeWindow"}},
		{"window too short for Nightjar", sloDoc(map[string]string{"timeWindow": "timeWindow: [{duration: 1d, isRolling: true}]"}), []string{"documents[0]"}},
		{"missing policy", sloDoc(map[string]string{"alertPolicies": "alertPolicies: [nope]"}), []string{"documents[0].spec.alertPolicies[0]"}},
		{"no data alerts", sloDoc(map[string]string{"alertPolicies": "alertPolicies: [{kind: AlertPolicy, metadata: {name: p}, spec: {alertWhenNoData: true, conditions: [{conditionRef: c}]}}]"}),
			[]string{"documents[0].spec.alertPolicies[0].spec.alertWhenNoData", "documents[0].spec.alertPolicies[0].spec.conditions[0].conditionRef"}},
		{"condition severity and op", sloDoc(map[string]string{"alertPolicies": "alertPolicies: [p]"}) + strings.Replace(cond, "%s", "{severity: sev1, condition: {kind: burnrate, op: lt, threshold: 2, lookbackWindow: 1h, alertAfter: 1x}}", 1),
			[]string{"documents[1].spec.conditions[0].spec.severity", "documents[1].spec.conditions[0].spec.condition.op", "documents[1].spec.conditions[0].spec.condition.alertAfter"}},
		{"condition windows", sloDoc(map[string]string{"alertPolicies": "alertPolicies: [p]"}) + strings.Replace(cond, "%s", "{severity: page, condition: {threshold: 2, lookbackWindow: 1h, alertAfter: 2h}}", 1),
			[]string{"documents[0]"}},
		{"two conditions", sloDoc(map[string]string{"alertPolicies": "alertPolicies: [p]"}) + "\n---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec: {conditions: [{conditionRef: a}, {conditionRef: b}]}\n",
			[]string{"documents[1].spec.conditions"}},
		{"duplicate names", sloDoc(nil) + "---\n" + sloDoc(nil), []string{"documents[1].metadata.name"}},
		{"duplicate keys", sloDoc(map[string]string{"extra": "service: other"}), []string{"documents[0].spec.service"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := openslo.Import([]byte(tc.doc))
			if tc.fields == nil {
				if err != nil || len(res.SLOs) != 1 {
					t.Fatalf("Import: %v, %+v", err, res)
				}
				return
			}
			var e *nightjar.Error
			if !errors.As(err, &e) || e.Code != nightjar.EINVALID {
				t.Fatalf("Import = %v, want an invalid error", err)
			}
			var fields []string
			for i, m := range strings.Split(e.Message, "; documents") {
				if i > 0 {
					m = "documents" + m
				}
				fields = append(fields, strings.SplitN(m, ": ", 2)[0])
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") || e.Field != tc.fields[0] {
				t.Errorf("problems:\n  %s\nwant fields %q", strings.ReplaceAll(e.Message, "; ", "\n  "), tc.fields)
			}
		})
	}
}
