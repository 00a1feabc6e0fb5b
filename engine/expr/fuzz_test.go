package expr

import (
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

var fuzzNames = Names{"#a": "a", "#b": "b", "#s": "status", "#n": "1x", "#d": "[3]"}

var fuzzValues = Values{
	":s": attr.S("abc"), ":n": attr.N("5"), ":m": attr.N("-1.5"), ":b": attr.B([]byte{1, 2}),
	":l": attr.L([]attr.Value{attr.S("x")}), ":ss": {T: attr.TypeSS, SS: []string{"a", "b"}},
	":ns": {T: attr.TypeNS, NS: []attr.Number{"1", "2"}}, ":t": attr.S("N"), ":bool": attr.Bool(true),
}

var fuzzSeeds = []string{
	"a = :s", "a.b[1] > :n AND attribute_not_exists(#b)", "(a = :s) OR (NOT #b BETWEEN :n AND :n)",
	"#a IN (:s, :n, :b)", "size(a) <= :n", "begins_with(a, :s) AND contains(#s, :s)",
	"attribute_type(a, :t)", "SET a = :n, b = a + :n REMOVE c[1] ADD d :ns DELETE e :ss",
	"SET l = list_append(l, :l), x = if_not_exists(x, :n)", "a, b.c, #a[0][1]", "((a = :s))",
	"a = :s AND", "!!! INVALID !!!", "SET #a = :s SET b = :s", "a = :s OR b = :s AND NOT c = :s",
}

func fuzzParse(kind Kind, s string) (string, error) { return parseAny(kind, s, fuzzNames, fuzzValues) }

// FuzzParse: parsing never panics, for every kind, and every error is a
// ValidationException.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for k := KindCondition; k <= KindProjection; k++ {
			if _, err := fuzzParse(k, s); err != nil {
				if errText(err)[:6] != "error:" {
					t.Fatalf("%v %q: %v", k, s, err)
				}
			}
		}
	})
}

// FuzzRoundTrip: printing a parsed expression and parsing the text again
// gives the same tree (compared through its printed form, which spells out
// every node), and evaluation agrees.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	item := attr.Item{"a": attr.S("abc"), "b": attr.M(map[string]attr.Value{"c": attr.N("5")}),
		"status": attr.L([]attr.Value{attr.N("1")})}
	f.Fuzz(func(t *testing.T, s string) {
		for k := KindCondition; k <= KindProjection; k++ {
			s1, err := fuzzParse(k, s)
			if err != nil {
				continue
			}
			s2, err := fuzzParse(k, s1)
			if err != nil {
				t.Fatalf("%v: %q printed as %q, which fails: %v", k, s, s1, err)
			}
			if s1 != s2 {
				t.Fatalf("%v: %q printed as %q, then as %q", k, s, s1, s2)
			}
			if k == KindCondition {
				c1, _ := ParseCondition(k, s, fuzzNames, fuzzValues)
				c2, _ := ParseCondition(k, s1, fuzzNames, fuzzValues)
				r1, _ := c1.Eval(item)
				r2, _ := c2.Eval(item)
				if r1 != r2 {
					t.Fatalf("%q and %q evaluate differently", s, s1)
				}
			}
		}
	})
}
