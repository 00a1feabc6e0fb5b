package dynamoapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

// TestGolden replays testdata/*.txt: each file is a sequence of requests,
// each followed by the expected response, with table ids normalized:
//
//	> CreateTable
//	{...request JSON...}
//	< 200
//	{...response JSON, indented...}
//
// Regenerate with go test ./engine/dynamoapi -run TestGolden -rewrite and
// review the diff as code.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h := newHarness(t)
			var out strings.Builder
			for _, blk := range strings.Split(string(b), "\n> ")[1:] {
				op, rest, _ := strings.Cut(blk, "\n")
				reqText, _, _ := strings.Cut(rest, "\n< ")
				reqText = strings.TrimSpace(reqText)
				r := h.call(op, reqText)
				out.WriteString("\n> " + op + "\n" + reqText + "\n< " + itoaStatus(r.status) + "\n" + normalize(t, r.raw) + "\n")
			}
			got := "# Requests and their responses; see TestGolden.\n" + out.String()
			if *rewrite {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(b) {
				t.Errorf("%s differs; run with -rewrite and review the diff. Got:\n%s", file, got)
			}
		})
	}
}

var uuidRE = regexp.MustCompile(`"TableId": "[0-9a-f-]{36}"`)

// normalize indents a response and replaces what differs between runs.
func normalize(t *testing.T, raw string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(raw), "", "  "); err != nil {
		t.Fatalf("response %q: %v", raw, err)
	}
	return uuidRE.ReplaceAllString(buf.String(), `"TableId": "<uuid>"`)
}

func itoaStatus(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
