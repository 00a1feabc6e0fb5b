package event

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sluicedb/sluice/shards"
)

func TestAppendLambda(t *testing.T) {
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-11-21T08:00:00.000"
	for _, tc := range []struct {
		name    string
		service bool
		view    string
		want    map[string]any // members checked, by path
	}{
		{"put", false, ViewNewAndOld, map[string]any{"eventSourceARN": arn, "userIdentity": nil}},
		{"ttl delete", true, ViewNewAndOld, map[string]any{"eventSourceARN": arn,
			"userIdentity": map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}}},
		{"keys only", true, ViewKeysOnly, map[string]any{"eventSourceARN": arn,
			"userIdentity": map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Record{TableID: 1, Shard: 2, Seq: shards.Seq(7), Name: Remove, Region: "us-east-1",
				Keys: []byte(`{"pk":{"S":"a"}}`), Old: []byte(`{"pk":{"S":"a"},"exp":{"N":"1"}}`),
				Time: time.Unix(1795249815, 0), Who: Identity{Service: tc.service}}
			r.Sizes = Sizes{Keys: 4, Old: 10}
			data := r.appendData(nil, "id")
			out, err := AppendLambda([]byte("prefix"), data, tc.view, arn, &r.Sizes)
			if err != nil {
				t.Fatal(err)
			}
			if string(out[:6]) != "prefix" {
				t.Fatalf("dst not kept: %s", out)
			}
			var got map[string]any
			if err := json.Unmarshal(out[6:], &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for k, v := range tc.want {
				gv, ok := got[k]
				if v == nil {
					if ok {
						t.Errorf("%s = %v, want absent", k, gv)
					}
					continue
				}
				gb, _ := json.Marshal(gv)
				wb, _ := json.Marshal(v)
				if string(gb) != string(wb) {
					t.Errorf("%s = %s, want %s", k, gb, wb)
				}
			}
			ddb := got["dynamodb"].(map[string]any)
			if ddb["StreamViewType"] != tc.view {
				t.Errorf("StreamViewType = %v", ddb["StreamViewType"])
			}
		})
	}
	if _, err := AppendLambda(nil, []byte(`[]`), ViewNewAndOld, arn, nil); err == nil {
		t.Error("a non-object record was accepted")
	}
}
