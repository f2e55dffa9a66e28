package metricrule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on rules. Rules are written by people and evaluated on every
// success ping, so anything longer or deeper than these is a mistake or an
// attack rather than a useful assertion.
const (
	// MaxRuleLen is the most characters a rule may have, not counting
	// spaces. Spaces are not counted so that a rule's canonical form, which
	// adds spaces around operators, is always accepted too.
	MaxRuleLen = 256
	// MaxRuleDepth is how deeply parentheses and unary minus may nest.
	MaxRuleDepth = 16
)

// maxRawRuleLen bounds the raw input, spaces included, so that a rule
// padded with whitespace cannot make the parser scan without end. A
// canonical form of a valid rule is always shorter.
const maxRawRuleLen = 4 * MaxRuleLen

// Rule is one parsed assertion on a ping's metrics, such as "bytes >= 1e6"
// or "rows >= previous.rows - 10". Checks store rules as text; parsing them
// into a Rule validates them once and lets each ping be judged without
// reparsing or any chance of a runtime syntax error. The zero Rule is not
// usable: obtain rules from ParseRule or ParseRules.
type Rule struct {
	lhs *node
	op  cmpOp
	rhs *node
}

// cmpOp is a rule's comparison.
type cmpOp uint8

const (
	opLT cmpOp = iota + 1
	opLE
	opGT
	opGE
	opEQ
	opNE
)

var cmpText = [...]string{opLT: "<", opLE: "<=", opGT: ">", opGE: ">=", opEQ: "==", opNE: "!="}

// String returns the operator as written in rules.
func (o cmpOp) String() string { return cmpText[o] }

// holds reports whether a op b.
func (o cmpOp) holds(a, b float64) bool {
	switch o {
	case opLT:
		return a < b
	case opLE:
		return a <= b
	case opGT:
		return a > b
	case opGE:
		return a >= b
	case opEQ:
		return a == b
	case opNE:
		return a != b
	}
	return false
}

// nodeKind says what an expression node is.
type nodeKind uint8

const (
	numberNode   nodeKind = iota // a literal
	metricNode                   // a metric of the current ping
	previousNode                 // a metric of the previous successful ping
	negNode                      // unary minus of x
	addNode                      // x + y
	subNode                      // x - y
	mulNode                      // x * y
	divNode                      // x / y
)

// node is one node of an arithmetic expression. It holds no source
// positions, so two parses of equivalent text give equal trees.
type node struct {
	kind nodeKind
	// value is a numberNode's value.
	value float64
	// text is a numberNode's literal as written, which String keeps so
	// that a rule reads back as its author wrote it, or the metric name of
	// a metricNode or previousNode.
	text string
	// bare marks a previousNode written as plain "previous".
	bare bool
	x, y *node
}

// prec is the node's binding strength; higher binds tighter.
func (n *node) prec() int {
	switch n.kind {
	case addNode, subNode:
		return 1
	case mulNode, divNode:
		return 2
	case negNode:
		return 3
	}
	return 4
}

// String returns the expression in canonical form.
func (n *node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

// write prints n with the fewest parentheses that keep its tree: a left
// operand is wrapped when it binds more loosely, a right operand also when
// it binds equally, since a - (b - c) is not (a - b) - c and even a + (b + c)
// may round differently.
func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case numberNode:
		b.WriteString(n.text)
	case metricNode:
		writeName(b, n.text, true)
	case previousNode:
		b.WriteString("previous")
		if !n.bare {
			b.WriteByte('.')
			writeName(b, n.text, false)
		}
	case negNode:
		b.WriteByte('-')
		writeOperand(b, n.x, n.x.prec() < n.prec())
	default:
		writeOperand(b, n.x, n.x.prec() < n.prec())
		b.WriteString([...]string{addNode: " + ", subNode: " - ", mulNode: " * ", divNode: " / "}[n.kind])
		writeOperand(b, n.y, n.y.prec() <= n.prec())
	}
}

// writeOperand writes n, in parentheses when paren is set.
func writeOperand(b *strings.Builder, n *node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.write(b)
	if paren {
		b.WriteByte(')')
	}
}

// writeName writes a metric name bare when it lexes back as the same name,
// and in double quotes otherwise. A current metric's name must also not be
// read as the keyword previous.
func writeName(b *strings.Builder, name string, current bool) {
	bare := true
	for i := 0; i < len(name); i++ {
		if !isBareChar(name[i]) {
			bare = false
		}
	}
	if current && (name == "previous" || strings.HasPrefix(name, "previous.")) {
		bare = false
	}
	if bare {
		b.WriteString(name)
		return
	}
	b.WriteByte('"')
	b.WriteString(name)
	b.WriteByte('"')
}

// isLiteral reports whether n is a constant as written, possibly negated,
// so that reasons need not repeat its value.
func (n *node) isLiteral() bool {
	return n.kind == numberNode || n.kind == negNode && n.x.isLiteral()
}

// walk calls f for n and every node below it, left to right.
func (n *node) walk(f func(*node)) {
	f(n)
	if n.x != nil {
		n.x.walk(f)
	}
	if n.y != nil {
		n.y.walk(f)
	}
}

// String returns the rule in canonical form: single spaces around the
// comparison and binary operators, only the parentheses the meaning needs,
// names quoted only when they must be, and numbers as written. The form is
// what Nightjar shows and stores after validation; ParseRule accepts it and
// gives back an identical rule.
func (r *Rule) String() string {
	if r == nil || r.lhs == nil || r.rhs == nil {
		return ""
	}
	return r.lhs.String() + " " + r.op.String() + " " + r.rhs.String()
}

// SyntaxError is why a rule does not parse. Pos lets a form point at the
// mistake instead of making the user hunt for it.
type SyntaxError struct {
	// Pos is the 1-based byte column of the mistake; one past the end of
	// the rule when the rule ended too early.
	Pos int
	// Msg says what was expected there and what was found.
	Msg string
}

// Error reads "at <column>: <message>", the form shown next to a rule
// field, so the column can be matched to what the user typed.
func (e *SyntaxError) Error() string { return fmt.Sprintf("at %d: %s", e.Pos, e.Msg) }

// RuleError is a bad rule found by ParseRules, tied to its place in the
// list so that a form can mark the right line.
type RuleError struct {
	// Index is the rule's position in the list given to ParseRules,
	// counted from zero like the slice. Error counts from one, as people
	// number the rules they see.
	Index int
	// Rule is the rule's text as given.
	Rule string
	// Err is why it does not parse, usually a *SyntaxError.
	Err error
}

// Error names the rule by number and text before the parse error, so a
// message about one of several rules is unambiguous on its own.
func (e *RuleError) Error() string {
	return fmt.Sprintf("rule %d %s: %v", e.Index+1, quote(e.Rule), e.Err)
}

// Unwrap returns the underlying parse error, so errors.As can reach the
// *SyntaxError and its position.
func (e *RuleError) Unwrap() error { return e.Err }

// RulesError lists every bad rule in a list given to ParseRules, so that a
// user fixing a check's configuration sees all mistakes at once rather
// than one per save.
type RulesError struct {
	// Errors holds one entry per bad rule, in list order.
	Errors []*RuleError
}

// Error joins the messages of all bad rules with "; ", so a configuration
// form can show every problem in one line.
func (e *RulesError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, re := range e.Errors {
		msgs[i] = re.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual rule errors, for errors.Is and errors.As.
func (e *RulesError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, re := range e.Errors {
		errs[i] = re
	}
	return errs
}

// ParseRules parses a check's rules, one per entry, for validating a
// check's configuration. It parses every entry and, when any is bad,
// returns no rules and a *RulesError naming each bad rule by its index
// with its message, so nothing is half-applied. An empty or blank entry is an
// error, not skipped, so indexes always match what the user entered.
func ParseRules(lines []string) ([]*Rule, error) {
	rules := make([]*Rule, 0, len(lines))
	var bad []*RuleError
	for i, line := range lines {
		r, err := ParseRule(line)
		if err != nil {
			bad = append(bad, &RuleError{Index: i, Rule: line, Err: err})
			continue
		}
		rules = append(rules, r)
	}
	if len(bad) > 0 {
		return nil, &RulesError{Errors: bad}
	}
	return rules, nil
}

// formatNumber renders a computed value for a reason: plain decimals for
// everyday magnitudes, so a byte count reads as 1000000 rather than
// 1e+06, and short exponent form only for very large or small values.
func formatNumber(v float64) string {
	if v == 0 {
		return "0" // also for -0, which would only confuse
	}
	if a := math.Abs(v); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	return mant + "e" + sign + strings.TrimLeft(exp[1:], "0")
}
