package event

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// size is the DynamoDB size of an item given as JSON.
func size(js []byte) int {
	var it attr.Item
	if err := it.UnmarshalJSON(js); err != nil {
		panic(err)
	}
	return attr.ItemSize(it)
}

// goldenRecords are one record of each event name, as the engine builds
// them (a transaction's, a TTL delete's).
func goldenRecords() map[string]*Record {
	base := func(name Name) *Record {
		return &Record{
			TableID: 3, Source: "arn:aws:dynamodb:eu-west-1:123456789012:table/Music/stream/2026-11-21T08:00:00.000",
			Region: "eu-west-1", Shard: 2, Seq: 1234, Name: name,
			Time:         time.Date(2026, 11, 21, 8, 30, 15, 123456789, time.UTC),
			Keys:         []byte(`{"Artist":{"S":"Acme"},"SongTitle":{"S":"Happy Day"}}`),
			PartitionKey: "Acme",
			Who:          Identity{AccessKeyID: "AKIDEXAMPLE", SourceAddr: "10.0.0.7:51234", RequestID: "REQ123"},
		}
	}
	ins := base(Insert)
	ins.New = []byte(`{"Artist":{"S":"Acme"},"Plays":{"N":"1"},"SongTitle":{"S":"Happy Day"}}`)
	ins.Sizes = Sizes{Keys: size(ins.Keys), New: size(ins.New)}
	ins.TxID = "5f0c6b0e-3c43-4d38-9b7e-1d2f5a8c9e10"
	mod := base(Modify)
	mod.Old = ins.New
	mod.New = []byte(`{"Artist":{"S":"Acme"},"Plays":{"N":"2"},"SongTitle":{"S":"Happy Day"}}`)
	mod.Sizes = Sizes{Keys: size(mod.Keys), Old: size(mod.Old), New: size(mod.New)}
	rem := base(Remove)
	rem.Old = mod.New
	rem.Sizes = Sizes{Keys: size(rem.Keys), Old: size(rem.Old)}
	rem.Who = Identity{Service: true}
	return map[string]*Record{"insert": ins, "modify": mod, "remove": rem}
}

// TestGoldenRecords pins the Streams record of each event name in each view
// type (what GetRecords returns) and the CloudEvents headers (what
// JetStream carries).
func TestGoldenRecords(t *testing.T) {
	for name, r := range goldenRecords() {
		env, err := Decode(r.Encode(nil))
		if err != nil {
			t.Fatal(err)
		}
		var hdr strings.Builder
		for _, h := range env.Headers {
			fmt.Fprintf(&hdr, "%s: %s\n", h[0], h[1])
		}
		golden(t, name+".headers", []byte(hdr.String()))
		for _, view := range []string{ViewNewAndOld, ViewNewImage, ViewOldImage, ViewKeysOnly} {
			out, err := Project(env.Data, view, &r.Sizes)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			pretty.Write(out)
			pretty.WriteByte('\n')
			golden(t, name+"."+strings.ToLower(view)+".json", pretty.Bytes())
		}
	}
}
