package filter

import "testing"

// benchPatterns is a typical three-pattern FilterCriteria: changes to
// orders with a quantity, TTL deletions, and keys with a prefix.
var benchPatterns = []string{
	`{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"Quantity": {"N": [{"anything-but": ["0"]}]}}}}`,
	`{"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}`,
	`{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "order#"}]}}}}`,
}

// BenchmarkMatch matches a typical Sluice record against the three
// patterns: "match" is delivered by the first pattern, "nomatch" tries all
// three and is dropped.
func BenchmarkMatch(b *testing.B) {
	c, err := CompileAll(benchPatterns)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		record string
		want   bool
	}{
		{"match", recSluice, true},
		{"nomatch", recRemove, false},
	} {
		rec := []byte(bc.record)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(rec)))
			for b.Loop() {
				if c.Match(rec) != bc.want {
					b.Fatal("wrong result")
				}
			}
		})
	}
}

// BenchmarkCompile compiles the three patterns.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileAll(benchPatterns); err != nil {
			b.Fatal(err)
		}
	}
}
