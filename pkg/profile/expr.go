package profile

import (
	"fmt"
	"regexp"
	"strings"
)

// The expression language of conditions and option values. A Pratt parser: each binary operator
// has a binding power, prefix operators parse their operand at their own power.
//
// Binding powers, loosest first: or, and, not, comparisons (non-associative), + -, * /,
// unary + -, ** (right-associative). Unary minus binds tighter than * and +, as in arithmetic:
// `-1 + 2` is 1. The original bound it looser than + and * (`-1 + 2` was −3); Parse flags such
// expressions (Expr.MinusQuirk) so validation can warn (docs/compat.md).

// Expr is a parsed expression.
type Expr struct {
	Source string
	root   node
	// MinusQuirk is set when an unparenthesised unary minus is followed by a binary + or -:
	// the original software gave such expressions another value.
	MinusQuirk bool
}

type node interface{}

type (
	numLit  struct{ v float64 }
	boolLit struct{ v bool }
	nameRef struct{ name string }
	call    struct{ fn string }
	// lookup is <unit>:<job>:<setting>[.key…]; an empty unit means the current unit, and
	// unitFn/jobFn mark `unit()` / `job_name()` standing for them.
	lookup struct {
		unit, job, setting string
		keys               []string
		unitFn, jobFn      bool
		text               string
	}
	unary struct {
		op string
		x  node
	}
	binary struct {
		op   string
		l, r node
	}
)

// Functions known to the language; any other `name()` is a syntax error.
var functions = map[string]bool{"random": true, "unit": true, "experiment": true, "job_name": true, "hours_elapsed": true}

type token struct {
	kind string // num, name, func, lookup, op, eof
	text string
	pos  int
}

var (
	numberRe = regexp.MustCompile(`^(\d*\.\d+|\d+)`)
	funcRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\(\)`)
	seg      = `[A-Za-z_$][A-Za-z0-9_$\-]*(?:\(\))?`
	lookupRe = regexp.MustCompile(`^(?:(` + seg + `):|::)(` + seg + `):([A-Za-z_$][A-Za-z0-9_$\-]*)((?:\.[A-Za-z0-9_$\-]+)*)`)
	nameRe   = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*`)
	ops      = []string{"**", "<=", ">=", "==", "+", "-", "*", "/", "<", ">", "(", ")"}
)

// SyntaxError is a malformed expression; Pos is the byte offset in the source.
type SyntaxError struct {
	Source string
	Pos    int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error in %q at column %d: %s", e.Source, e.Pos+1, e.Msg)
}

func lex(src string) ([]token, error) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		rest := src[i:]
		switch {
		case c == ' ' || c == '\t':
			i++
			continue
		case c == '"' || c == '\'':
			return nil, &SyntaxError{src, i, "quoted strings are not supported: write the bare word (x == ready)"}
		}
		if m := lookupRe.FindString(rest); m != "" {
			out = append(out, token{"lookup", m, i})
			i += len(m)
			continue
		}
		if m := numberRe.FindString(rest); m != "" {
			if len(rest) > len(m) && (isNameChar(rest[len(m)]) || rest[len(m)] == '.') {
				return nil, &SyntaxError{src, i, fmt.Sprintf("malformed number %q", rest[:len(m)+1])}
			}
			out = append(out, token{"num", m, i})
			i += len(m)
			continue
		}
		if m := funcRe.FindString(rest); m != "" {
			out = append(out, token{"func", strings.TrimSuffix(m, "()"), i})
			i += len(m)
			continue
		}
		if m := nameRe.FindString(rest); m != "" {
			out = append(out, token{"name", m, i})
			i += len(m)
			continue
		}
		matched := false
		for _, op := range ops {
			if strings.HasPrefix(rest, op) {
				out = append(out, token{"op", op, i})
				i += len(op)
				matched = true
				break
			}
		}
		if !matched {
			return nil, &SyntaxError{src, i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return append(out, token{"eof", "", len(src)}), nil
}

func isNameChar(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Binding powers of binary operators; comparisons are non-associative.
var infix = map[string]int{"or": 10, "and": 20, "<": 40, "<=": 40, "==": 40, ">=": 40, ">": 40,
	"+": 50, "-": 50, "*": 60, "/": 60, "**": 80}

const (
	bpNot   = 30
	bpCmp   = 40
	bpUnary = 70
	bpPow   = 80
)

type parser struct {
	src   string
	toks  []token
	i     int
	quirk bool
}

// Parse parses an expression (without the ${{ }} wrapper).
func Parse(src string) (*Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	if p.peek().kind == "eof" {
		return nil, &SyntaxError{src, 0, "empty expression"}
	}
	root, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, &SyntaxError{src, t.pos, fmt.Sprintf("unexpected %q", t.text)}
	}
	return &Expr{Source: src, root: root, MinusQuirk: p.quirk}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

// binop is the operator a token would be in infix position ("" if none).
func binop(t token) string {
	switch {
	case t.kind == "op" && t.text != "(" && t.text != ")":
		return t.text
	case t.kind == "name" && (t.text == "and" || t.text == "or"):
		return t.text
	}
	return ""
}

func (p *parser) expr(minBP int) (node, error) {
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := binop(t)
		bp, ok := infix[op]
		if !ok || bp <= minBP {
			return left, nil
		}
		p.next()
		rbp := bp
		if op == "**" {
			rbp = bpPow - 1 // right-associative: a following ** still binds
		}
		right, err := p.expr(rbp)
		if err != nil {
			return nil, err
		}
		if bp == bpCmp {
			if n := p.peek(); infix[binop(n)] == bpCmp {
				return nil, &SyntaxError{p.src, n.pos, "comparisons cannot be chained: use and"}
			}
		}
		left = binary{op, left, right}
	}
}

func (p *parser) prefix() (node, error) {
	t := p.next()
	switch t.kind {
	case "eof":
		return nil, &SyntaxError{p.src, t.pos, "unexpected end of expression"}
	case "num":
		var f float64
		if _, err := fmt.Sscan(t.text, &f); err != nil {
			return nil, &SyntaxError{p.src, t.pos, "bad number " + t.text}
		}
		return numLit{f}, nil
	case "func":
		if !functions[t.text] {
			return nil, &SyntaxError{p.src, t.pos, fmt.Sprintf("unknown function %s()", t.text)}
		}
		return call{t.text}, nil
	case "lookup":
		return parseLookup(p.src, t)
	case "name":
		switch strings.ToLower(t.text) {
		case "true":
			return boolLit{true}, nil
		case "false":
			return boolLit{false}, nil
		}
		switch t.text {
		case "not":
			x, err := p.expr(bpNot)
			if err != nil {
				return nil, err
			}
			return unary{"not", x}, nil
		case "and", "or":
			return nil, &SyntaxError{p.src, t.pos, fmt.Sprintf("%q needs a left operand", t.text)}
		}
		return nameRef{t.text}, nil
	case "op":
		switch t.text {
		case "(":
			x, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.text != ")" || c.kind != "op" {
				return nil, &SyntaxError{p.src, c.pos, "missing )"}
			}
			return x, nil
		case "-", "+":
			x, err := p.expr(bpUnary)
			if err != nil {
				return nil, err
			}
			if t.text == "-" {
				if op := binop(p.peek()); op == "+" || op == "-" {
					p.quirk = true
				}
			}
			return unary{t.text, x}, nil
		}
	}
	return nil, &SyntaxError{p.src, t.pos, fmt.Sprintf("unexpected %q", t.text)}
}

func parseLookup(src string, t token) (node, error) {
	m := lookupRe.FindStringSubmatch(t.text)
	l := lookup{unit: m[1], job: m[2], setting: m[3], text: t.text}
	if strings.HasSuffix(l.unit, "()") {
		if l.unit != "unit()" {
			return nil, &SyntaxError{src, t.pos, fmt.Sprintf("only unit() may stand for the unit, not %s", l.unit)}
		}
		l.unit, l.unitFn = "", true
	}
	if strings.HasSuffix(l.job, "()") {
		if l.job != "job_name()" {
			return nil, &SyntaxError{src, t.pos, fmt.Sprintf("only job_name() may stand for the job, not %s", l.job)}
		}
		l.job, l.jobFn = "", true
	}
	if m[4] != "" {
		l.keys = strings.Split(m[4][1:], ".")
	}
	return l, nil
}

// Unwrap strips a ${{ … }} wrapper around the whole of s, reporting whether there was one.
func Unwrap(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "${{") && strings.HasSuffix(t, "}}") && strings.Count(t, "${{") == 1 {
		return strings.TrimSpace(t[3 : len(t)-2]), true
	}
	return s, false
}

var embedded = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// Embedded lists the expressions embedded in a log message.
func Embedded(msg string) []string {
	var out []string
	for _, m := range embedded.FindAllStringSubmatch(msg, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}
