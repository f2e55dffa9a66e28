package metricrule

import (
	"math"
	"testing"
)

func TestEvalComparisons(t *testing.T) {
	// For each operator: whether it holds for 1 op 2, 2 op 2 and 3 op 2.
	table := []struct {
		op               string
		less, equal, gtr bool
	}{
		{"<", true, false, false},
		{"<=", true, true, false},
		{">", false, false, true},
		{">=", false, true, true},
		{"==", false, true, false},
		{"!=", true, false, true},
	}
	for _, row := range table {
		r := mustParse(t, "x "+row.op+" 2")
		for _, c := range []struct {
			x    float64
			want bool
		}{{1, row.less}, {2, row.equal}, {3, row.gtr}} {
			if got := r.Eval(Metrics{"x": c.x}, nil); got.Pass != c.want {
				t.Errorf("%q with x = %v: Pass = %v, want %v (%s)", r, c.x, got.Pass, c.want, got.Reason)
			}
		}
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		name       string
		rule       string
		cur, prev  Metrics
		pass       bool
		wantReason string
	}{
		{"threshold fails", "bytes >= 1e6", Metrics{"bytes": 120}, nil, false, "bytes = 120 is not >= 1e6"},
		{"threshold passes", "bytes >= 1e6", Metrics{"bytes": 2e6}, nil, true, "bytes = 2000000 is >= 1e6"},
		{"zero rows", "rows > 0", Metrics{"rows": 0}, nil, false, "rows = 0 is not > 0"},
		{"duration", "duration < 3600", Metrics{"duration": 4000}, nil, false, "duration = 4000 is not < 3600"},
		{"extra metrics ignored", "rows > 0", Metrics{"rows": 1, "bytes": 0}, nil, true, "rows = 1 is > 0"},

		{"relative to previous fails", "bytes >= 0.5 * previous", Metrics{"bytes": 120}, Metrics{"bytes": 2e6}, false, "bytes = 120 is not >= 0.5 * previous (= 1000000)"},
		{"relative to previous passes", "bytes >= 0.5 * previous", Metrics{"bytes": 1e6}, Metrics{"bytes": 2e6}, true, "bytes = 1000000 is >= 0.5 * previous (= 1000000)"},
		{"previous of a named metric", "rows >= previous.rows - 10", Metrics{"rows": 29}, Metrics{"rows": 40}, false, "rows = 29 is not >= previous.rows - 10 (= 30)"},
		{"previous of another metric", "rows >= previous.files", Metrics{"rows": 5}, Metrics{"files": 4}, true, "rows = 5 is >= previous.files (= 4)"},
		{"quoted names", `"disk-free" >= previous - 1`, Metrics{"disk-free": 5}, Metrics{"disk-free": 7}, false, `"disk-free" = 5 is not >= previous - 1 (= 6)`},

		// No previous value: nothing to compare with yet, so the rule passes.
		{"no previous ping", "bytes >= 0.5 * previous", Metrics{"bytes": 120}, nil, true, "no previous value of bytes to compare with yet"},
		{"empty previous ping", "bytes >= previous", Metrics{"bytes": 120}, Metrics{}, true, "no previous value of bytes to compare with yet"},
		{"previous lacks the metric", "rows >= previous.rows", Metrics{"rows": 0}, Metrics{"bytes": 1}, true, "no previous value of rows to compare with yet"},
		{"previous lacks two metrics", "rows >= previous.rows + previous.files + previous.rows", Metrics{"rows": 0}, nil, true, "no previous values of rows, files to compare with yet"},
		{"previous on the left", "previous.rows < 10", Metrics{}, nil, true, "no previous value of rows to compare with yet"},

		// A missing current metric fails, even when previous is absent too.
		{"missing metric", "bytes >= 1e6", Metrics{"rows": 1}, nil, false, "metric bytes missing"},
		{"no metrics at all", "bytes >= 1e6", nil, nil, false, "metric bytes missing"},
		{"missing beats no previous", "bytes >= previous", nil, nil, false, "metric bytes missing"},
		{"missing on the right", "rows > files", Metrics{"rows": 1}, nil, false, "metric files missing"},
		{"several missing", "a + b + a > c", Metrics{"b": 1}, nil, false, "metrics a, c missing"},
		{"missing only in previous is not missing", "rows > previous.files", Metrics{"rows": 1, "files": 1}, Metrics{"rows": 1}, true, "no previous value of files to compare with yet"},

		// Arithmetic that has no value fails the rule.
		{"division by a zero metric", "bytes / rows > 10", Metrics{"bytes": 100, "rows": 0}, nil, false, "division by zero in bytes / rows: rows = 0"},
		{"division by negative zero", "bytes / rows > 10", Metrics{"bytes": 100, "rows": math.Copysign(0, -1)}, nil, false, "division by zero in bytes / rows: rows = 0"},
		{"division by a literal zero", "bytes / 0 > 10", Metrics{"bytes": 100}, nil, false, "division by zero in bytes / 0"},
		{"division by a zero expression", "bytes > 1 / (rows - 1)", Metrics{"bytes": 1, "rows": 1}, nil, false, "division by zero in 1 / (rows - 1): rows - 1 = 0"},
		{"zero divided by zero", "a / b == 0", Metrics{"a": 0, "b": 0}, nil, false, "division by zero in a / b: b = 0"},
		{"division by a zero previous", "rows >= 100 / previous", Metrics{"rows": 1}, Metrics{"rows": 0}, false, "division by zero in 100 / previous: previous = 0"},
		{"division that works", "bytes / rows >= 10", Metrics{"bytes": 100, "rows": 10}, nil, true, "bytes / rows = 10 is >= 10"},
		{"overflow", "a * a > 0", Metrics{"a": 1e200}, nil, false, "a * a is out of range"},
		{"overflow on the right", "a < b - 1e308", Metrics{"a": 0, "b": -1e308}, nil, false, "b - 1e308 is out of range"},
		{"non-finite metric", "a > 0", Metrics{"a": math.NaN()}, nil, false, "metric a is NaN, not a finite number"},
		{"non-finite previous", "a > previous", Metrics{"a": 1}, Metrics{"a": math.Inf(1)}, false, "previous value of a is +Inf, not a finite number"},

		// Reasons show values only where the text does not already.
		{"literal on the left", "1000 < bytes", Metrics{"bytes": 2000}, nil, true, "1000 is < bytes (= 2000)"},
		{"negative literal", "delta > -5", Metrics{"delta": -7.5}, nil, false, "delta = -7.5 is not > -5"},
		{"expression on the left", "bytes / rows > 1", Metrics{"bytes": 1, "rows": 4}, nil, false, "bytes / rows = 0.25 is not > 1"},
		{"huge values", "a > b", Metrics{"a": 1e30, "b": 2e-9}, nil, true, "a = 1e30 is > b (= 2e-9)"},
		{"equality", "exit == 0", Metrics{"exit": 0}, nil, true, "exit = 0 is == 0"},
		{"precedence", "a == 1 + 2 * 3 - 4 / 2", Metrics{"a": 5}, nil, true, "a = 5 is == 1 + 2 * 3 - 4 / 2 (= 5)"},
		{"parentheses", "a == (1 + 2) * -(3 - 4)", Metrics{"a": 3}, nil, true, "a = 3 is == (1 + 2) * -(3 - 4) (= 3)"},
		{"left associative", "a == 8 - 4 - 2", Metrics{"a": 2}, nil, true, "a = 2 is == 8 - 4 - 2 (= 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.rule)
			got := r.Eval(tt.cur, tt.prev)
			if got.Pass != tt.pass || got.Reason != tt.wantReason {
				t.Errorf("%q.Eval = {%v, %q}, want {%v, %q}", tt.rule, got.Pass, got.Reason, tt.pass, tt.wantReason)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables, so the sum is rounded like at run time
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{-2.5, "-2.5"},
		{1e6, "1000000"},
		{123456789, "123456789"},
		{tenth + fifth, "0.30000000000000004"},
		{1e-6, "0.000001"},
		{1e-7, "1e-7"},
		{1e20, "100000000000000000000"},
		{1e21, "1e21"},
		{-1.5e300, "-1.5e300"},
		{math.SmallestNonzeroFloat64, "5e-324"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func mustParse(t testing.TB, s string) *Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", s, err)
	}
	return r
}
