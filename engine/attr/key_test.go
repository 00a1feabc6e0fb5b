package attr

import (
	"strings"
	"testing"
)

func TestKeyValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"item type", ValidateKeyValue("pk", N("1"), TypeS), "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{"item list", ValidateKeyValue("pk", L(nil), TypeS), "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: L"},
		{"item empty S", ValidateKeyValue("pk", S(""), TypeS), "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"item empty B", ValidateKeyValue("sk", B(nil), TypeB), "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: sk"},
		{"item ok", ValidateKeyValue("pk", S("a"), TypeS), ""},
		{"key type", ValidateKeyElement("pk", N("1"), TypeS), "The provided key element does not match the schema"},
		{"key empty", ValidateKeyElement("pk", S(""), TypeS), "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"key ok", ValidateKeyElement("pk", N("1"), TypeN), ""},
		{"pk 2048", ValidateKeySize(S(strings.Repeat("a", 2048)), PartitionKey), ""},
		{"pk 2049", ValidateKeySize(S(strings.Repeat("a", 2049)), PartitionKey), "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"pk utf8", ValidateKeySize(S(strings.Repeat("é", 1025)), PartitionKey), "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"sk 1024", ValidateKeySize(B(make([]byte, 1024)), SortKey), ""},
		{"sk 1025", ValidateKeySize(B(make([]byte, 1025)), SortKey), "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"},
		{"index type", ValidateIndexKeyValue("idx", "c", N("1"), TypeS), "One or more parameter values were invalid: Type mismatch for Index Key c Expected: S Actual: N IndexName: idx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if tc.err != nil {
				got = tc.err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateItem(t *testing.T) {
	it := Item{"a": {T: TypeN, N: "1.50"}, "b": {T: TypeNS, NS: []Number{"1E1", "2"}}}
	if err := ValidateItem(it); err != nil {
		t.Fatal(err)
	}
	if it["a"].N != "1.5" || it["b"].NS[0] != "10" {
		t.Fatalf("numbers not canonicalized: %v", it)
	}
	// A second data type is reported only when nothing else is wrong.
	var bad Item
	if err := bad.UnmarshalJSON([]byte(`{"a":{"S":"x","N":"1"},"b":{"SS":[]}}`)); err != nil {
		t.Fatal(err)
	}
	if err := ValidateItem(bad); err == nil || err.Error() != msgEmptySS {
		t.Fatalf("got %v", err)
	}
	if err := ValidateItem(Item{"": S("x")}); err == nil || err.Error() != "Empty attribute name" {
		t.Fatalf("got %v", err)
	}
}

func TestMultipleTypesPrecedence(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Top level: after the other attributes' errors.
		{`{"a":{"S":"x","N":"1"},"b":{"SS":[]}}`, msgEmptySS},
		{`{"a":{"S":"x","N":"1"},"b":{"N":"z"}}`, "The parameter cannot be converted to a numeric value: z"},
		// Nested: in turn.
		{`{"a":{"M":{"x":{"S":"a","N":"1"}}},"b":{"SS":[]}}`, msgMultipleTypes},
		{`{"a":{"S":"x","N":"1"}}`, msgMultipleTypes},
	} {
		var it Item
		if err := it.UnmarshalJSON([]byte(tc.in)); err != nil {
			t.Fatal(err)
		}
		if err := ValidateItem(it); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %q", tc.in, err, tc.want)
		}
	}
}
