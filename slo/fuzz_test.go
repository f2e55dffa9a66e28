package slo_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// FuzzDefinitionJSON feeds the API's form of an objective through decoding
// and validation: nothing panics, a refused definition gets field errors
// that name their field, and an accepted one evaluates over a month of
// counts without trouble.
func FuzzDefinitionJSON(f *testing.F) {
	good, err := json.Marshal(availability(99.9, "30d"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint16(3))
	for _, seed := range []string{
		`{}`, `null`, `[]`, `{"objective":1e309}`, `{"window":{"rolling":"0d"}}`,
		`{"service":"a","name":"b","objective":99,"indicator":{"kind":"latency","threshold":"1ms","selector":{"operation":"x","attributes":{"":"y"}}},"window":{"calendar":"month","time_zone":"Local"}}`,
		`{"service":"a","name":"b","objective":50,"indicator":{"kind":"availability","errors":{"http_from":600,"http_codes":[599]}},"window":{"calendar":"quarter","time_zone":"Pacific/Apia"},"alerting":{"min_events":1,"rules":[{"severity":"ticket","long_window":"28d","short_window":"1m","budget_percent":100},{"severity":"page","long_window":"2m","short_window":"1m","burn_rate":100000}]}}`,
	} {
		f.Add([]byte(seed), uint16(17))
	}
	f.Fuzz(func(t *testing.T, data []byte, bad uint16) {
		var d slo.Definition
		if json.Unmarshal(data, &d) != nil {
			return // refusing malformed JSON is the HTTP layer's job
		}
		problems := d.Problems()
		o, err := slo.New(d)
		if (err == nil) != (len(problems) == 0) {
			t.Fatalf("New says %v, Problems %v", err, problems)
		}
		if err != nil {
			var e *nightjar.Error
			if !errors.As(err, &e) || e.Code != nightjar.EINVALID || e.Field != problems[0].Field {
				t.Fatalf("New returned %v, want an invalid error naming %s", err, problems[0].Field)
			}
			for _, p := range problems {
				if p.Field == "" || !strings.HasPrefix(p.Message, p.Field+": ") {
					t.Fatalf("problem %+v does not name its field", p)
				}
			}
			return
		}
		s := slo.NewSeries(o.Retention())
		now := time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC)
		for m := 3000; m > 0; m-- {
			at := now.Add(-time.Duration(m*15) * time.Minute)
			s.Add(at, slo.Counts{Good: 1000 - uint64(bad%1001), Total: 1000})
		}
		dec := o.Evaluate(s, now)
		if len(dec.Rules) == 0 || dec.Budget.Counts.Total == 0 {
			t.Fatalf("decision %+v has no rules or no counts", dec)
		}
		var st slo.State
		for _, a := range o.Apply(&st, &dec) {
			if a.Service != d.Service || a.Status != nightjar.AlertFiring || a.Summary == "" {
				t.Fatalf("alert %+v", a)
			}
		}
	})
}
