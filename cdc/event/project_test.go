package event

import (
	"encoding/json"
	"testing"
	"time"
)

func sampleRecord() *Record {
	return &Record{
		TableID: 7, Source: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000",
		Region: "us-east-1", Shard: 1, Seq: 42, Name: Modify,
		Time:         time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC),
		Keys:         []byte(`{"pk":{"S":"a"}}`),
		Old:          []byte(`{"n":{"N":"1"},"pk":{"S":"a"},"s":{"S":"\"NewImage\":{}"}}`),
		New:          []byte(`{"n":{"N":"2"},"pk":{"S":"a"}}`),
		PartitionKey: "a", Sizes: Sizes{Keys: 3, Old: 20, New: 6},
	}
}

func TestProject(t *testing.T) {
	env, err := Decode(sampleRecord().Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		view           string
		newImg, oldImg bool
		size           int
	}{
		{ViewNewAndOld, true, true, 29},
		{ViewNewImage, true, false, 3 + 6},  // keys, then n (1+2) and pk (2+1)
		{ViewOldImage, false, true, 3 + 20}, // keys, then n, pk and s (1+13)
		{ViewKeysOnly, false, false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.view, func(t *testing.T) {
			out, err := Project(env.Data, tc.view, nil)
			if err != nil {
				t.Fatal(err)
			}
			sizes := sampleRecord().Sizes
			if fast, err := Project(env.Data, tc.view, &sizes); err != nil || string(fast) != string(out) {
				t.Fatalf("with the sizes header: %s, %v; decoding: %s", fast, err, out)
			}
			var rec struct {
				EventName string
				Dynamodb  struct {
					Keys, NewImage, OldImage map[string]any
					SequenceNumber           string
					SizeBytes                int
					StreamViewType           string
				}
			}
			if err := json.Unmarshal(out, &rec); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			d := rec.Dynamodb
			if (d.NewImage != nil) != tc.newImg || (d.OldImage != nil) != tc.oldImg || d.Keys == nil {
				t.Errorf("images: %s", out)
			}
			if d.StreamViewType != tc.view || d.SequenceNumber != "000000000000000000042" || rec.EventName != "MODIFY" {
				t.Errorf("fields: %s", out)
			}
			if d.SizeBytes != tc.size {
				t.Errorf("SizeBytes %d, want %d", d.SizeBytes, tc.size)
			}
			if tc.view == ViewNewAndOld && string(out) != string(env.Data) {
				t.Errorf("NEW_AND_OLD_IMAGES changed the data")
			}
		})
	}
	if _, err := Project(env.Data, "NOPE", nil); err == nil {
		t.Error("unknown view type accepted")
	}
}

func FuzzProject(f *testing.F) {
	env, _ := Decode(sampleRecord().Encode(nil))
	f.Add(env.Data)
	f.Add([]byte(`{"dynamodb":{"Keys":{"pk":{"S":"x"}},"SizeBytes":1}}`))
	f.Add([]byte(`{"dynamodb":{"Keys":{"pk":{"S":"x\"}"}},"NewImage":[1,{"a":"]"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, view := range []string{ViewKeysOnly, ViewNewImage, ViewOldImage} {
			out, err := Project(data, view, nil)
			if err != nil {
				continue
			}
			// A projection of valid JSON is valid JSON whose dynamodb
			// object lacks the images the view drops.
			if !json.Valid(data) {
				continue
			}
			var rec struct{ Dynamodb map[string]json.RawMessage }
			if err := json.Unmarshal(out, &rec); err != nil {
				t.Fatalf("%s of %q gave %q: %v", view, data, out, err)
			}
			_, hasNew := rec.Dynamodb["NewImage"]
			_, hasOld := rec.Dynamodb["OldImage"]
			if (view != ViewNewImage && hasNew) || (view != ViewOldImage && hasOld) {
				t.Fatalf("%s kept an image it drops: %q", view, out)
			}
		}
	})
}

func TestImages(t *testing.T) {
	r := sampleRecord()
	env, _ := Decode(r.Encode(nil))
	old, new, err := Images(env.Data)
	if err != nil || string(old) != string(r.Old) || string(new) != string(r.New) {
		t.Fatalf("Images = %s, %s, %v", old, new, err)
	}
	r.Old = nil
	env, _ = Decode(r.Encode(nil))
	if old, new, err = Images(env.Data); err != nil || old != nil || string(new) != string(r.New) {
		t.Fatalf("INSERT: Images = %s, %s, %v", old, new, err)
	}
}
