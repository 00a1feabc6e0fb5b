package difftest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// step is one request of a scenario file and what is expected of it.
type step struct {
	file string // base name, for reports
	line int    // line of the "request" line
	op   string // operation, after "DynamoDB_20120810."
	body string
	// expectDiff is the reason the responses are known to differ; "" means
	// they must agree.
	expectDiff string
	unordered  []string // top-level lists compared as multisets
}

func (s step) String() string { return fmt.Sprintf("%s:%d %s", s.file, s.line, s.op) }

// parseFile reads a scenario file.
func parseFile(path string) ([]step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(filepath.Base(path), f)
}

// parse reads scenario blocks (see the package documentation) from r. name
// is used in reports and errors.
func parse(name string, r io.Reader) ([]step, error) {
	var (
		steps []step
		cur   *step
		body  []string
		state = "between" // between blocks, in a "body", or in "directives"
		n     int
	)
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, args...))
	}
	finish := func() {
		if cur != nil {
			steps = append(steps, *cur)
			cur = nil
		}
		state = "between"
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		switch state {
		case "between":
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "request "):
				op := strings.TrimSpace(strings.TrimPrefix(line, "request "))
				if op == "" || strings.ContainsAny(op, " \t") {
					return nil, errorf("want %q, got %q", "request <Operation>", line)
				}
				cur = &step{file: name, line: n, op: op}
				body = body[:0]
				state = "body"
			default:
				return nil, errorf("want a %q line, a comment or a blank line, got %q", "request <Operation>", line)
			}
		case "body":
			if line == "----" {
				if len(body) == 0 {
					return nil, errorf("request %s has no body (send {} for none)", cur.op)
				}
				cur.body = strings.Join(body, "\n")
				state = "directives"
				continue
			}
			if line == "" || strings.HasPrefix(line, "request ") {
				return nil, errorf("request %s: body not closed by ----", cur.op)
			}
			body = append(body, line)
		case "directives":
			if line == "" {
				finish()
				continue
			}
			if strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(line, "request ") {
				return nil, errorf("separate blocks with a blank line")
			}
			key, val, ok := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			switch {
			case !ok:
				return nil, errorf("want a directive (expect-diff: or unordered:), got %q", line)
			case key == "expect-diff":
				if val == "" {
					return nil, errorf("expect-diff needs a reason")
				}
				if cur.expectDiff != "" {
					cur.expectDiff += "; "
				}
				cur.expectDiff += val
			case key == "unordered":
				if val == "" || strings.ContainsAny(val, " \t") {
					return nil, errorf("unordered takes one top-level key, got %q", val)
				}
				cur.unordered = append(cur.unordered, val)
			default:
				return nil, errorf("unknown directive %q", key)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if state == "body" {
		return nil, errorf("request %s: body not closed by ----", cur.op)
	}
	finish()
	return steps, nil
}

var arnRE = regexp.MustCompile(`\$ARN\(([^)]*)\)`)

// expand replaces $ARN(name) by arns[name] and then $P by prefix. A name
// without a known ARN is an error: the scenario must create or describe the
// table first.
func expand(body, prefix string, arns map[string]string) (string, error) {
	var missing []string
	body = arnRE.ReplaceAllStringFunc(body, func(m string) string {
		name := strings.ReplaceAll(arnRE.FindStringSubmatch(m)[1], "$P", prefix)
		arn, ok := arns[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return arn
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no ARN known for table %q yet: create or describe it first", missing)
	}
	return strings.ReplaceAll(body, "$P", prefix), nil
}
