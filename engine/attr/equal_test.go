package attr

import (
	"fmt"
	"testing"
)

func mustJSON(t testing.TB, s string) Value {
	t.Helper()
	var v Value
	if err := v.UnmarshalJSON([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := ValidateValue(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`{"S":"a"}`, `{"S":"a"}`, true},
		{`{"S":"a"}`, `{"S":"b"}`, false},
		{`{"S":"1"}`, `{"N":"1"}`, false},
		{`{"N":"1.0"}`, `{"N":"1"}`, true},
		{`{"N":"1E2"}`, `{"N":"100"}`, true},
		{`{"N":"1"}`, `{"N":"2"}`, false},
		{`{"B":"AQI="}`, `{"B":"AQI="}`, true},
		{`{"B":"AQI="}`, `{"B":"AQM="}`, false},
		{`{"BOOL":true}`, `{"BOOL":false}`, false},
		{`{"NULL":true}`, `{"NULL":true}`, true},
		{`{"M":{"a":{"N":"1"},"b":{"S":"x"}}}`, `{"M":{"b":{"S":"x"},"a":{"N":"1.00"}}}`, true},
		{`{"M":{"a":{"N":"1"}}}`, `{"M":{"a":{"N":"1"},"b":{"S":"x"}}}`, false},
		{`{"M":{"a":{"N":"1"}}}`, `{"M":{"b":{"N":"1"}}}`, false},
		{`{"L":[{"S":"a"},{"S":"b"}]}`, `{"L":[{"S":"a"},{"S":"b"}]}`, true},
		{`{"L":[{"S":"a"},{"S":"b"}]}`, `{"L":[{"S":"b"},{"S":"a"}]}`, false},
		{`{"SS":["a","b"]}`, `{"SS":["b","a"]}`, true},
		{`{"SS":["a","b"]}`, `{"SS":["a","c"]}`, false},
		{`{"SS":["a"]}`, `{"SS":["a","b"]}`, false},
		{`{"NS":["1","2.0"]}`, `{"NS":["2","1.00"]}`, true},
		{`{"BS":["AA==","AQ=="]}`, `{"BS":["AQ==","AA=="]}`, true},
	} {
		t.Run(tc.a+" "+tc.b, func(t *testing.T) {
			a, b := mustJSON(t, tc.a), mustJSON(t, tc.b)
			if got := Equal(a, b); got != tc.want {
				t.Fatalf("Equal = %v", got)
			}
			if got := Equal(b, a); got != tc.want {
				t.Fatalf("Equal (swapped) = %v", got)
			}
		})
	}
}

func TestEqualLargeSets(t *testing.T) {
	var a, b []string
	for i := range 100 {
		a = append(a, fmt.Sprint(i))
		b = append(b, fmt.Sprint(99-i))
	}
	if !Equal(Value{T: TypeSS, SS: a}, Value{T: TypeSS, SS: b}) {
		t.Fatal("large equal sets differ")
	}
	b[0] = "x"
	if Equal(Value{T: TypeSS, SS: a}, Value{T: TypeSS, SS: b}) {
		t.Fatal("large different sets are equal")
	}
}

func TestItemsEqual(t *testing.T) {
	a := Item{"pk": S("a"), "n": N("1")}
	if !ItemsEqual(a, Item{"n": N("1"), "pk": S("a")}) || ItemsEqual(a, Item{"pk": S("a")}) || !ItemsEqual(nil, Item{}) {
		t.Fatal("ItemsEqual")
	}
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b Value
		want int
	}{
		{S("a"), S("b"), -1},
		{S("b"), S("a"), 1},
		{S("a"), S("a"), 0},
		{S("a"), S("ab"), -1},
		{S("Z"), S("a"), -1},
		{S("\uffff"), S("\U00010000"), -1}, // UTF-8 byte order, not UTF-16
		{N("-1"), N("0.5"), -1},
		{N("10"), N("9"), 1},
		{B([]byte{0x01}), B([]byte{0x01, 0x02}), -1},
		{B([]byte{0x02}), B([]byte{0xff}), -1},
		{B([]byte{0x7f}), B([]byte{0x80}), -1}, // unsigned
	} {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClone(t *testing.T) {
	v := mustJSON(t, `{"M":{"b":{"B":"AQI="},"l":{"L":[{"SS":["x"]},{"BS":["AA=="]},{"NS":["1"]}]}}}`)
	c := v.Clone()
	if !Equal(v, c) {
		t.Fatal("clone differs")
	}
	c.M["b"].B[0] = 9
	c.M["l"].L[0].SS[0] = "y"
	c.M["l"].L[1].BS[0][0] = 9
	c.M["l"].L[2].NS[0] = "2"
	c.M["new"] = Null()
	if !Equal(v, mustJSON(t, `{"M":{"b":{"B":"AQI="},"l":{"L":[{"SS":["x"]},{"BS":["AA=="]},{"NS":["1"]}]}}}`)) {
		t.Fatal("clone shares memory with the original")
	}
	if Item(nil).Clone() != nil {
		t.Fatal("nil item clone")
	}
}
