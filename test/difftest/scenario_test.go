package difftest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need neither Java nor a server: they run in `make test`.

func TestParse(t *testing.T) {
	in := `# comment

request PutItem
{"TableName":"$Pt",
 "Item":{"pk":{"S":"a"}}}
----
expect-diff: because
unordered: Items

request GetItem
{}
----
`
	steps, err := parse("x.txt", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 {
		t.Fatalf("got %d steps, want 2", len(steps))
	}
	s := steps[0]
	if s.op != "PutItem" || s.line != 3 || s.expectDiff != "because" || len(s.unordered) != 1 || s.unordered[0] != "Items" ||
		s.body != "{\"TableName\":\"$Pt\",\n \"Item\":{\"pk\":{\"S\":\"a\"}}}" {
		t.Errorf("step 0: %+v", s)
	}
	if s := steps[1]; s.op != "GetItem" || s.body != "{}" || s.expectDiff != "" || s.String() != "x.txt:10 GetItem" {
		t.Errorf("step 1: %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PutItem\n{}\n----\n", `x.txt:1: want a "request <Operation>" line`},
		{"request PutItem\n{}\n", "x.txt:2: request PutItem: body not closed"},
		{"request PutItem\n----\n", "has no body"},
		{"request PutItem\n{}\n----\nexpect-diff:\n", "expect-diff needs a reason"},
		{"request PutItem\n{}\n----\nwant: x\n", `unknown directive "want"`},
		{"request PutItem\n{}\n----\nrequest GetItem\n", "separate blocks with a blank line"},
	} {
		_, err := parse("x.txt", strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// TestCorpusParses keeps the scenario files valid even where no Java is.
func TestCorpusParses(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	pending, _ := filepath.Glob("testdata/pending/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	for _, f := range append(files, pending...) {
		steps, err := parseFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, s := range steps {
			if strings.HasPrefix(s.expectDiff, "sluice bug") && !strings.HasPrefix(s.expectDiff, "sluice bug: ") &&
				!strings.HasPrefix(s.expectDiff, "sluice bug (") {
				t.Errorf("%s: write %q", s, "sluice bug: ...")
			}
		}
	}
	if _, err := os.Stat("ddblocal.sh"); err != nil {
		t.Error(err)
	}
}

func TestExpand(t *testing.T) {
	arns := map[string]string{"dt-x-t": "arn:aws:dynamodb:r:1:table/dt-x-t"}
	got, err := expand(`{"TableName":"$Pt","ResourceArn":"$ARN($Pt)"}`, "dt-x-", arns)
	if want := `{"TableName":"dt-x-t","ResourceArn":"arn:aws:dynamodb:r:1:table/dt-x-t"}`; err != nil || got != want {
		t.Errorf("expand = %q, %v; want %q", got, err, want)
	}
	if _, err := expand(`$ARN($Pu)`, "dt-x-", arns); err == nil {
		t.Error("expand of an unknown table's ARN: no error")
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		unordered  []string
		same       bool
	}{
		{"object order", `{"a":1,"b":2}`, `{"b":2,"a":1}`, nil, true},
		{"set order", `{"Item":{"s":{"SS":["b","a"]},"n":{"NS":["2","1"]}}}`, `{"Item":{"s":{"SS":["a","b"]},"n":{"NS":["1","2"]}}}`, nil, true},
		{"list order matters", `{"Item":{"l":{"L":[{"S":"b"},{"S":"a"}]}}}`, `{"Item":{"l":{"L":[{"S":"a"},{"S":"b"}]}}}`, nil, false},
		{"number text in attributes matters", `{"Item":{"n":{"N":"1.50"}}}`, `{"Item":{"n":{"N":"1.5"}}}`, nil, false},
		{"metadata numbers by value", `{"ConsumedCapacity":{"CapacityUnits":1.0}}`, `{"ConsumedCapacity":{"CapacityUnits":1}}`, nil, true},
		{"times, ids, arns",
			`{"Table":{"CreationDateTime":1.5,"TableArn":"arn:aws:dynamodb:ddblocal:000000000000:table/t","ProvisionedThroughput":{"LastIncreaseDateTime":0}}}`,
			`{"Table":{"CreationDateTime":2,"TableId":"u","TableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t","ProvisionedThroughput":{}}}`, nil, true},
		{"a time set on one side only", `{"P":{"LastIncreaseDateTime":5}}`, `{"P":{}}`, nil, false},
		{"message wording", `{"__type":"X","Message":"one"}`, `{"__type":"X","message":"two"}`, nil, true},
		{"exception type", `{"__type":"X"}`, `{"__type":"Y"}`, nil, false},
		{"batch responses", `{"Responses":{"t":[{"k":{"S":"1"}},{"k":{"S":"2"}}]}}`, `{"Responses":{"t":[{"k":{"S":"2"}},{"k":{"S":"1"}}]}}`, nil, true},
		{"tags", `{"Tags":[{"Key":"b","Value":"1"},{"Key":"a","Value":"2"}]}`, `{"Tags":[{"Key":"a","Value":"2"},{"Key":"b","Value":"1"}]}`, nil, true},
		{"items ordered", `{"Items":[{"k":{"S":"1"}},{"k":{"S":"2"}}]}`, `{"Items":[{"k":{"S":"2"}},{"k":{"S":"1"}}]}`, nil, false},
		{"items unordered", `{"Items":[{"k":{"S":"1"}},{"k":{"S":"2"}}]}`, `{"Items":[{"k":{"S":"2"}},{"k":{"S":"1"}}]}`, []string{"Items"}, true},
		{"an attribute named TableId stays", `{"Item":{"TableId":{"S":"a"}}}`, `{"Item":{}}`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := normalize(200, []byte(tc.a), tc.unordered)
			b := normalize(200, []byte(tc.b), tc.unordered)
			if same := a.text == b.text; same != tc.same {
				t.Errorf("same = %v, want %v\n%s", same, tc.same, udiff("a", "b", a.text, b.text))
			}
		})
	}
	if n := normalize(400, []byte(`{"__type":"X","message":"m"}`), nil); n.message != "m" || strings.Contains(n.text, `"m"`) {
		t.Errorf("message not separated: %+v", n)
	}
	if a, b := normalize(200, []byte("{}"), nil), normalize(400, []byte("{}"), nil); a.text == b.text {
		t.Error("status not compared")
	}
}

func TestUdiff(t *testing.T) {
	if d := udiff("a", "b", "x\ny\n", "x\ny\n"); d != "" {
		t.Errorf("equal texts: %q", d)
	}
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	b := "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n"
	want := "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
	if d := udiff("a", "b", a, b); d != want {
		t.Errorf("udiff:\n%s\nwant:\n%s", d, want)
	}
}
