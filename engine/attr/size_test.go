package attr

import (
	"encoding/json"
	"testing"
)

// TestSize: every expected size was measured byte-exactly against DynamoDB
// Local (the largest accepted filler string beside the value under its
// 409,600-byte item limit). Sizes here exclude the attribute name.
func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`{"N":"0"}`, 1},
		{`{"N":"1"}`, 2},
		{`{"N":"12"}`, 2},
		{`{"N":"10"}`, 2},
		{`{"N":"100"}`, 2},
		{`{"N":"1000"}`, 2},
		{`{"N":"11"}`, 2},
		{`{"N":"123"}`, 3},
		{`{"N":"1234"}`, 3},
		{`{"N":"101"}`, 3},
		{`{"N":"1.1"}`, 3},
		{`{"N":"1.5"}`, 3},
		{`{"N":"1.23"}`, 3},
		{`{"N":"12.3"}`, 3},
		{`{"N":"12.5"}`, 3},
		{`{"N":"0.1"}`, 2},
		{`{"N":"0.01"}`, 2},
		{`{"N":"0.0012"}`, 2},
		{`{"N":"0.00123"}`, 3},
		{`{"N":"0.123"}`, 3},
		{`{"N":"123.45"}`, 4},
		{`{"N":"-1"}`, 3},
		{`{"N":"-12"}`, 3},
		{`{"N":"-10"}`, 3},
		{`{"N":"-123"}`, 4},
		{`{"N":"-0.5"}`, 3},
		{`{"N":"12345678901234567890123456789012345678"}`, 20},
		{`{"N":"-12345678901234567890123456789012345678"}`, 21},
		{`{"N":"1E+125"}`, 2},
		{`{"N":"1E-130"}`, 2},
		{`{"S":"é"}`, 2},
		{`{"B":"AAAA"}`, 3},
		{`{"BOOL":true}`, 1},
		{`{"NULL":true}`, 1},
		{`{"M":{}}`, 3},
		{`{"L":[]}`, 3},
		{`{"M":{"ab":{"S":"xyz"}}}`, 9},
		{`{"M":{"é":{"S":""}}}`, 6},
		{`{"L":[{"S":"xyz"}]}`, 7},
		{`{"L":[{"S":"xyz"},{"N":"1"}]}`, 10},
		{`{"L":[{"L":[]}]}`, 7},
		{`{"M":{"a":{"M":{"b":{"NULL":true}}}}}`, 11},
		{`{"SS":["a","bc"]}`, 3},
		{`{"SS":["é"]}`, 2},
		{`{"NS":["1","-123"]}`, 6},
		{`{"BS":["AAAA","AA=="]}`, 4},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var v Value
			if err := json.Unmarshal([]byte(tc.in), &v); err != nil {
				t.Fatal(err)
			}
			if err := ValidateValue(&v); err != nil {
				t.Fatal(err)
			}
			if got := Size(v); got != tc.want {
				t.Fatalf("Size = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestItemSize(t *testing.T) {
	// pk "s" and a 409,596-byte string is exactly the limit (DynamoDB Local
	// accepts it and refuses one byte more).
	it := Item{"pk": S("s"), "f": S(string(make([]byte, 409596)))}
	if got := ItemSize(it); got != MaxItemSize {
		t.Fatalf("ItemSize = %d, want %d", got, MaxItemSize)
	}
	if ErrItemTooLarge.Error() != "Item size has exceeded the maximum allowed size" {
		t.Fatal(ErrItemTooLarge)
	}
}
