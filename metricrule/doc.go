// Package metricrule catches silent failures: jobs that report success but
// did no useful work, such as a backup that "succeeds" while writing nothing.
//
// It sits in Nightjar's evaluation stage. A ping may carry metrics, either in
// the "m" query parameter ("?m=bytes:123456,rows:42", read by ParseQuery) or
// in a JSON body (read by ParseJSON). A heartbeat check may hold rules such as
// "bytes >= 1e6" or "rows >= 0.5 * previous"; ParseRules validates them when
// the check is saved. The heartbeat checks evaluate every rule on each success
// ping against that ping's metrics and the metrics of the previous successful
// ping, and a rule that fails turns the ping into a failure, with the rule's
// reason as the failure note, so it alerts like any other failed run.
//
// The package is pure: it does no I/O, reads no clock and keeps no state, so
// the same inputs always give the same verdict and it can be tested and
// fuzzed in isolation.
//
// # Rule grammar
//
//	rule    = expr cmp expr .
//	cmp     = "<" | "<=" | ">" | ">=" | "==" | "!=" .
//	expr    = term { ("+" | "-") term } .
//	term    = unary { ("*" | "/") unary } .
//	unary   = "-" unary | primary .
//	primary = number | name | quoted | "previous" | "previous." ( name | quoted ) | "(" expr ")" .
//	number  = decimal float literal without sign or underscores: 42, 0.5, .5, 1e6, 2.5E-3 .
//	name    = [a-zA-Z_][a-zA-Z0-9_.]* .
//	quoted  = `"` metric name `"` .
//
// A bare name refers to a metric of the current ping. Metric names may also
// contain "-", which in a rule would read as subtraction, so such names (and
// names that would read as the keyword previous) are written in double
// quotes: "disk-free" > 0. The word previous alone means the previous value
// of the metric on the left side, and is only allowed when the left side is
// a single metric name; previous.<name> means the previous value of any
// metric. Spaces, tabs and line breaks between tokens are ignored.
package metricrule
