package dynamoapi

import (
	"errors"
	"github.com/sluicedb/sluice/engine/wire"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/engine/attr"
)

func TestFormatViolations(t *testing.T) {
	item := func(v, p string) string {
		return "Value '" + v + "' at '" + p + "' failed to satisfy constraint: Member must not be null"
	}
	many := make([]string, 12)
	for i := range many {
		many[i] = item("x", "p")
	}
	for _, tc := range []struct {
		name  string
		items []string
		want  string
	}{
		{"one", []string{item("a", "b")}, "1 validation error detected: " + item("a", "b")},
		{"two", []string{item("a", "b"), item("c", "d")}, "2 validation errors detected: " + item("a", "b") + "; " + item("c", "d")},
		{"capped at ten", many, "10 validation errors detected: " + strings.Join(many[:10], "; ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wire.FormatViolations(tc.items); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestViolations(t *testing.T) {
	s := func(x string) *string { return &x }
	n := func(x int64) *int64 { return &x }
	a256 := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name string
		fill func(v *violations)
		want string // "" for no error
	}{
		{"data-plane empty name: length only", func(v *violations) { v.Name("tableName", "", 1, 255) },
			"1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"data-plane long name", func(v *violations) { v.Name("tableName", a256, 1, 255) },
			"1 validation error detected: Value '" + a256 + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"data-plane pattern", func(v *violations) { v.Name("tableName", "bad table!@#", 1, 255) },
			"1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"data-plane two chars ok", func(v *violations) { v.Name("tableName", "ab", 1, 255) }, ""},
		{"create empty name: pattern and length", func(v *violations) { v.Name("tableName", "", 3, 255) },
			"2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"create short name", func(v *violations) { v.Name("tableName", "ab", 3, 255) },
			"1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"enum", func(v *violations) { v.Enum("billingMode", s("X"), enumBillingMode) },
			"1 validation error detected: Value 'X' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"},
		{"enum absent", func(v *violations) { v.Enum("billingMode", nil, enumBillingMode) }, ""},
		{"required enum", func(v *violations) { v.RequiredEnum("keySchema.1.member.keyType", nil, enumKeyType) },
			"1 validation error detected: Value null at 'keySchema.1.member.keyType' failed to satisfy constraint: Member must not be null"},
		{"range", func(v *violations) {
			v.RangeInt("limit", n(0), 1, 100)
			v.RangeInt("other", n(101), 1, 100)
		}, "2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
			"Value '101' at 'other' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"utf-16 length", func(v *violations) { v.Length("key", strings.Repeat("😀", 64), 1, 128) }, ""},
		{"utf-16 length over", func(v *violations) { v.Length("key", strings.Repeat("😀", 65), 1, 128) },
			"1 validation error detected: Value '" + strings.Repeat("😀", 65) + "' at 'key' failed to satisfy constraint: Member must have length less than or equal to 128"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v violations
			tc.fill(&v)
			err := v.Err()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			if !errors.Is(err, attr.ErrValidation) {
				t.Errorf("error %v is not a validation error", err)
			}
		})
	}
}

func TestRenderKeySchema(t *testing.T) {
	s := func(x string) *string { return &x }
	got := renderKeySchema([]keyElementIn{{s("pk"), s("HASH")}, {s("sk"), nil}})
	want := "[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=null)]"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
