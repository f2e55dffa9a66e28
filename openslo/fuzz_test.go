package openslo_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/openslo"
	"github.com/nightjar-dev/nightjar/slo"
)

// FuzzImport feeds arbitrary files to the importer: nothing panics, a
// refused file gets an invalid error whose every problem names a field,
// and every imported definition compiles.
func FuzzImport(f *testing.F) {
	shop, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shop)
	f.Add([]byte(sloDoc(nil)))
	f.Add([]byte(sloDoc(map[string]string{"indicator": "indicator: {spec: {thresholdMetric: {metricSource: {type: Nightjar, spec: {operation: login, attributes: {a: b}}}}}}", "objectives": "objectives: [{op: lt, value: 250.5, targetPercent: 99.5}]"})))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("- &a {apiVersion: openslo/v1}\n- *a\n"))
	f.Add([]byte("---\n---\nnull\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := openslo.Import(data)
		if err != nil {
			var e *nightjar.Error
			if !errors.As(err, &e) || e.Code != nightjar.EINVALID || e.Field == "" || !strings.HasPrefix(e.Message, e.Field+": ") {
				t.Fatalf("Import returned %v, want an invalid error naming its field", err)
			}
			if !strings.HasPrefix(e.Field, "documents") {
				t.Fatalf("field %q does not name a place in the file", e.Field)
			}
			return
		}
		for _, d := range res.SLOs {
			if _, err := slo.New(d); err != nil {
				t.Fatalf("imported %+v does not compile: %v", d, err)
			}
		}
	})
}
