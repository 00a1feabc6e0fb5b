package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/sluicedb/sluice"

// layers is the package table of docs/architecture.md, encoded once: a
// package may import only module packages in lower rows. "sinks/*" is any
// direct child of sinks; "test/..." is test and everything below it.
//
// Packages whose last element ends in "test" (cdc/cdctest, sinks/sinktest,
// test/sluicetest) are test helpers: they sit in their parent's row, may import their parent,
// and may be imported only by test files and by other helpers.
var layers = [][]string{
	0:  {"config", "shards", "engine/attr", "engine/invariants"},
	1:  {"engine/keycodec", "engine/expr", "cdc/event", "cdc/filter", "engine/internal/kv"},
	2:  {"engine/catalog"},
	3:  {"engine"},
	4:  {"engine/wire"},
	5:  {"engine/dynamoapi"},
	6:  {"cdc/bus"},
	7:  {"cdc"},
	8:  {"cdc/streamsapi"},
	9:  {"sinks"},
	10: {"sinks/*", "consumers/target"},
	11: {"consumers"},
	12: {"cmd/sluice"},
	13: {"test/..."},
}

// Rows named in the rules below.
const (
	rowWire = 4
)

// exclusive names the only package allowed to import an outside module's
// packages, from any file, tests included.
var exclusive = []struct{ prefix, owner string }{
	{"github.com/cockroachdb/pebble", "engine/internal/kv"},
	{"github.com/nats-io/nats-server", "cdc/bus"},
}

// goPackage is the part of `go list -json` output the tests read.
type goPackage struct {
	ImportPath     string
	Dir            string
	Name           string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	Imports        []string
	TestImports    []string
	XTestImports   []string
	Error          *struct{ Err string }
}

// rel is the package's path inside the module ("" for the root).
func (p *goPackage) rel() string {
	return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
}

var listed struct {
	once sync.Once
	pkgs []*goPackage
	err  error
}

// modulePackages runs `go list -e -json ./...` at the module root, once.
func modulePackages(t *testing.T) []*goPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	listed.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			listed.err = err
			return
		}
		cmd := exec.Command("go", "list", "-e", "-json", "./...")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			listed.err = fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
			return
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			p := new(goPackage)
			if err := dec.Decode(p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				listed.err = fmt.Errorf("decoding go list output: %w", err)
				return
			}
			listed.pkgs = append(listed.pkgs, p)
		}
	})
	if listed.err != nil {
		t.Fatal(listed.err)
	}
	return listed.pkgs
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// isHelper reports whether rel is a test helper package such as cdc/cdctest.
func isHelper(rel string) bool {
	base := path.Base(rel)
	return len(base) > len("test") && strings.HasSuffix(base, "test")
}

// row returns the table row of a module package, and false if the table
// does not name it.
func row(rel string) (int, bool) {
	if isHelper(rel) {
		return row(path.Dir(rel))
	}
	for r, pkgs := range layers {
		for _, pat := range pkgs {
			switch {
			case pat == rel:
				return r, true
			case strings.HasSuffix(pat, "/*"):
				dir := strings.TrimSuffix(pat, "/*")
				if path.Dir(rel) == dir {
					return r, true
				}
			case strings.HasSuffix(pat, "/..."):
				dir := strings.TrimSuffix(pat, "/...")
				if rel == dir || strings.HasPrefix(rel, dir+"/") {
					return r, true
				}
			}
		}
	}
	return 0, false
}

func hasPrefixPath(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// TestPackageTable checks every package's imports against the package table
// of docs/architecture.md.
func TestPackageTable(t *testing.T) {
	for _, p := range modulePackages(t) {
		if p.Error != nil {
			// Building reports it; the imports that did parse are still checked.
			t.Logf("%s does not load: %s", p.ImportPath, p.Error.Err)
		}
		for _, msg := range tableViolations(p) {
			t.Error(msg)
		}
	}
}

// tableViolations lists how p breaks the package table's rules.
func tableViolations(p *goPackage) []string {
	rel := p.rel()
	r, ok := row(rel)
	if !ok {
		return []string{fmt.Sprintf("package %s is not in the package table: add it to the table in cmd/sluice/deps_test.go AND to docs/architecture.md", rel)}
	}
	var errs []string
	check := func(kind string, imports []string, test bool) {
		for _, imp := range imports {
			for _, ex := range exclusive {
				if hasPrefixPath(imp, ex.prefix) && rel != ex.owner {
					errs = append(errs, fmt.Sprintf("%s (%s) imports %s: only %s may import %s", rel, kind, imp, ex.owner, ex.prefix))
				}
			}
			if hasPrefixPath(rel, "engine") && hasPrefixPath(imp, "github.com/nats-io") {
				errs = append(errs, fmt.Sprintf("%s (%s) imports %s: the engine never imports NATS", rel, kind, imp))
			}
			if !test && r < rowWire && hasPrefixPath(imp, "net/http") {
				errs = append(errs, fmt.Sprintf("%s imports %s: no package below engine/wire (row %d) imports net/http", rel, imp, rowWire))
			}
			if !hasPrefixPath(imp, module) {
				continue
			}
			irel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			switch {
			case irel == rel:
				continue // an external test importing its package
			case isHelper(irel):
				if !test && !isHelper(rel) {
					errs = append(errs, fmt.Sprintf("%s imports the test helper %s from a non-test file: helpers are for test files only", rel, irel))
				}
				continue
			case isHelper(rel) && irel == path.Dir(rel):
				continue // a helper builds on its parent
			}
			ir, ok := row(irel)
			if !ok {
				continue // reported where it is listed itself
			}
			if ir >= r {
				errs = append(errs, fmt.Sprintf("%s (row %d, %s) imports %s (row %d): a package may import only packages in lower rows; see docs/architecture.md",
					rel, r, kind, irel, ir))
			}
		}
	}
	check("non-test files", p.Imports, false)
	check("test files", p.TestImports, true)
	check("external test files", p.XTestImports, true)
	return errs
}

// TestPackageTableRules checks that the rules catch what they should.
func TestPackageTableRules(t *testing.T) {
	m := func(rel string) string { return module + "/" + rel }
	for _, tc := range []struct {
		name string
		p    goPackage
		want string // substring of the one violation; "" for none
	}{
		{"lower row", goPackage{ImportPath: m("engine"), Imports: []string{m("engine/catalog"), m("shards")}}, ""},
		{"same row", goPackage{ImportPath: m("engine/keycodec"), Imports: []string{m("cdc/event")}}, "lower rows"},
		{"higher row", goPackage{ImportPath: m("engine/attr"), Imports: []string{m("engine")}}, "lower rows"},
		{"higher row from a test", goPackage{ImportPath: m("engine/wire"), XTestImports: []string{m("engine/dynamoapi")}}, "lower rows"},
		{"helper from a test", goPackage{ImportPath: m("engine"), TestImports: []string{m("cdc/cdctest")}}, ""},
		{"helper from code", goPackage{ImportPath: m("cdc"), Imports: []string{m("cdc/cdctest")}}, "test files only"},
		{"helper on its parent", goPackage{ImportPath: m("sinks/sinktest"), Imports: []string{m("sinks")}}, ""},
		{"helper above its parent", goPackage{ImportPath: m("cdc/cdctest"), Imports: []string{m("cdc/streamsapi")}}, "lower rows"},
		{"pebble outside kv", goPackage{ImportPath: m("engine"), TestImports: []string{"github.com/cockroachdb/pebble/v2/vfs"}}, "only engine/internal/kv"},
		{"pebble in kv", goPackage{ImportPath: m("engine/internal/kv"), Imports: []string{"github.com/cockroachdb/pebble/v2"}}, ""},
		{"nats-server outside bus", goPackage{ImportPath: m("cdc"), Imports: []string{"github.com/nats-io/nats-server/v2/server"}}, "only cdc/bus"},
		{"nats in the engine", goPackage{ImportPath: m("engine/dynamoapi"), Imports: []string{"github.com/nats-io/nats.go"}}, "never imports NATS"},
		{"net/http below wire", goPackage{ImportPath: m("engine"), Imports: []string{"net/http"}}, "net/http"},
		{"httptest in a low test", goPackage{ImportPath: m("engine"), TestImports: []string{"net/http/httptest"}}, ""},
		{"net/http in wire", goPackage{ImportPath: m("engine/wire"), Imports: []string{"net/http"}}, ""},
		{"unknown package", goPackage{ImportPath: m("engine/newthing")}, "docs/architecture.md"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tableViolations(&tc.p)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("violations %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Errorf("violations %q, want one containing %q", got, tc.want)
			}
		})
	}
}

// TestPackageTableRows keeps the table's own shape honest.
func TestPackageTableRows(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		row  int
		ok   bool
		help bool
	}{
		{"config", 0, true, false},
		{"engine/internal/kv", 1, true, false},
		{"engine/catalog", 2, true, false},
		{"cdc/cdctest", 7, true, true},
		{"sinks/sinktest", 9, true, true},
		{"sinks/webhook", 10, true, false},
		{"test", 13, true, false},
		{"test/crash", 13, true, false},
		{"test/sluicetest", 13, true, true},
		{"engine/unknown", 0, false, false},
		{"", 0, false, false},
	} {
		r, ok := row(tc.rel)
		if r != tc.row || ok != tc.ok || isHelper(tc.rel) != tc.help {
			t.Errorf("row(%q) = %d, %v, helper %v; want %d, %v, helper %v",
				tc.rel, r, ok, isHelper(tc.rel), tc.row, tc.ok, tc.help)
		}
	}
}

// TestPackageDocs checks that every package introduces itself exactly once:
// one file carries a package doc comment, "Package <name> ..." ("Command
// <name> ..." for a command, as godoc expects).
func TestPackageDocs(t *testing.T) {
	fset := token.NewFileSet()
	for _, p := range modulePackages(t) {
		files := slices.Concat(p.GoFiles, p.CgoFiles, p.IgnoredGoFiles)
		if len(files) == 0 {
			continue // test files only: nothing for godoc to show
		}
		var with []string
		for _, name := range files {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Errorf("%s: %v", p.ImportPath, err)
				continue
			}
			if f.Doc == nil {
				continue
			}
			with = append(with, name)
			want := "Package " + f.Name.Name + " "
			if f.Name.Name == "main" {
				want = "Command " + path.Base(p.ImportPath) + " "
			}
			if text := f.Doc.Text(); !strings.HasPrefix(text, want) {
				t.Errorf("%s: the package doc in %s starts %q; want %q",
					p.ImportPath, name, firstLine(text), want+"...")
			}
		}
		switch len(with) {
		case 0:
			t.Errorf("%s has no package doc comment: add a doc.go", p.ImportPath)
		case 1:
		default:
			t.Errorf("%s has %d package doc comments (%s); keep exactly one, in doc.go",
				p.ImportPath, len(with), strings.Join(with, ", "))
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
