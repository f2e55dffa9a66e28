package metricrule

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct{ in, canonical string }{
		{"bytes >= 1e6", "bytes >= 1e6"},
		{"rows > 0", "rows > 0"},
		{"bytes >= 0.5 * previous", "bytes >= 0.5 * previous"},
		{"duration < 3600", "duration < 3600"},
		{"rows >= previous.rows - 10", "rows >= previous.rows - 10"},
		{"bytes>=1e6", "bytes >= 1e6"},
		{" \tbytes\t>=\n1e6  ", "bytes >= 1e6"},
		{"a <= 1", "a <= 1"},
		{"a == 1", "a == 1"},
		{"a != 1", "a != 1"},
		{"a < .5", "a < .5"},
		{"a < 5.", "a < 5."},
		{"a < 2.5E-3", "a < 2.5E-3"},
		{"a < 007", "a < 007"},
		// Precedence and the parentheses it needs.
		{"a + b * c > 0", "a + b * c > 0"},
		{"(a + b) * c > 0", "(a + b) * c > 0"},
		{"((a)) > ((1))", "a > 1"},
		{"a - (b - c) > 0", "a - (b - c) > 0"},
		{"(a - b) - c > 0", "a - b - c > 0"},
		{"a + (b + c) > 0", "a + (b + c) > 0"},
		{"a / (b * c) > 0", "a / (b * c) > 0"},
		{"a / b * c > 0", "a / b * c > 0"},
		{"a * (b / c) > 0", "a * (b / c) > 0"},
		// Unary minus.
		{"a > -1", "a > -1"},
		{"-a < 0", "-a < 0"},
		{"a > - -1", "a > --1"},
		{"a > -(-1)", "a > --1"},
		{"a > -(b + 1)", "a > -(b + 1)"},
		{"a - -b > 0", "a - -b > 0"},
		{"a--b > 0", "a - -b > 0"},
		{"-a * b > 0", "-a * b > 0"},
		{"-(a * b) > 0", "-(a * b) > 0"},
		// Names: dots are part of names, other names need quotes.
		{"disk.free > 0", "disk.free > 0"},
		{`"disk-free" > 0`, `"disk-free" > 0`},
		{`"rows" > 0`, "rows > 0"},
		{`"previous" > 0`, `"previous" > 0`},
		{`"previous.x" > 0`, `"previous.x" > 0`},
		{`"previous." > 0`, `"previous." > 0`},
		{"previousx > 0", "previousx > 0"},
		{"_x.1 > 0", "_x.1 > 0"},
		{"NaN > Inf", "NaN > Inf"}, // metric names, not numbers
		// Previous values.
		{"previous.rows > 0", "previous.rows > 0"},
		{`previous."disk-free" > 0`, `previous."disk-free" > 0`},
		{`previous."rows" > 0`, "previous.rows > 0"},
		{"previous.previous > 0", "previous.previous > 0"},
		{"previous.previous.x > 0", "previous.previous.x > 0"},
		{"(bytes) >= previous", "bytes >= previous"},
		{`"disk-free" >= previous - 1`, `"disk-free" >= previous - 1`},
		{"rows >= (previous)", "rows >= previous"},
		{"bytes / rows > previous.bytes / previous.rows * 0.9", "bytes / rows > previous.bytes / previous.rows * 0.9"},
		{"a > 1e-400", "a > 1e-400"},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got := r.String(); got != tt.canonical {
			t.Errorf("ParseRule(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		assertRoundTrip(t, r)
	}
}

func TestParseRuleErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		want string
	}{
		{"", 1, `rule is empty; expected a comparison such as "rows > 0"`},
		{" \t ", 1, `rule is empty; expected a comparison such as "rows > 0"`},
		{"bytes >= ", 10, `expected a number, metric name or "previous", got end of rule`},
		{"bytes >= *", 10, `expected a number, metric name or "previous", got "*"`},
		{"bytes", 6, `expected an operator or a comparison (<, <=, >, >=, == or !=), got end of rule`},
		{"bytes 5 > 1", 7, `expected an operator or a comparison (<, <=, >, >=, == or !=), got "5"`},
		{"bytes > 5 rows", 11, `expected an operator or end of rule, got "rows"`},
		{"a < b < c", 7, `expected an operator or end of rule, got "<"; a rule has exactly one comparison`},
		{"a = 1", 3, `expected a comparison such as ==, <= or >=, got a single "="`},
		{"a => 1", 3, `expected a comparison such as ==, <= or >=, got a single "="`},
		{"a ! 1", 3, `expected != to compare for inequality, got a single "!"`},
		{"a > +1", 5, `expected a number, metric name or "previous", got "+"`},
		{"a > 1 +", 8, `expected a number, metric name or "previous", got end of rule`},
		{"(a > 1", 4, `expected an operator or ")" to close the "(" at 1, got ">"`},
		{"a > (1", 7, `expected an operator or ")" to close the "(" at 5, got end of rule`},
		{"a > 1)", 6, `expected an operator or end of rule, got ")"`},
		{"a > ()", 6, `expected a number, metric name or "previous", got ")"`},
		{"a > 0x10", 5, `invalid number "0x10"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 1_000", 5, `invalid number "1_000"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 1.2.3", 5, `invalid number "1.2.3"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 1e", 5, `invalid number "1e"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 1e+", 5, `invalid number "1e+"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 5kb", 5, `invalid number "5kb"; expected a decimal such as 42, 0.5 or 1e6`},
		{"a > 1e400", 5, `number "1e400" is out of range`},
		{"a > .", 5, `unexpected character '.'; expected a number, metric name, operator or parenthesis`},
		{"a > é", 5, `unexpected character 'é'; expected a number, metric name, operator or parenthesis`},
		{"a > \xff", 5, `unexpected character byte 0xff; expected a number, metric name, operator or parenthesis`},
		{"a % 2 > 0", 3, `unexpected character '%'; expected a number, metric name, operator or parenthesis`},
		{"a ^ 2 > 0", 3, `unexpected character '^'; expected a number, metric name, operator or parenthesis`},
		{"1 < 2", 1, `rule names no metric; expected at least one metric name or "previous"`},
		{"-(1) != 2 * 3", 1, `rule names no metric; expected at least one metric name or "previous"`},
		{"previous > 1", 1, `"previous" alone is only allowed on the right side; expected previous.<name> here`},
		{"a + previous > 1", 5, `"previous" alone is only allowed on the right side; expected previous.<name> here`},
		{"a + b > previous", 9, `"previous" alone needs a single metric name on the left side; expected previous.<name> here`},
		{"-a > previous", 6, `"previous" alone needs a single metric name on the left side; expected previous.<name> here`},
		{"2 > previous", 5, `"previous" alone needs a single metric name on the left side; expected previous.<name> here`},
		{"previous.a > previous", 14, `"previous" alone needs a single metric name on the left side; expected previous.<name> here`},
		{"a > previous.", 14, `expected a metric name after "previous.", got end of rule`},
		{"a > previous. rows", 14, `expected a metric name after "previous.", got ' '`},
		{`a > previous.""`, 15, `metric name is empty; expected a letter or "_" followed by letters, digits, "_", "." or "-"`},
		{`"disk-free > 0`, 1, `expected a closing '"' for the metric name, got end of rule`},
		{`"" > 0`, 2, `metric name is empty; expected a letter or "_" followed by letters, digits, "_", "." or "-"`},
		{`"1x" > 0`, 2, `invalid metric name "1x": expected a letter or "_" first`},
		{`"a b" > 0`, 2, `invalid metric name "a b": expected only letters, digits, "_", "." or "-", got ' '`},
		{"a" + strings.Repeat("b", MaxNameLen) + " > 0", 1, `metric name "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"... is 65 bytes long; expected at most 64`},
		{"a > previous." + strings.Repeat("b", MaxNameLen+1), 14, `metric name "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"... is 65 bytes long; expected at most 64`},
		{strings.Repeat("(", MaxRuleDepth+1) + "a" + strings.Repeat(")", MaxRuleDepth+1) + " > 0", MaxRuleDepth + 1, `expression is nested more than 16 levels deep`},
		{"a > " + strings.Repeat("-", MaxRuleDepth+1) + "1", 4 + MaxRuleDepth + 1, `expression is nested more than 16 levels deep`},
		{"a > " + strings.Repeat("-(", 9) + "1" + strings.Repeat(")", 9), 4 + MaxRuleDepth + 1, `expression is nested more than 16 levels deep`},
		{"a > " + strings.Repeat("1+", 127) + "1", 259, `rule is longer than 256 characters, not counting spaces`},
		{"a" + strings.Repeat(" ", 4*MaxRuleLen) + "> 1", 1025, `rule is longer than 1024 characters`},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.in)
		if err == nil {
			t.Errorf("ParseRule(%q) = %q, want error %q", tt.in, r, tt.want)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseRule(%q) error %v is %T, want *SyntaxError", tt.in, err, err)
			continue
		}
		if se.Pos != tt.pos || se.Msg != tt.want {
			t.Errorf("ParseRule(%q) error\n got: at %d: %s\nwant: at %d: %s", tt.in, se.Pos, se.Msg, tt.pos, tt.want)
		}
		if r != nil {
			t.Errorf("ParseRule(%q) returned a rule with an error", tt.in)
		}
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := ParseRule("bytes >= ")
	want := `at 10: expected a number, metric name or "previous", got end of rule`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

// A rule with many spaces, within the limit when spaces are not counted,
// is accepted, and so is its canonical form, which adds spaces.
func TestRuleLengthLimitIgnoresSpaces(t *testing.T) {
	compact := "a>" + strings.Repeat("1+", 126) + "1" // 255 characters
	r, err := ParseRule(compact)
	if err != nil {
		t.Fatalf("ParseRule(compact): %v", err)
	}
	if len(r.String()) <= MaxRuleLen {
		t.Fatalf("canonical form is %d long; the test needs one over %d", len(r.String()), MaxRuleLen)
	}
	assertRoundTrip(t, r)
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules([]string{"bytes >= 1e6", "rows > previous"})
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	if len(rules) != 2 || rules[0].String() != "bytes >= 1e6" || rules[1].String() != "rows > previous" {
		t.Fatalf("ParseRules = %v", rules)
	}

	rules, err = ParseRules(nil)
	if err != nil || len(rules) != 0 {
		t.Fatalf("ParseRules(nil) = %v, %v; want no rules and no error", rules, err)
	}

	rules, err = ParseRules([]string{"bytes >= 1e6", "bytes >= ", "rows > 0", "", "1 < 2"})
	if rules != nil {
		t.Errorf("ParseRules returned rules %v with an error", rules)
	}
	var re *RulesError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is %T, want *RulesError", err, err)
	}
	want := []struct {
		index int
		msg   string
	}{
		{1, `rule 2 "bytes >= ": at 10: expected a number, metric name or "previous", got end of rule`},
		{3, `rule 4 "": at 1: rule is empty; expected a comparison such as "rows > 0"`},
		{4, `rule 5 "1 < 2": at 1: rule names no metric; expected at least one metric name or "previous"`},
	}
	if len(re.Errors) != len(want) {
		t.Fatalf("got %d rule errors, want %d: %v", len(re.Errors), len(want), err)
	}
	for i, w := range want {
		if got := re.Errors[i]; got.Index != w.index || got.Error() != w.msg {
			t.Errorf("error %d = index %d %q, want index %d %q", i, got.Index, got.Error(), w.index, w.msg)
		}
	}
	wantAll := want[0].msg + "; " + want[1].msg + "; " + want[2].msg
	if err.Error() != wantAll {
		t.Errorf("error\n got: %s\nwant: %s", err, wantAll)
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.Pos != 10 {
		t.Errorf("errors.As(*SyntaxError) = %v, want the first rule's error at 10", se)
	}
}

func TestZeroRule(t *testing.T) {
	var zero Rule
	if got := zero.String(); got != "" {
		t.Errorf("zero Rule String() = %q, want empty", got)
	}
	if got := zero.Eval(Metrics{"a": 1}, nil); got.Pass || got.Reason != "rule is empty" {
		t.Errorf("zero Rule Eval = %+v, want a failure", got)
	}
	var nilRule *Rule
	if got := nilRule.Eval(nil, nil); got.Pass {
		t.Errorf("nil Rule Eval = %+v, want a failure", got)
	}
}

// assertRoundTrip checks that a rule's canonical form parses back to the
// same rule and prints the same.
func assertRoundTrip(t testing.TB, r *Rule) {
	t.Helper()
	s := r.String()
	r2, err := ParseRule(s)
	if err != nil {
		t.Fatalf("canonical form %q does not parse: %v", s, err)
	}
	if !reflect.DeepEqual(r, r2) {
		t.Fatalf("canonical form %q parses to a different rule", s)
	}
	if s2 := r2.String(); s2 != s {
		t.Fatalf("canonical form is not stable: %q became %q", s, s2)
	}
}
