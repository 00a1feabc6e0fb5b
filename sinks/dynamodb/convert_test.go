package dynamodb

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
)

func TestRepValue(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		sh   shards.ID
		seq  shards.Seq
		want string
	}{
		{time.UnixMicro(1763712000000000), 3, 42, "0001763712000000000/0000000003/000000000000000000042"},
		{time.Unix(0, 999), 0, 1, "0000000000000000000/0000000000/000000000000000000001"},
		{time.Time{}, 1, 1, "0000000000000000000/0000000001/000000000000000000001"}, // before 1970
		{time.UnixMicro(1<<63 - 1), 1<<32 - 1, 1<<64 - 1, "9223372036854775807/4294967295/018446744073709551615"},
	} {
		if got := RepValue(tc.t, tc.sh, tc.seq); got != tc.want {
			t.Errorf("RepValue(%v, %d, %d) = %q, want %q", tc.t, tc.sh, tc.seq, got, tc.want)
		}
	}
}

// TestRepValueOrder: string order is (time, shard, seq) order.
func TestRepValueOrder(t *testing.T) {
	type change struct {
		us  int64
		sh  shards.ID
		seq shards.Seq
	}
	var cs []change
	for _, us := range []int64{0, 1, 9, 10, 999_999, 1_000_000, 1763712000000000, 1763712000000001, 1<<63 - 1} {
		for _, sh := range []shards.ID{0, 1, 9, 10, 1<<32 - 1} {
			for _, seq := range []shards.Seq{0, 1, 9, 10, 99, 100, 1<<64 - 1} {
				cs = append(cs, change{us, sh, seq})
			}
		}
	}
	for i, a := range cs {
		for _, b := range cs[i+1:] {
			ra, rb := RepValue(time.UnixMicro(a.us), a.sh, a.seq), RepValue(time.UnixMicro(b.us), b.sh, b.seq)
			if len(ra) != len(rb) || ra >= rb {
				t.Fatalf("%+v before %+v, but %q >= %q", a, b, ra, rb)
			}
		}
	}
}

// TestToItem: DynamoDB JSON to the SDK's values, as the SDK sends them.
func TestToItem(t *testing.T) {
	f := newFake(t)
	c, _ := (&Sink{opts: Options{Endpoint: f.srv.URL, Region: defaultRegion,
		AccessKeyID: defaultCredential, SecretAccessKey: defaultCredential, Concurrency: 1}}).newClient()
	for _, tc := range []struct{ in, want string }{
		{`{"pk":{"S":"a"}}`, `{"pk":{"S":"a"}}`},
		{`{"n":{"N":"1.50"},"pk":{"S":""}}`, `{"n":{"N":"1.50"},"pk":{"S":""}}`},
		{`{"b":{"B":""},"bool":{"BOOL":true},"null":{"NULL":true}}`, `{"b":{"B":""},"bool":{"BOOL":true},"null":{"NULL":true}}`},
		{`{"l":{"L":[{"M":{}},{"L":[]},{"NS":["2","1"]},{"BS":["AQ=="]},{"SS":["b","a"]}]}}`,
			`{"l":{"L":[{"M":{}},{"L":[]},{"NS":["2","1"]},{"BS":["AQ=="]},{"SS":["b","a"]}]}}`},
		{`{"s":{"S":"\u2028 \" \\ \u0000 é"}}`, `{"s":{"S":"\u2028 \" \\ \u0000 é"}}`},
	} {
		item, err := toItem([]byte(tc.in))
		if err != nil {
			t.Fatalf("toItem(%s): %v", tc.in, err)
		}
		got := sent(t, f, c, item)
		var want attr.Item
		if err := want.UnmarshalJSON([]byte(tc.want)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(attr.AppendItemJSON(nil, got), attr.AppendItemJSON(nil, want)) {
			t.Errorf("%s: the SDK sent %s, want %s", tc.in, attr.AppendItemJSON(nil, got), tc.want)
		}
	}
	for _, in := range []string{`[]`, `null`, `{"a":{}}`, `{"a":{"S":"x","N":"1"}}`, `{"a":{"M":{"b":{"NULL":false}}}}`, `{"a":`} {
		if _, err := toItem([]byte(in)); err == nil {
			t.Errorf("toItem(%s) succeeded", in)
		}
	}
}

// sent puts item through the SDK client c to the fake and returns the Item
// of the request body as the fake received it.
func sent(t testing.TB, f *fakeDB, c *ddb.Client, item map[string]types.AttributeValue) attr.Item {
	t.Helper()
	f.mu.Lock()
	f.mu.bodies = nil
	f.mu.Unlock()
	if _, err := c.PutItem(context.Background(), &ddb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.mu.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(f.mu.bodies))
	}
	var req struct{ Item json.RawMessage }
	if err := json.Unmarshal([]byte(f.mu.bodies[0]), &req); err != nil {
		t.Fatal(err)
	}
	var got attr.Item
	if err := got.UnmarshalJSON(req.Item); err != nil {
		t.Fatalf("the SDK sent %s: %v", req.Item, err)
	}
	return got
}

// FuzzToItem: for every valid item in DynamoDB JSON, converting it to the
// SDK's values and back gives the same item (same types, same text of every
// number and string, same set order), and so does what the SDK sends.
func FuzzToItem(f *testing.F) {
	for _, s := range []string{
		`{"pk":{"S":"a"},"n":{"N":"-0.5e-3"}}`,
		`{"a":{"L":[{"M":{"x":{"BS":["AQ==","Ag=="]}}},{"NULL":true},{"BOOL":false}]}}`,
		`{"a":{"SS":["x","y"]},"b":{"NS":["1","10","1e2"]},"c":{"B":"/w=="},"d":{"M":{}}}`,
		`{"\u0000":{"S":"\ud83d\ude00"},"x":{"L":[]},"y":{"S":"\ud800"}}`,
	} {
		f.Add([]byte(s))
	}
	fake := newFake(f)
	c, _ := (&Sink{opts: Options{Endpoint: fake.srv.URL, Region: defaultRegion,
		AccessKeyID: defaultCredential, SecretAccessKey: defaultCredential, Concurrency: 1}}).newClient()
	f.Fuzz(func(t *testing.T, data []byte) {
		var it attr.Item
		if it.UnmarshalJSON(data) != nil || it == nil || attr.ValidateItem(it.Clone()) != nil {
			t.Skip()
		}
		// The item as decoded, numbers as written: the conversion keeps
		// the text, the destination canonicalizes.
		want := attr.AppendItemJSON(nil, it)
		av, err := toItem(data)
		if err != nil {
			t.Fatalf("toItem(%s): %v", data, err)
		}
		back, err := fromMap(av)
		if err != nil {
			t.Fatal(err)
		}
		if got := attr.AppendItemJSON(nil, back); !slices.Equal(got, want) {
			t.Fatalf("converted back: %s, want %s", got, want)
		}
		if !utf8.Valid(data) {
			return // the SDK's JSON encoder and attr's each replace invalid UTF-8 in their own way
		}
		got := sent(t, fake, c, av)
		if g := attr.AppendItemJSON(nil, got); !slices.Equal(g, want) {
			t.Fatalf("the SDK sent %s, want %s", g, want)
		}
	})
}
