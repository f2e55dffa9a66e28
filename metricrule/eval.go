package metricrule

import (
	"fmt"
	"math"
	"strings"
)

// Result is the verdict of one rule on one ping. Pass decides whether the
// success ping stays a success; Reason is shown to people in the ping log
// and in alerts, so it states the values compared, for example
//
//	bytes = 120 is not >= 0.5 * previous (= 1000000)
type Result struct {
	// Pass is true when the ping satisfies the rule.
	Pass bool
	// Reason says why, in a sentence fragment suitable for an alert.
	Reason string
}

// Eval judges a success ping: it checks the rule against the ping's metrics
// cur and the metrics of the previous successful ping prev, which is nil
// when there was none. It never panics and never returns an error, because
// a verdict is needed for every ping; anything that prevents a comparison
// becomes a Result with a reason.
//
// The cases, in the order they are decided:
//
//   - A metric of the current ping that the rule names is absent: the rule
//     fails with "metric bytes missing". A job that stops reporting what it
//     did is exactly the silent failure rules exist to catch.
//   - A previous value the rule needs is absent, because there was no
//     previous successful ping or it did not carry that metric: the rule
//     passes, saying there is nothing to compare with yet. Failing would
//     alert on the first run of every new check and whenever a job starts
//     reporting a new metric, with no sign of anything wrong; the next ping
//     is compared with this one.
//   - Division by zero, or arithmetic that leaves the float64 range: the
//     rule fails with a reason naming the expression, since no meaningful
//     comparison is possible and a silent pass could hide a broken job.
//   - Otherwise the two sides are compared exactly, so == and != are best
//     kept for whole numbers such as counts.
func (r *Rule) Eval(cur, prev Metrics) Result {
	if r == nil || r.lhs == nil || r.rhs == nil {
		return Result{Reason: "rule is empty"}
	}
	var missing, noPrevious []string
	for _, side := range []*node{r.lhs, r.rhs} {
		side.walk(func(n *node) {
			switch n.kind {
			case metricNode:
				if _, ok := cur[n.text]; !ok {
					missing = appendNew(missing, n.text)
				}
			case previousNode:
				if _, ok := prev[n.text]; !ok {
					noPrevious = appendNew(noPrevious, n.text)
				}
			}
		})
	}
	if len(missing) == 1 {
		return Result{Reason: "metric " + missing[0] + " missing"}
	}
	if len(missing) > 1 {
		return Result{Reason: "metrics " + strings.Join(missing, ", ") + " missing"}
	}
	if len(noPrevious) == 1 {
		return Result{Pass: true, Reason: "no previous value of " + noPrevious[0] + " to compare with yet"}
	}
	if len(noPrevious) > 1 {
		return Result{Pass: true, Reason: "no previous values of " + strings.Join(noPrevious, ", ") + " to compare with yet"}
	}
	a, err := r.lhs.eval(cur, prev)
	if err != nil {
		return Result{Reason: err.Error()}
	}
	b, err := r.rhs.eval(cur, prev)
	if err != nil {
		return Result{Reason: err.Error()}
	}
	pass := r.op.holds(a, b)
	var reason strings.Builder
	reason.WriteString(r.lhs.String())
	if !r.lhs.isLiteral() {
		reason.WriteString(" = " + formatNumber(a))
	}
	if pass {
		reason.WriteString(" is ")
	} else {
		reason.WriteString(" is not ")
	}
	reason.WriteString(r.op.String() + " " + r.rhs.String())
	if !r.rhs.isLiteral() {
		reason.WriteString(" (= " + formatNumber(b) + ")")
	}
	return Result{Pass: pass, Reason: reason.String()}
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// evalError is why an expression has no value.
type evalError string

func (e evalError) Error() string { return string(e) }

// eval computes n's value. Every metric it names is known to be present.
func (n *node) eval(cur, prev Metrics) (float64, error) {
	switch n.kind {
	case numberNode:
		return n.value, nil
	case metricNode:
		v := cur[n.text]
		if !finite(v) {
			return 0, evalError(fmt.Sprintf("metric %s is %v, not a finite number", n.text, v))
		}
		return v, nil
	case previousNode:
		v := prev[n.text]
		if !finite(v) {
			return 0, evalError(fmt.Sprintf("previous value of %s is %v, not a finite number", n.text, v))
		}
		return v, nil
	case negNode:
		x, err := n.x.eval(cur, prev)
		return -x, err
	}
	x, err := n.x.eval(cur, prev)
	if err != nil {
		return 0, err
	}
	y, err := n.y.eval(cur, prev)
	if err != nil {
		return 0, err
	}
	var v float64
	switch n.kind {
	case addNode:
		v = x + y
	case subNode:
		v = x - y
	case mulNode:
		v = x * y
	case divNode:
		if y == 0 {
			if n.y.isLiteral() {
				return 0, evalError("division by zero in " + n.String())
			}
			return 0, evalError("division by zero in " + n.String() + ": " + n.y.String() + " = 0")
		}
		v = x / y
	}
	if !finite(v) {
		return 0, evalError(n.String() + " is out of range")
	}
	return v, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
