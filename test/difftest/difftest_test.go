package difftest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

const target = "DynamoDB_20120810."

// deleteTimeout bounds DeleteTable until ListTables is empty.
const deleteTimeout = 30 * time.Second

// server is one side of the comparison.
type server struct {
	name string
	url  string
	arns map[string]string // table name -> TableArn, as this server reported it
}

// tally counts the outcomes of a run.
type tally struct {
	requests, same, expected, unexpected, dishonest, messages int
}

func TestDiff(t *testing.T) {
	if os.Getenv("DIFFTEST") != "1" {
		t.Skip("differential test against DynamoDB Local: set DIFFTEST=1 (make difftest; needs java and npm)")
	}
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DIFFTEST_PENDING") == "1" {
		pending, err := filepath.Glob("testdata/pending/*.txt")
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, pending...)
	} else {
		t.Log("testdata/pending/*.txt not replayed (set DIFFTEST_PENDING=1)")
	}
	if re := os.Getenv("DIFFTEST_RUN"); re != "" {
		m, err := regexp.Compile(re)
		if err != nil {
			t.Fatalf("DIFFTEST_RUN: %v", err)
		}
		var kept []string
		for _, f := range files {
			if m.MatchString(f) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	if len(files) == 0 {
		t.Fatal("no scenario files to replay")
	}
	// Parse everything first: a typo fails fast, before Java starts.
	scenarios := make([][]step, len(files))
	for i, f := range files {
		if scenarios[i], err = parseFile(f); err != nil {
			t.Fatal(err)
		}
	}

	oracle := &server{name: "dynamodb-local", url: sluicetest.StartDynamoDBLocal(t, sluicetest.DynamoDBLocalOptions{Required: true}), arns: map[string]string{}}
	sl := sluicetest.Start(t, sluicetest.Options{})
	sluice := &server{name: "sluice", url: sl.URL, arns: map[string]string{}}

	var sum tally
	for i, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(f), "testdata/"), ".txt")
		prefix := "dt-" + strings.ReplaceAll(name, "/", "-") + "-"
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			for _, s := range []*server{oracle, sluice} {
				deleteAllTables(t, s)
			}
			for _, st := range scenarios[i] {
				replay(t, st, prefix, oracle, sluice, &sum)
			}
		})
	}
	t.Logf("summary: %d requests in %d files: %d same, %d expected differences, %d unexpected differences, %d expect-diff marks on equal responses; %d error messages worded differently (not compared)",
		sum.requests, len(files), sum.same, sum.expected, sum.unexpected, sum.dishonest, sum.messages)
}

// replay sends one step to both servers and compares the responses.
func replay(t *testing.T, st step, prefix string, oracle, sluice *server, sum *tally) {
	t.Helper()
	var got [2]normalized
	for i, s := range []*server{oracle, sluice} {
		body, err := expand(st.body, prefix, s.arns)
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		status, _, resp := sluicetest.RawRequest(t, s.url, target+st.op, body, nil)
		learnARNs(s, resp)
		got[i] = normalize(status, resp, st.unordered)
	}
	sum.requests++
	if got[0].message != got[1].message {
		sum.messages++
		t.Logf("%s: note: message wording differs (not compared)\n  %s: %q\n  %s: %q",
			st, oracle.name, got[0].message, sluice.name, got[1].message)
	}
	d := udiff(oracle.name, sluice.name, got[0].text, got[1].text)
	switch {
	case d == "" && st.expectDiff == "":
		sum.same++
		t.Logf("%s: same", st)
	case d == "":
		sum.dishonest++
		t.Errorf("%s: marked expect-diff (%s) but the responses agree: remove the mark\n%s",
			st, st.expectDiff, got[0].text)
	case st.expectDiff != "":
		sum.expected++
		t.Logf("%s: expected diff (%s)\n%s", st, st.expectDiff, d)
	default:
		sum.unexpected++
		t.Errorf("%s: DIFFERENT\nrequest: %s\n%s", st, strings.ReplaceAll(st.body, "$P", prefix), d)
	}
}

// learnARNs records every TableArn in a response, so that later steps can
// name the table by $ARN(name).
func learnARNs(s *server, body []byte) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	var visit func(any)
	visit = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if arn, ok := v["TableArn"].(string); ok {
				if _, name, ok := strings.Cut(arn, ":table/"); ok {
					s.arns[name] = arn
				}
			}
			for _, c := range v {
				visit(c)
			}
		case []any:
			for _, c := range v {
				visit(c)
			}
		}
	}
	visit(v)
}

// deleteAllTables deletes every table of s and waits until ListTables is
// empty, so that a scenario file starts on a clean server.
func deleteAllTables(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(deleteTimeout)
	for {
		names := listTables(t, s)
		if len(names) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: tables %q still listed %s after DeleteTable", s.name, names, deleteTimeout)
		}
		for _, n := range names {
			body, _ := json.Marshal(map[string]string{"TableName": n})
			status, _, resp := sluicetest.RawRequest(t, s.url, target+"DeleteTable", string(body), nil)
			if status != http.StatusOK && !bytes.Contains(resp, []byte("ResourceNotFoundException")) &&
				!bytes.Contains(resp, []byte("ResourceInUseException")) {
				t.Fatalf("%s: DeleteTable %s: %d %s", s.name, n, status, resp)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listTables returns every table name of s, following LastEvaluatedTableName.
func listTables(t *testing.T, s *server) []string {
	t.Helper()
	var names []string
	start := ""
	for {
		req := map[string]any{}
		if start != "" {
			req["ExclusiveStartTableName"] = start
		}
		body, _ := json.Marshal(req)
		status, _, resp := sluicetest.RawRequest(t, s.url, target+"ListTables", string(body), nil)
		var out struct {
			TableNames             []string
			LastEvaluatedTableName string
		}
		if status != http.StatusOK || json.Unmarshal(resp, &out) != nil {
			t.Fatalf("%s: ListTables: %d %s", s.name, status, resp)
		}
		names = append(names, out.TableNames...)
		if out.LastEvaluatedTableName == "" {
			return names
		}
		start = out.LastEvaluatedTableName
	}
}
