package pingclient_test

import (
	"maps"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/metricrule"
	"github.com/nightjar-dev/nightjar/pingclient"
)

func manyMetrics(n int) map[string]float64 {
	m := map[string]float64{}
	for i := range n {
		m["m"+strconv.Itoa(100+i)] = float64(i)
	}
	return m
}

func manyMetricsWire(n int) string {
	pairs := make([]string, n)
	for i := range n {
		pairs[i] = "m" + strconv.Itoa(100+i) + ":" + strconv.Itoa(i)
	}
	return strings.Join(pairs, ",")
}

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
		{name: "allowed punctuation", in: map[string]float64{"disk.free_gb-1": 7, "_x": 1}, want: "_x:1,disk.free_gb-1:7"},
		{name: "longest name", in: map[string]float64{strings.Repeat("n", 64): 1}, want: strings.Repeat("n", 64) + ":1"},
		{name: "name too long", in: map[string]float64{strings.Repeat("n", 65): 1}, wantErr: true},
		{name: "name starts with a digit", in: map[string]float64{"1x": 1}, wantErr: true},
		{name: "name starts with a dot", in: map[string]float64{".x": 1}, wantErr: true},
		{name: "too many", in: manyMetrics(33), wantErr: true},
		{name: "as many as fit", in: manyMetrics(32), want: manyMetricsWire(32)},
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
		{in: " a : .5 , b:5.,c:+2E+2", want: map[string]float64{"a": 0.5, "b": 5, "c": 200}},
		{in: "  ", want: map[string]float64{}},
		{in: "a:0x1p-2", wantErr: true},
		{in: "a:1_000", wantErr: true},
		{in: "a:.", wantErr: true},
		{in: "a:1e", wantErr: true},
		{in: "a:--1", wantErr: true},
		{in: "9a:1", wantErr: true},
		{in: "a:1,,b:2", wantErr: true},
		{in: manyMetricsWire(33), wantErr: true},
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
	for _, s := range []string{"", "a:1", "a:1,b:2.5", "x:-0", "a:1e308,b:5e-324", "a:0x1p-2", "a:1,a:1", ":", ",", "a:+1", " a : .5 ", "a:1e400", "_:1", "a:inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := pingclient.ParseMetrics(s)
		// The server must agree on what a ping's metrics are, or a ping
		// accepted here would be rejected there.
		server, serverErr := metricrule.ParseQuery(s)
		if (err == nil) != (serverErr == nil) {
			t.Fatalf("ParseMetrics(%q) error %v, server's parser error %v", s, err, serverErr)
		}
		if err != nil {
			return
		}
		if len(m) != len(server) || !maps.Equal(m, map[string]float64(server)) {
			t.Fatalf("ParseMetrics(%q) = %v, server's parser %v", s, m, server)
		}
		out, err := pingclient.FormatMetrics(m)
		if err != nil {
			t.Fatalf("FormatMetrics(ParseMetrics(%q) = %v): %v", s, m, err)
		}
		back, err := pingclient.ParseMetrics(out)
		if err != nil {
			t.Fatalf("ParseMetrics(%q), formatted from %q: %v", out, s, err)
		}
		if server, err := metricrule.ParseQuery(out); err != nil || !maps.Equal(back, map[string]float64(server)) {
			t.Fatalf("server's parser reads %q as %v, %v; want %v", out, server, err, back)
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
