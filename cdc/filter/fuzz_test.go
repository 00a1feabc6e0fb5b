package filter

import (
	"errors"
	"strings"
	"testing"
)

// fuzzRecords are the fixed records FuzzCompile matches every compiled
// pattern against.
var fuzzRecords = []string{
	recSluice, recTTL, recRemove, recDDBDoc, recChocolate, recMultiLevel,
	recEC2, recEC2Nested, recAutoScaling,
	`{"a": "x", "b": 5, "c": null, "d": true, "e": [1, "x", [2, {"f": 3}]], "g": {"h": ""}}`,
	`{"$or": "abc", "a": [], "b": {}}`,
}

// fuzzPatterns are the fixed patterns FuzzMatch matches every record
// against: one or more of each operator.
var fuzzPatterns = []string{
	`{"eventName": ["INSERT", "MODIFY"]}`,
	`{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}`,
	`{"dynamodb": {"NewImage": {"Quantity": {"N": ["5", {"prefix": "1"}]}}}}`,
	`{"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0, "<=", 5e9]}]}}`,
	`{"a": [null, "", true, 1, {"exists": false}]}`,
	`{"a": [{"equals-ignore-case": "x"}, {"prefix": {"equals-ignore-case": "ab"}}, {"suffix": {"equals-ignore-case": "yz"}}]}`,
	`{"a": [{"prefix": "x"}, {"suffix": "y"}], "b": [{"anything-but": ["x", "y"]}]}`,
	`{"a": [{"anything-but": [1, 2.5]}], "b": [{"numeric": ["=", 3.018e2]}]}`,
	`{"a": {"b": [{"exists": false}], "c": [{"exists": true}]}}`,
	`{"a": {"b": {"c": ["x"]}, "d": [{"numeric": ["<", -1]}]}}`,
	`{"$or": [{"a": ["x"]}, {"b": {"c": [{"exists": false}]}, "$or": [{"d": [1]}, {"e": [{"anything-but": "q"}]}]}]}`,
	`{"$or": [{"numeric": [">", 1]}, {"prefix": "ab"}]}`,
}

// FuzzCompile checks that Compile never panics, that its errors are
// *PatternError, and that a compiled pattern matches the fixed records
// without panicking and as the reference implementation does.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	for _, p := range benchPatterns {
		f.Add(p)
	}
	for _, p := range []string{
		`{"Price": [{"numeric": [">", 10, "<=", 20]}]}`,
		`{"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}}`,
		`{"Weather": [{"anything-but": ["Raining"]}]}`,
		`{"a": [{"anything-but": {"prefix": "x"}}]}`,
		`{"a": "x"}`, `{}`, `[]`, `{"a": []}`, `{"a": [[1]]}`,
		`{"a": [{"numeric": [">", "x"]}]}`, `{"a\u0000\ud800": ["\u00e9"]}`,
	} {
		f.Add(p)
	}
	records := make([][]byte, len(fuzzRecords))
	decoded := make([]any, len(fuzzRecords))
	for i, r := range fuzzRecords {
		records[i] = []byte(r)
		v, ok := refDecode(records[i])
		if !ok {
			f.Fatalf("fuzz record %d is not valid JSON", i)
		}
		decoded[i] = v
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile(pattern)
		if err != nil {
			if !errors.Is(err, ErrInvalidPattern) || !strings.HasPrefix(err.Error(), "invalid filter pattern: ") {
				t.Fatalf("Compile(%q): error %q is not an invalid-pattern error", pattern, err)
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q, want %q", p.String(), pattern)
		}
		for i, rec := range records {
			got := p.Match(rec)
			if want := refMatch(p, decoded[i]); got != want {
				t.Fatalf("pattern %s, record %d: Match = %v, reference = %v", pattern, i, got, want)
			}
			if (Criteria{p}).Match(rec) != got {
				t.Fatalf("pattern %s, record %d: Criteria.Match disagrees with Match", pattern, i)
			}
		}
	})
}

// FuzzMatch checks fixed patterns against arbitrary record bytes: Match
// never panics, a record that is not a valid JSON object never matches,
// Criteria.Match is the OR of the patterns, and every pattern agrees with
// the reference implementation.
func FuzzMatch(f *testing.F) {
	for _, r := range fuzzRecords {
		f.Add([]byte(r))
	}
	for _, r := range []string{
		``, `{`, `[]`, `null`, `{"a": []}`, `{"a": [{"b": 1}, {"c": 2}]}`,
		`{"a": "X", "b": 5}`, `{"a": "abYZ"}`, `{"a": {"d": -1.5, "b": {"c": "x"}}}`,
		`{"b": {"c": 1}, "e": "r"}`, `{"a": 1e400, "b": 301.80}`, `{"a": "\ud83d"}`,
	} {
		f.Add([]byte(r))
	}
	c, err := CompileAll(fuzzPatterns[:MaxFilters])
	if err != nil {
		f.Fatal(err)
	}
	var all []*Pattern
	for _, s := range fuzzPatterns {
		p, err := Compile(s)
		if err != nil {
			f.Fatalf("Compile(%s): %v", s, err)
		}
		all = append(all, p)
	}
	f.Fuzz(func(t *testing.T, record []byte) {
		v, valid := refDecode(record)
		if _, isObject := v.(map[string]any); !isObject {
			valid = false
		}
		any5 := false
		for i, p := range all {
			got := p.Match(record)
			if !valid {
				if got {
					t.Fatalf("pattern %s matched the invalid record %q", p, record)
				}
				continue
			}
			if refTame(v) {
				if want := refMatch(p, v); got != want {
					t.Fatalf("pattern %s, record %q: Match = %v, reference = %v", p, record, got, want)
				}
			}
			if i < MaxFilters {
				any5 = any5 || got
			}
		}
		if got := c.Match(record); got != any5 {
			t.Fatalf("record %q: Criteria.Match = %v, the patterns' OR = %v", record, got, any5)
		}
	})
}
