package event

import (
	"bytes"
	"testing"
)

// TestEncodeDecode checks the round trip, which headers are present and
// that an event's id is stable.
func TestEncodeDecode(t *testing.T) {
	r := sampleRecord()
	r.TxID = "tx-1"
	r.Who = Identity{AccessKeyID: "AKID", SourceAddr: "127.0.0.1:1", RequestID: "req"}
	b := r.Encode(nil)
	if !bytes.Equal(b, r.Encode(nil)) {
		t.Fatal("Encode is not deterministic")
	}
	env, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		HdrSpecVersion: "1.0", HdrID: EventID(7, 1, 42), HdrType: TypePrefix + "MODIFY",
		HdrSubject: `{"pk":{"S":"a"}}`, HdrTime: "2026-01-01T00:00:01Z", HdrSequence: "000000000000000000042",
		HdrPartitionKey: "a", HdrCorrelation: "tx-1", HdrAccessKey: "AKID", HdrSourceAddr: "127.0.0.1:1", HdrRequestID: "req",
		HdrSizes: "3,20,6",
	}
	for k, v := range want {
		if got := env.Header(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	data, sizes, ok, err := Data(b)
	if err != nil || !bytes.Equal(data, env.Data) || !ok || sizes != r.Sizes {
		t.Fatalf("Data = %q, %+v, %v, %v; Decode's is %q", data, sizes, ok, err, env.Data)
	}
	r.TxID, r.Who = "", Identity{}
	env, _ = Decode(r.Encode(nil))
	if env.Header(HdrCorrelation) != "" || env.Header(HdrAccessKey) != "" {
		t.Error("empty headers are written")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(sampleRecord().Encode(nil))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 1, 2, 'a', 'b', 1, 'c', '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := Decode(b)
		data, sizes, ok, derr := Data(b)
		if (err == nil) != (derr == nil) {
			t.Fatalf("Decode error %v, Data error %v", err, derr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(env.Data, data) {
			t.Fatalf("Decode data %q, Data %q", env.Data, data)
		}
		if want, wok := ParseSizes(env.Header(HdrSizes)); ok != wok || sizes != want {
			// The last HdrSizes wins in Data, the first in Header: only a
			// record with one can be compared.
			n := 0
			for _, h := range env.Headers {
				if h[0] == HdrSizes {
					n++
				}
			}
			if n == 1 {
				t.Fatalf("Data sizes %+v %v, header %+v %v", sizes, ok, want, wok)
			}
		}
	})
}

func BenchmarkData(b *testing.B) {
	v := sampleRecord().Encode(nil)
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Data", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, err := Data(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
