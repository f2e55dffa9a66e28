package pingclient_test

import (
	"maps"
	"math"
	"testing"

	"github.com/nightjar-dev/nightjar/pingclient"
)

func TestFormatMetrics(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]float64
		want    string
		wantErr bool
	}{
		{name: "nil", in: nil, want: ""},
		{name: "one", in: map[string]float64{"rows": 42}, want: "rows:42"},
		{name: "sorted", in: map[string]float64{"b": 1, "a": 0.5, "C": -3}, want: "C:-3,a:0.5,b:1"},
		{name: "exponent", in: map[string]float64{"bytes": 1e21, "tiny": 1e-9}, want: "bytes:1e+21,tiny:1e-09"},
		{name: "allowed punctuation", in: map[string]float64{"disk.free_gb-1": 7}, want: "disk.free_gb-1:7"},
		{name: "colon in name", in: map[string]float64{"a:b": 1}, wantErr: true},
		{name: "comma in name", in: map[string]float64{"a,b": 1}, wantErr: true},
		{name: "space in name", in: map[string]float64{"a b": 1}, wantErr: true},
		{name: "empty name", in: map[string]float64{"": 1}, wantErr: true},
		{name: "NaN", in: map[string]float64{"x": math.NaN()}, wantErr: true},
		{name: "Inf", in: map[string]float64{"x": math.Inf(-1)}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pingclient.FormatMetrics(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("FormatMetrics = %q, want error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("FormatMetrics = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]float64
		wantErr bool
	}{
		{in: "", want: map[string]float64{}},
		{in: "rows:42", want: map[string]float64{"rows": 42}},
		{in: "a:0.5,b:-1e3", want: map[string]float64{"a": 0.5, "b": -1000}},
		{in: "rows", wantErr: true},
		{in: "rows:", wantErr: true},
		{in: ":1", wantErr: true},
		{in: "a:1,", wantErr: true},
		{in: "a:1,a:2", wantErr: true},
		{in: "a:NaN", wantErr: true},
		{in: "a:inf", wantErr: true},
		{in: "a:1e999", wantErr: true},
		{in: "a b:1", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := pingclient.ParseMetrics(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseMetrics = %v, want error", got)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("ParseMetrics = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseMetrics(f *testing.F) {
	for _, s := range []string{"", "a:1", "a:1,b:2.5", "x:-0", "a:1e308,b:5e-324", "a:0x1p-2", "a:1,a:1", ":", ",", "a:+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := pingclient.ParseMetrics(s)
		if err != nil {
			return
		}
		out, err := pingclient.FormatMetrics(m)
		if err != nil {
			t.Fatalf("FormatMetrics(ParseMetrics(%q) = %v): %v", s, m, err)
		}
		back, err := pingclient.ParseMetrics(out)
		if err != nil {
			t.Fatalf("ParseMetrics(%q), formatted from %q: %v", out, s, err)
		}
		if !maps.Equal(m, back) {
			t.Fatalf("round trip of %q via %q: %v != %v", s, out, m, back)
		}
		again, _ := pingclient.FormatMetrics(back)
		if again != out {
			t.Fatalf("format is not stable: %q then %q", out, again)
		}
	})
}
