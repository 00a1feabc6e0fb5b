package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata files")

// The testdata files hold cases of the form
//
//	command key=value ...
//	expression (one or more lines)
//	----
//	expected output
//
// separated by blank lines; lines starting with # between cases are
// comments. Values of item=, names= and values= are JSON (items and values
// in DynamoDB JSON). Commands:
//
//	eval     [kind=filter] item= names= values=    condition result
//	parse    kind=condition|filter|update|projection|key names= values=   String() of the tree
//	update   item= names= values=                  new item and touched paths
//	project  item= names=                          projected item
//	key      names= values= hash= hashtype= range= rangetype=   bound key range
//	unused   names= values=                        lines "kind: expression"; CheckUnused result
func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue // testdata/fuzz holds fuzz corpora
		}
		t.Run(filepath.Base(f), func(t *testing.T) { runFile(t, f) })
	}
}

type ddCase struct {
	cmd      string
	args     map[string]string
	input    string
	expected string
}

func runFile(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			i++
			continue
		}
		start := i
		c := ddCase{}
		c.cmd, c.args = parseCmd(t, path, i+1, line)
		i++
		var in []string
		for i < len(lines) && lines[i] != "----" {
			in = append(in, lines[i])
			i++
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: missing ----", path, start+1)
		}
		i++
		var exp []string
		for i < len(lines) && lines[i] != "" {
			exp = append(exp, lines[i])
			i++
		}
		c.input = strings.Join(in, "\n")
		c.expected = strings.Join(exp, "\n")
		got := strings.TrimRight(runCase(t, c), "\n")
		if !*rewrite && got != c.expected {
			t.Errorf("%s:%d: %s\n%s\nexpected:\n%s\ngot:\n%s", path, start+1, line, c.input, c.expected, got)
		}
		out.WriteString(line + "\n" + c.input + "\n----\n" + got + "\n")
	}
	if *rewrite {
		s := strings.TrimRight(out.String(), "\n") + "\n"
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// parseCmd splits "cmd k=v k={json with spaces}".
func parseCmd(t *testing.T, path string, line int, s string) (string, map[string]string) {
	args := map[string]string{}
	cmd, rest, _ := strings.Cut(s, " ")
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("%s:%d: bad argument %q", path, line, rest)
		}
		end := len(v)
		if strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			end = jsonEnd(v)
		} else if j := strings.IndexByte(v, ' '); j >= 0 {
			end = j
		}
		args[k] = v[:end]
		rest = v[end:]
	}
	return cmd, args
}

// jsonEnd returns the length of the JSON object or array at the start of s.
func jsonEnd(s string) int {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

func runCase(t *testing.T, c ddCase) string {
	names := Names{}
	if s := c.args["names"]; s != "" {
		if err := json.Unmarshal([]byte(s), &names); err != nil {
			t.Fatalf("names: %v", err)
		}
	}
	values := Values{}
	if s := c.args["values"]; s != "" {
		var it attr.Item
		if err := it.UnmarshalJSON([]byte(s)); err != nil {
			t.Fatalf("values: %v", err)
		}
		if err := attr.ValidateItem(it); err != nil {
			t.Fatalf("values: %v", err)
		}
		for k, v := range it {
			values[k] = v
		}
	}
	var item attr.Item
	if s := c.args["item"]; s != "" {
		if err := item.UnmarshalJSON([]byte(s)); err != nil {
			t.Fatalf("item: %v", err)
		}
		if err := attr.ValidateItem(item); err != nil {
			t.Fatalf("item: %v", err)
		}
	}
	before := string(attr.AppendItemJSON(nil, item))
	defer func() {
		if after := string(attr.AppendItemJSON(nil, item)); after != before {
			t.Errorf("input item modified: %s -> %s", before, after)
		}
	}()
	kind := map[string]Kind{"": KindCondition, "condition": KindCondition, "filter": KindFilter,
		"update": KindUpdate, "projection": KindProjection, "key": KindKeyCondition}[c.args["kind"]]
	switch c.cmd {
	case "eval":
		cond, err := ParseCondition(kind, c.input, names, values)
		if err != nil {
			return errText(err)
		}
		ok, err := cond.Eval(item)
		if err != nil {
			return errText(err)
		}
		return fmt.Sprint(ok)
	case "parse":
		s, err := parseAny(kind, c.input, names, values)
		if err != nil {
			return errText(err)
		}
		return s
	case "update":
		u, err := ParseUpdate(c.input, names, values)
		if err != nil {
			return errText(err)
		}
		got, err := u.Apply(item)
		if err != nil {
			return errText(err)
		}
		return string(attr.AppendItemJSON(nil, got)) + "\nupdated_old: " +
			string(attr.AppendItemJSON(nil, ProjectPaths(item, u.Paths()))) + "\nupdated_new: " +
			string(attr.AppendItemJSON(nil, ProjectPaths(got, u.Paths())))
	case "project":
		p, err := ParseProjection(c.input, names)
		if err != nil {
			return errText(err)
		}
		return string(attr.AppendItemJSON(nil, p.Project(item)))
	case "key":
		k, err := ParseKeyCondition(c.input, names, values)
		if err != nil {
			return errText(err)
		}
		s := KeySchema{Hash: c.args["hash"], Range: c.args["range"],
			HashType: typeByName(c.args["hashtype"]), RangeType: typeByName(c.args["rangetype"]),
			Partition: keyAttrs(c.args["partition"]), Sort: keyAttrs(c.args["sort"])}
		kr, err := k.Bind(s)
		if err != nil {
			return errText(err)
		}
		out := fmt.Sprintf("hash %s = %s", kr.HashName, attr.AppendJSON(nil, kr.HashValue))
		for i, v := range kr.HashValues {
			out += fmt.Sprintf("\nhash %s = %s", s.Partition[i].Name, attr.AppendJSON(nil, v))
		}
		for i, v := range kr.SortEq {
			out += fmt.Sprintf("\nsort %s = %s", s.Sort[i].Name, attr.AppendJSON(nil, v))
		}
		if kr.Range != nil {
			out += fmt.Sprintf("\nrange %s %s", kr.Range.Name, kr.Range.Op)
			for _, v := range kr.Range.Values {
				out += " " + string(attr.AppendJSON(nil, v))
			}
		}
		return out
	case "unused":
		var used []Usage
		for _, l := range strings.Split(c.input, "\n") {
			k, s, _ := strings.Cut(l, ": ")
			kind := map[string]Kind{"condition": KindCondition, "filter": KindFilter, "update": KindUpdate,
				"projection": KindProjection, "key": KindKeyCondition}[k]
			u, err := usageOf(kind, s, names, values)
			if err != nil {
				return errText(err)
			}
			used = append(used, u)
		}
		if err := CheckUnused(names, values, used...); err != nil {
			return errText(err)
		}
		return "ok"
	}
	t.Fatalf("unknown command %q", c.cmd)
	return ""
}

// keyAttrs parses a multi-attribute key's attributes, "a:S,b:N" (nil for
// "").
func keyAttrs(s string) []KeyAttr {
	if s == "" {
		return nil
	}
	var out []KeyAttr
	for _, a := range strings.Split(s, ",") {
		name, typ, _ := strings.Cut(a, ":")
		out = append(out, KeyAttr{Name: name, Type: typeByName(typ)})
	}
	return out
}

func typeByName(s string) attr.Type {
	for t := attr.TypeS; t <= attr.TypeBS; t++ {
		if t.String() == s {
			return t
		}
	}
	return attr.TypeInvalid
}

func errText(err error) string {
	var ae *attr.Error
	if !errors.As(err, &ae) || !errors.Is(err, attr.ErrValidation) {
		return "unexpected error type: " + err.Error()
	}
	return "error: " + ae.Msg
}

// parseAny parses s as kind and returns its String().
func parseAny(kind Kind, s string, names Names, values Values) (string, error) {
	switch kind {
	case KindUpdate:
		u, err := ParseUpdate(s, names, values)
		if err != nil {
			return "", err
		}
		return u.String(), nil
	case KindProjection:
		p, err := ParseProjection(s, names)
		if err != nil {
			return "", err
		}
		return p.String(), nil
	case KindKeyCondition:
		k, err := ParseKeyCondition(s, names, values)
		if err != nil {
			return "", err
		}
		return k.String(), nil
	}
	c, err := ParseCondition(kind, s, names, values)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

func usageOf(kind Kind, s string, names Names, values Values) (Usage, error) {
	switch kind {
	case KindUpdate:
		u, err := ParseUpdate(s, names, values)
		if err != nil {
			return Usage{}, err
		}
		return u.Used(), nil
	case KindProjection:
		p, err := ParseProjection(s, names)
		if err != nil {
			return Usage{}, err
		}
		return p.Used(), nil
	case KindKeyCondition:
		k, err := ParseKeyCondition(s, names, values)
		if err != nil {
			return Usage{}, err
		}
		return k.Used(), nil
	}
	c, err := ParseCondition(kind, s, names, values)
	if err != nil {
		return Usage{}, err
	}
	return c.Used(), nil
}
