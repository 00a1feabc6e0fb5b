package filter

import (
	"errors"
	"strings"
	"testing"
)

// TestCompileErrors checks that Compile rejects each kind of bad pattern
// with a message that names the place and the fix.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pattern string
		want    string // a substring of the error message
	}{
		// Malformed JSON.
		{"empty", ``, "not valid JSON"},
		{"malformed", `{"eventName": ["INSERT"]`, "not valid JSON"},
		{"malformed", `{"eventName": ["INSERT"],}`, "not valid JSON"},
		{"malformed", `{eventName: ["INSERT"]}`, "not valid JSON"},
		{"trailing data", `{"eventName": ["INSERT"]} x`, "not valid JSON"},
		// The pattern must be an object.
		{"not an object", `["INSERT"]`, "must be a JSON object"},
		{"not an object", `"INSERT"`, "must be a JSON object"},
		{"empty object", `{}`, "empty object"},
		{"empty nested object", `{"dynamodb": {}}`, "dynamodb: an empty object"},
		// A leaf that is not an array, such as Tutorial #2's Null example
		// { "product_type": { "S": null } }.
		{"leaf not an array (null)", `{"dynamodb": {"NewImage": { "product_type": { "S": null } }}}`, `dynamodb.NewImage.product_type.S: must be an array of values to match, such as ["INSERT"], or an object; found null`},
		{"leaf not an array (string)", `{"eventName": "INSERT"}`, `eventName: must be an array of values to match, such as ["INSERT"], or an object; found "INSERT"`},
		{"leaf not an array (number)", `{"SizeBytes": 5}`, "SizeBytes: must be an array"},
		{"leaf not an array (boolean)", `{"a": true}`, "a: must be an array"},
		{"empty array", `{"eventName": []}`, "eventName: an empty array matches nothing"},
		{"nested array", `{"eventName": [["INSERT"]]}`, "arrays cannot be nested"},
		{"duplicate field", `{"eventName": ["INSERT"], "eventName": ["MODIFY"]}`, `field "eventName" appears twice`},
		// Operators.
		{"unknown operator", `{"a": [{"contains": "x"}]}`, `a: unknown operator "contains"`},
		{"unknown operator", `{"a": [{"Prefix": "x"}]}`, `unknown operator "Prefix"`},
		{"two operators", `{"a": [{"prefix": "x", "suffix": "y"}]}`, "exactly one operator"},
		{"empty operator", `{"a": [{}]}`, "exactly one operator"},
		{"prefix not a string", `{"a": [{"prefix": 5}]}`, `"prefix" takes a string; found 5`},
		{"prefix bad object", `{"a": [{"prefix": {"ignore-case": "x"}}]}`, `"prefix" takes a string or {"equals-ignore-case": "text"}`},
		{"suffix ignore case not a string", `{"a": [{"suffix": {"equals-ignore-case": 1}}]}`, `"suffix equals-ignore-case" takes a string`},
		{"equals-ignore-case not a string", `{"a": [{"equals-ignore-case": ["x"]}]}`, `"equals-ignore-case" takes a string; found an array`},
		{"exists not a boolean", `{"a": [{"exists": "yes"}]}`, `"exists" takes true or false; found "yes"`},
		{"anything-but empty", `{"a": [{"anything-but": []}]}`, `"anything-but" needs at least one value`},
		{"anything-but mixed", `{"a": [{"anything-but": ["x", 1]}]}`, "only strings or only numbers"},
		{"anything-but null", `{"a": [{"anything-but": [null]}]}`, `"anything-but" takes strings or numbers; found null`},
		{"anything-but prefix", `{"Region": [ { "anything-but": {"prefix": "us-" } } ]}`, `"anything-but" with "prefix" is not supported in Lambda event filtering`},
		{"anything-but suffix", `{"FileName": [ { "anything-but": { "suffix": ".png" } } ]}`, `"anything-but" with "suffix" is not supported`},
		{"anything-but ignore case", `{"state": [{ "anything-but": { "equals-ignore-case": "initializing" }}]}`, `"anything-but" with "equals-ignore-case" is not supported`},
		{"anything-but wildcard", `{"FilePath" : [{ "anything-but": { "wildcard": "*/lib/*" }}]}`, `"anything-but" with "wildcard" is not supported`},
		{"anything-but number out of range", `{"a": [{"anything-but": [1e10]}]}`, "anything-but: 1e10 is outside the supported range"},
		{"wildcard", `{"FilePath": [{"wildcard": "dir/*.png"}]}`, `"wildcard" is not supported in Lambda event filtering`},
		{"cidr", `{"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}`, `"cidr" is not supported in Lambda event filtering`},
		// Bad numeric ranges.
		{"numeric not a number", `{"Price": [{"numeric": [">", "x"]}]}`, `Price: numeric range: ">" must be followed by a number; found "x"`},
		{"numeric quoted number", `{"Price": [{"numeric": [">", "5"]}]}`, `numeric range: ">" must be followed by a number; found "5"`},
		{"numeric not an array", `{"Price": [{"numeric": 5}]}`, `numeric range: "numeric" takes an array`},
		{"numeric too short", `{"Price": [{"numeric": [">"]}]}`, "numeric range: expected an operator and a number, or two of each"},
		{"numeric too long", `{"Price": [{"numeric": [">", 1, "<", 2, "=", 3]}]}`, "found 6 elements"},
		{"numeric empty", `{"Price": [{"numeric": []}]}`, "found 0 elements"},
		{"numeric operator not a string", `{"Price": [{"numeric": [5, ">"]}]}`, "numeric range: expected an operator"},
		{"numeric unknown operator", `{"Price": [{"numeric": ["!=", 5]}]}`, `numeric range: unknown operator "!="`},
		{"numeric two lower bounds", `{"Price": [{"numeric": [">", 1, ">=", 2]}]}`, "numeric range: two lower bounds"},
		{"numeric two upper bounds", `{"Price": [{"numeric": ["<", 1, "<=", 2]}]}`, "numeric range: two upper bounds"},
		{"numeric equals with another", `{"Price": [{"numeric": ["=", 1, "<", 2]}]}`, `numeric range: "=" cannot be combined`},
		{"numeric empty range", `{"Price": [{"numeric": [">", 5, "<", 5]}]}`, "numeric range: the lower bound 5 is not below the upper bound 5"},
		{"numeric inverted range", `{"Price": [{"numeric": [">", 20, "<=", 10]}]}`, "the lower bound 20 is not below the upper bound 10"},
		{"numeric out of range", `{"Price": [{"numeric": [">", 6e9]}]}`, "numeric range: 6e9 is outside the supported range -5.0e9 to 5.0e9"},
		{"numeric out of range", `{"Price": [{"numeric": ["<", -5000000000.000001]}]}`, "is outside the supported range"},
		{"numeric too precise", `{"Price": [{"numeric": ["=", 0.0000001]}]}`, "numeric range: 0.0000001 has more than 6 digits right of the decimal point"},
		{"numeric too precise", `{"Price": [{"numeric": ["=", 1e-7]}]}`, "more than 6 digits"},
		// "$or".
		{"$or with one alternative", `{"$or": [{"a": ["x"]}]}`, `$or: "$or" needs at least two alternatives`},
		{"$or with an empty alternative", `{"$or": [{"a": ["x"]}, {}]}`, "$or[1]: an empty object"},
		{"$or with a bad alternative", `{"$or": [{"a": ["x"]}, {"b": "y"}]}`, "$or[1].b: must be an array"},
		{"$or that is a leaf", `{"$or": [{"a": ["x"]}, "y"]}`, `$or: unknown operator "a"`},
		// Length.
		{"too long", `{"a": ["` + strings.Repeat("x", MaxPatternLength) + `"]}`, "the pattern is 4107 characters long; the limit is 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.pattern)
			if err == nil {
				t.Fatalf("Compile(%.80s) = %v, want an error containing %q", tc.pattern, p, tc.want)
			}
			if !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("errors.Is(%v, ErrInvalidPattern) = false", err)
			}
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *PatternError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid filter pattern: ") {
				t.Errorf("error %q does not start with \"invalid filter pattern: \"", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\ndoes not contain %q", msg, tc.want)
			}
		})
	}
}

// TestCompileLimits checks the edges of the limits that Compile enforces.
func TestCompileLimits(t *testing.T) {
	for _, ok := range []string{
		`{"a": ["` + strings.Repeat("x", MaxPatternLength-11) + `"]}`,        // exactly 4096 characters
		`{"a": ["` + strings.Repeat("é", MaxPatternLength-11) + `"]}`,        // 4096 characters, more bytes
		`{"Price": [{"numeric": [">=", -5.0e9, "<=", 5.0e9]}]}`,              // the range's ends
		`{"Price": [{"numeric": ["=", 0.000001]}]}`,                          // six decimals
		`{"Price": [{"numeric": ["=", 1234.5670000]}]}`,                      // trailing zeros are not digits that count
		`{"Price": [{"numeric": ["=", 1e-6]}]}`,                              // six decimals, written with an exponent
		`{"Price": [{"numeric": ["=", 0.5e1]}]}`,                             // an integer, written with decimals
		`{"Price": [{"anything-but": [5000000000, -5000000000]}]}`,           // the range's ends
		`{"a": [1e999999999999]}`,                                            // exact matching has no range
		`{"a": [{"numeric": [">", 0]}, {"numeric": ["<", -10]}, "x", null]}`, // several rules
		`{"a": [{"prefix": ""}, {"suffix": ""}, {"equals-ignore-case": ""}]}`,
	} {
		if _, err := Compile(ok); err != nil {
			t.Errorf("Compile(%.80s): %v", ok, err)
		}
	}
	if n := len([]rune(`{"a": ["` + strings.Repeat("x", MaxPatternLength-11) + `"]}`)); n != MaxPatternLength {
		t.Fatalf("the limit case is %d characters, want %d", n, MaxPatternLength)
	}
}

func TestCompileAllErrors(t *testing.T) {
	six := []string{`{"a":["1"]}`, `{"a":["2"]}`, `{"a":["3"]}`, `{"a":["4"]}`, `{"a":["5"]}`, `{"a":["6"]}`}
	_, err := CompileAll(six)
	if !errors.Is(err, ErrTooManyFilters) {
		t.Fatalf("CompileAll(6 patterns) = %v, want ErrTooManyFilters", err)
	}
	if want := "filter: too many filters: 6 filters given, at most 5 are allowed"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	_, err = CompileAll([]string{`{"a":["1"]}`, `{"a": "1"}`})
	if !errors.Is(err, ErrInvalidPattern) {
		t.Fatalf("CompileAll with a bad pattern = %v, want ErrInvalidPattern", err)
	}
	if want := `Filters[1].Pattern: invalid filter pattern: a: must be an array`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
}
