package metricrule

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRule parses one rule such as "bytes >= 0.5 * previous" (see the
// package documentation for the grammar). Checks call it when their
// configuration is saved, so that every mistake is reported to the person
// writing the rule instead of surfacing later as a puzzling alert.
//
// Errors are *SyntaxError values that give the 1-based column and what was
// expected there, such as
//
//	at 10: expected a number, metric name or "previous", got end of rule
//
// Besides syntax, ParseRule rejects rules longer than MaxRuleLen
// characters (spaces not counted) or nested deeper than MaxRuleDepth,
// numbers out of float64 range, the bare word previous anywhere but on the
// right of a single metric name, and rules that name no metric at all,
// since those compare constants and can never catch anything.
func ParseRule(s string) (*Rule, error) {
	if len(s) > maxRawRuleLen {
		return nil, &SyntaxError{Pos: maxRawRuleLen + 1, Msg: fmt.Sprintf("rule is longer than %d characters", maxRawRuleLen)}
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			continue
		}
		if n++; n > MaxRuleLen {
			return nil, &SyntaxError{Pos: i + 1, Msg: fmt.Sprintf("rule is longer than %d characters, not counting spaces", MaxRuleLen)}
		}
	}
	if n == 0 {
		return nil, &SyntaxError{Pos: 1, Msg: `rule is empty; expected a comparison such as "rows > 0"`}
	}
	p := &parser{src: s}
	return p.parseRule()
}

// tokenKind says what a token is.
type tokenKind uint8

const (
	tokEOF      tokenKind = iota
	tokNumber             // a decimal literal; value holds it
	tokName               // a metric name, bare or quoted; name holds it
	tokPrevious           // previous or previous.<name>; name is "" for the bare word
	tokPunct              // + - * / ( )
	tokCompare            // < <= > >= == !=
)

type token struct {
	kind  tokenKind
	pos   int    // 1-based column of the first byte
	text  string // the source text
	name  string
	value float64
}

// describe says what the token is, for "got ..." in messages.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "end of rule"
	}
	return quote(t.text)
}

// parser is a recursive-descent parser with a one-token lookahead.
type parser struct {
	src   string
	off   int   // byte offset of the next unread character
	tok   token // the current token
	depth int   // current nesting of parentheses and unary minus
	// onRight is set once the comparison has been read.
	onRight bool
	// lhsName is the left side's metric when the left side is a single
	// metric name, which the bare word previous then refers to.
	lhsName string
	// named is set when any metric, current or previous, is referenced.
	named bool
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseRule() (*Rule, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	lhs, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokCompare {
		return nil, p.errorf(p.tok.pos, "expected an operator or a comparison (<, <=, >, >=, == or !=), got %s", p.tok.describe())
	}
	op := compareOps[p.tok.text]
	if lhs.kind == metricNode {
		p.lhsName = lhs.text
	}
	p.onRight = true
	if err := p.next(); err != nil {
		return nil, err
	}
	rhs, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	switch p.tok.kind {
	case tokEOF:
	case tokCompare:
		return nil, p.errorf(p.tok.pos, "expected an operator or end of rule, got %s; a rule has exactly one comparison", p.tok.describe())
	default:
		return nil, p.errorf(p.tok.pos, "expected an operator or end of rule, got %s", p.tok.describe())
	}
	if !p.named {
		return nil, p.errorf(1, `rule names no metric; expected at least one metric name or "previous"`)
	}
	return &Rule{lhs: lhs, op: op, rhs: rhs}, nil
}

var compareOps = map[string]cmpOp{"<": opLT, "<=": opLE, ">": opGT, ">=": opGE, "==": opEQ, "!=": opNE}

// parseExpr parses: term { ("+" | "-") term }.
func (p *parser) parseExpr() (*node, error) {
	x, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokPunct && (p.tok.text == "+" || p.tok.text == "-") {
		kind := addNode
		if p.tok.text == "-" {
			kind = subNode
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		x = &node{kind: kind, x: x, y: y}
	}
	return x, nil
}

// parseTerm parses: unary { ("*" | "/") unary }.
func (p *parser) parseTerm() (*node, error) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokPunct && (p.tok.text == "*" || p.tok.text == "/") {
		kind := mulNode
		if p.tok.text == "/" {
			kind = divNode
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		y, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		x = &node{kind: kind, x: x, y: y}
	}
	return x, nil
}

// parseUnary parses: "-" unary | primary.
func (p *parser) parseUnary() (*node, error) {
	if p.tok.kind != tokPunct || p.tok.text != "-" {
		return p.parsePrimary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	p.depth--
	return &node{kind: negNode, x: x}, nil
}

// parsePrimary parses a number, a metric, a previous value or a
// parenthesized expression.
func (p *parser) parsePrimary() (*node, error) {
	t := p.tok
	var n *node
	switch {
	case t.kind == tokNumber:
		n = &node{kind: numberNode, value: t.value, text: t.text}
	case t.kind == tokName:
		p.named = true
		n = &node{kind: metricNode, text: t.name}
	case t.kind == tokPrevious && t.name != "":
		p.named = true
		n = &node{kind: previousNode, text: t.name}
	case t.kind == tokPrevious:
		if !p.onRight {
			return nil, p.errorf(t.pos, `"previous" alone is only allowed on the right side; expected previous.<name> here`)
		}
		if p.lhsName == "" {
			return nil, p.errorf(t.pos, `"previous" alone needs a single metric name on the left side; expected previous.<name> here`)
		}
		p.named = true
		n = &node{kind: previousNode, text: p.lhsName, bare: true}
	case t.kind == tokPunct && t.text == "(":
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		x, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokPunct || p.tok.text != ")" {
			return nil, p.errorf(p.tok.pos, `expected an operator or ")" to close the "(" at %d, got %s`, t.pos, p.tok.describe())
		}
		p.depth--
		n = x
	default:
		return nil, p.errorf(t.pos, `expected a number, metric name or "previous", got %s`, t.describe())
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	return n, nil
}

// enter records one more level of nesting at the current token.
func (p *parser) enter() error {
	if p.depth++; p.depth > MaxRuleDepth {
		return p.errorf(p.tok.pos, "expression is nested more than %d levels deep", MaxRuleDepth)
	}
	return nil
}

// next reads the next token into p.tok.
func (p *parser) next() error {
	for p.off < len(p.src) && isSpace(p.src[p.off]) {
		p.off++
	}
	start := p.off
	p.tok = token{pos: start + 1}
	if start >= len(p.src) {
		p.tok.kind = tokEOF
		return nil
	}
	c := p.src[start]
	switch {
	case isDigit(c) || c == '.' && start+1 < len(p.src) && isDigit(p.src[start+1]):
		return p.lexNumber()
	case isLetter(c) || c == '_':
		return p.lexWord()
	case c == '"':
		name, err := p.lexQuoted()
		if err != nil {
			return err
		}
		p.tok.kind, p.tok.name = tokName, name
	case strings.IndexByte("+-*/()", c) >= 0:
		p.tok.kind = tokPunct
		p.off++
	case c == '<' || c == '>':
		p.tok.kind = tokCompare
		p.off++
		if p.off < len(p.src) && p.src[p.off] == '=' {
			p.off++
		}
	case (c == '=' || c == '!') && start+1 < len(p.src) && p.src[start+1] == '=':
		p.tok.kind = tokCompare
		p.off += 2
	case c == '=':
		return p.errorf(start+1, `expected a comparison such as ==, <= or >=, got a single "="`)
	case c == '!':
		return p.errorf(start+1, `expected != to compare for inequality, got a single "!"`)
	default:
		return p.errorf(start+1, "unexpected character %s; expected a number, metric name, operator or parenthesis", quoteByteAt(p.src, start))
	}
	p.tok.text = p.src[start:p.off]
	return nil
}

// lexNumber reads a decimal literal. Letters, digits, "_" or "." glued to
// it make the whole word an invalid number, so that 0x10, 1_000 and 1.2.3
// are reported as such rather than as a number followed by a name.
func (p *parser) lexNumber() error {
	start := p.off
	end, ok := scanDecimal(p.src, start)
	word := end
	for word < len(p.src) && isBareChar(p.src[word]) {
		word++
	}
	if !ok || word != end {
		return p.errorf(start+1, "invalid number %s; expected a decimal such as 42, 0.5 or 1e6", quote(p.src[start:word]))
	}
	text := p.src[start:end]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return p.errorf(start+1, "number %s is out of range", quote(text))
	}
	p.off = end
	p.tok.kind, p.tok.text, p.tok.value = tokNumber, text, v
	return nil
}

// lexWord reads a bare metric name or the keyword previous, possibly
// followed by ".<name>".
func (p *parser) lexWord() error {
	start := p.off
	for p.off < len(p.src) && isBareChar(p.src[p.off]) {
		p.off++
	}
	word := p.src[start:p.off]
	defer func() { p.tok.text = p.src[start:p.off] }()
	if word == "previous" {
		p.tok.kind = tokPrevious
		return nil
	}
	if rest, ok := strings.CutPrefix(word, "previous."); ok {
		p.tok.kind = tokPrevious
		if rest == "" {
			if p.off >= len(p.src) || p.src[p.off] != '"' {
				return p.errorf(p.off+1, `expected a metric name after "previous.", got %s`, quoteByteAt(p.src, p.off))
			}
			name, err := p.lexQuoted()
			p.tok.name = name
			return err
		}
		if err := checkName(rest); err != nil {
			return p.errorf(start+len("previous.")+1, "%v", err)
		}
		p.tok.name = rest
		return nil
	}
	if err := checkName(word); err != nil {
		return p.errorf(start+1, "%v", err)
	}
	p.tok.kind, p.tok.name = tokName, word
	return nil
}

// lexQuoted reads a metric name in double quotes, the way to write names
// that contain "-" or that would read as the keyword previous.
func (p *parser) lexQuoted() (string, error) {
	open := p.off
	end := strings.IndexByte(p.src[open+1:], '"')
	if end < 0 {
		return "", p.errorf(open+1, `expected a closing '"' for the metric name, got end of rule`)
	}
	name := p.src[open+1 : open+1+end]
	p.off = open + 1 + end + 1
	if err := checkName(name); err != nil {
		return "", p.errorf(open+2, "%v", err)
	}
	return name, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
