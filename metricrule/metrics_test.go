package metricrule

import (
	"maps"
	"strconv"
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	long := "a" + strings.Repeat("b", MaxNameLen-1)
	tests := []struct {
		in   string
		want Metrics
	}{
		{"", nil},
		{"   ", nil},
		{"bytes:123456,rows:42", Metrics{"bytes": 123456, "rows": 42}},
		{"bytes:1e6", Metrics{"bytes": 1e6}},
		{"x:1e+06", Metrics{"x": 1e6}}, // the client's 'g' formatting
		{"x:2.5E-3", Metrics{"x": 2.5e-3}},
		{"delta:-12.5", Metrics{"delta": -12.5}},
		{"delta:+3", Metrics{"delta": 3}},
		{"x:.5,y:5.", Metrics{"x": 0.5, "y": 5}},
		{"x:-0", Metrics{"x": 0}},
		{"x:1e-400", Metrics{"x": 0}}, // underflow rounds to zero
		{" bytes : 10 , rows:2 ", Metrics{"bytes": 10, "rows": 2}},
		{"_a.b-c:1,A9:2", Metrics{"_a.b-c": 1, "A9": 2}},
		{long + ":7", Metrics{long: 7}},
		{manyPairs(MaxMetrics), manyMetrics(MaxMetrics)},
	}
	for _, tt := range tests {
		got, err := ParseQuery(tt.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): unexpected error %v", tt.in, err)
			continue
		}
		if (got == nil) != (tt.want == nil) || !maps.Equal(got, tt.want) {
			t.Errorf("ParseQuery(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bytes", `metric pair "bytes": expected name:value, found no ":"`},
		{"bytes:1,,rows:2", `metric pair 2 is empty; expected name:value`},
		{"bytes:1,", `metric pair 2 is empty; expected name:value`},
		{":5", `metric pair ":5": metric name is empty; expected a letter or "_" followed by letters, digits, "_", "." or "-"`},
		{"1x:5", `metric pair "1x:5": invalid metric name "1x": expected a letter or "_" first`},
		{"a b:5", `metric pair "a b:5": invalid metric name "a b": expected only letters, digits, "_", "." or "-", got ' '`},
		{"bÿ:5", `metric pair "bÿ:5": invalid metric name "bÿ": expected only letters, digits, "_", "." or "-", got 'ÿ'`},
		{"a" + strings.Repeat("b", MaxNameLen) + ":1", `metric pair "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"...: metric name "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"... is 65 bytes long; expected at most 64`},
		{"rows:abc", `metric pair "rows:abc": invalid value "abc": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:", `metric pair "rows:": invalid value "": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:-", `metric pair "rows:-": invalid value "-": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:NaN", `metric pair "rows:NaN": invalid value "NaN": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:Inf", `metric pair "rows:Inf": invalid value "Inf": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:-infinity", `metric pair "rows:-infinity": invalid value "-infinity": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:0x10", `metric pair "rows:0x10": invalid value "0x10": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:1_000", `metric pair "rows:1_000": invalid value "1_000": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:1e", `metric pair "rows:1e": invalid value "1e": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:1:2", `metric pair "rows:1:2": invalid value "1:2": expected a decimal number such as 42, -1.5 or 1e6`},
		{"rows:1e400", `metric pair "rows:1e400": value "1e400" is out of range`},
		{"rows:1,rows:2", `metric pair "rows:2": metric "rows" appears more than once; expected each name once`},
		{manyPairs(MaxMetrics + 1), `metrics value has 33 pairs; expected at most 32`},
		{strings.Repeat("x", MaxQueryLen+1), `metrics value is 4097 bytes long; expected at most 4096`},
	}
	for _, tt := range tests {
		got, err := ParseQuery(tt.in)
		if err == nil {
			t.Errorf("ParseQuery(%q) = %v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseQuery(%q) error\n got: %s\nwant: %s", tt.in, err, tt.want)
		}
		if got != nil {
			t.Errorf("ParseQuery(%q) returned metrics %v with an error", tt.in, got)
		}
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Metrics
	}{
		{"empty body", "", nil},
		{"log text", "backup done, 12 files\n", nil},
		{"log text starting with brace", "{started} copying files", nil},
		{"truncated json", `{"bytes": 12`, nil},
		{"array", `[1, 2]`, nil},
		{"number", `42`, nil},
		{"ndjson", "{\"a\":1}\n{\"b\":2}", nil},
		{"metrics object", `{"metrics": {"bytes": 1000, "rows": 42}}`, Metrics{"bytes": 1000, "rows": 42}},
		{"metrics object beats flat members", `{"took": 5, "metrics": {"rows": -1.5e3}}`, Metrics{"rows": -1500}},
		{"empty metrics object", `{"metrics": {}}`, nil},
		{"whitespace around", " \n\t{ \"metrics\" : { \"a\" : 1 } }\n", Metrics{"a": 1}},
		{"flat numbers", `{"bytes": 1e6, "rows": 0, "status": "ok", "ok": true, "tags": [1], "nested": {"x": 1}, "nothing": null}`, Metrics{"bytes": 1e6, "rows": 0}},
		{"flat skips invalid names", `{"exit code": 0, "9lives": 9, "good_one": 1}`, Metrics{"good_one": 1}},
		{"flat skips out of range", `{"huge": 1e400, "ok": 2}`, Metrics{"ok": 2}},
		{"flat without numbers", `{"msg": "hello"}`, nil},
		{"empty object", `{}`, nil},
		{"flat at the limit", flatJSON(MaxMetrics), manyMetrics(MaxMetrics)},
		{"metrics at the limit", `{"metrics": ` + flatJSON(MaxMetrics) + `}`, manyMetrics(MaxMetrics)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseJSON(%q): unexpected error %v", tt.in, err)
			}
			if (got == nil) != (tt.want == nil) || !maps.Equal(got, tt.want) {
				t.Errorf("ParseJSON(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"metrics": 5}`, `json "metrics": expected an object of name: number members, got a number`},
		{`{"metrics": null}`, `json "metrics": expected an object of name: number members, got null`},
		{`{"metrics": [1]}`, `json "metrics": expected an object of name: number members, got an array`},
		{`{"metrics": {"bytes": "12"}}`, `json "metrics": metric "bytes": expected a number, got a string`},
		{`{"metrics": {"bytes": true}}`, `json "metrics": metric "bytes": expected a number, got a boolean`},
		{`{"metrics": {"bytes": {"v": 1}}}`, `json "metrics": metric "bytes": expected a number, got an object`},
		{`{"metrics": {"bytes": null}}`, `json "metrics": metric "bytes": expected a number, got null`},
		{`{"metrics": {"bytes": 1e400}}`, `json "metrics": metric "bytes": value "1e400" is out of range`},
		{`{"metrics": {"exit code": 1}}`, `json "metrics": invalid metric name "exit code": expected only letters, digits, "_", "." or "-", got ' '`},
		{`{"metrics": {"": 1}}`, `json "metrics": metric name is empty; expected a letter or "_" followed by letters, digits, "_", "." or "-"`},
		// Sorted order makes the first error reported deterministic.
		{`{"metrics": {"z": "x", "a": "y"}}`, `json "metrics": metric "a": expected a number, got a string`},
		{`{"metrics": ` + flatJSON(MaxMetrics+1) + `}`, `json "metrics" has 33 members; expected at most 32`},
		{flatJSON(MaxMetrics + 1), `json body has 33 numeric top-level members; expected at most 32 (send the ones that matter in a "metrics" object)`},
	}
	for _, tt := range tests {
		got, err := ParseJSON([]byte(tt.in))
		if err == nil {
			t.Errorf("ParseJSON(%q) = %v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseJSON(%q) error\n got: %s\nwant: %s", tt.in, err, tt.want)
		}
	}
}

// manyPairs returns n query pairs m0:0,m1:1,...
func manyPairs(n int) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = "m" + strconv.Itoa(i) + ":" + strconv.Itoa(i)
	}
	return strings.Join(pairs, ",")
}

// flatJSON returns a JSON object {"m0": 0, "m1": 1, ...} with n members.
func flatJSON(n int) string {
	members := make([]string, n)
	for i := range members {
		members[i] = `"m` + strconv.Itoa(i) + `": ` + strconv.Itoa(i)
	}
	return "{" + strings.Join(members, ", ") + "}"
}

// manyMetrics returns the metrics manyPairs and flatJSON describe.
func manyMetrics(n int) Metrics {
	m := Metrics{}
	for i := range n {
		m["m"+strconv.Itoa(i)] = float64(i)
	}
	return m
}
