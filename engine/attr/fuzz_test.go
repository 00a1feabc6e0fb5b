package attr

import (
	"encoding/json"
	"testing"
)

// FuzzValueJSON: decoding never panics; a value that decodes and validates
// encodes to valid JSON that decodes and validates to an Equal value, and
// encoding is then a fixed point.
func FuzzValueJSON(f *testing.F) {
	for _, s := range []string{
		`{"S":"x"}`, `{"N":"1.50"}`, `{"B":"AQI="}`, `{"BOOL":true}`, `{"NULL":true}`,
		`{"M":{"a":{"L":[{"S":"b"},{"NS":["1","2"]}]}}}`, `{"SS":["a","b"]}`, `{"BS":["AA=="]}`,
		`{"S":"a\u00e9\ud83d\ude00\n"}`, `{}`, `{"S":5}`, `{"B":"YR=="}`, `{"L":[null]}`,
		`{"M":{"":{"S":""}}}`, `{"NS":["1","1.0"]}`, `{"BOOL":"TRUE"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Value
		if err := v.UnmarshalJSON(data); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if err := ValidateValue(&v); err != nil {
			return
		}
		enc := AppendJSON(nil, v)
		if !json.Valid(enc) {
			t.Fatalf("invalid JSON %s", enc)
		}
		var w Value
		if err := w.UnmarshalJSON(enc); err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if err := ValidateValue(&w); err != nil {
			t.Fatalf("re-validating %s: %v", enc, err)
		}
		if !Equal(v, w) {
			t.Fatalf("round trip changed %s", enc)
		}
		if enc2 := AppendJSON(nil, w); string(enc2) != string(enc) {
			t.Fatalf("encoding not stable: %s vs %s", enc, enc2)
		}
	})
}

// benchItem is a typical item of about 1 KB.
const benchItem = `{"pk":{"S":"user#8f14e45fceea167a5a36dedd4bea2543"},"sk":{"S":"order#2024-06-01T12:00:00Z#000123"},` +
	`"status":{"S":"SHIPPED"},"total":{"N":"1249.99"},"qty":{"N":"3"},"paid":{"BOOL":true},"note":{"NULL":true},` +
	`"tags":{"SS":["gift","express","fragile"]},"scores":{"NS":["1","2.5","-3"]},"blob":{"B":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},` +
	`"address":{"M":{"street":{"S":"1 Infinite Loop"},"city":{"S":"Cupertino"},"zip":{"S":"95014"},"geo":{"M":{"lat":{"N":"37.33182"},"lon":{"N":"-122.03118"}}}}},` +
	`"lines":{"L":[{"M":{"sku":{"S":"SKU-0001"},"price":{"N":"499.99"},"qty":{"N":"1"},"desc":{"S":"A reasonably long product description for line one"}}},` +
	`{"M":{"sku":{"S":"SKU-0002"},"price":{"N":"375.00"},"qty":{"N":"2"},"desc":{"S":"Another product description, for line two of the order"}}}]},` +
	`"history":{"L":[{"S":"2024-06-01T12:00:00Z created"},{"S":"2024-06-01T12:05:00Z paid"},{"S":"2024-06-02T08:00:00Z shipped"}]},` +
	`"comment":{"S":"Leave the parcel with the neighbour at number three if nobody answers the door; thanks!"}}`

func BenchmarkItemJSON(b *testing.B) {
	data := []byte(benchItem)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var it Item
		if err := it.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
		if err := ValidateItem(it); err != nil {
			b.Fatal(err)
		}
		buf = AppendItemJSON(buf[:0], it)
	}
}
