package consumers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc"
	"github.com/sluicedb/sluice/cdc/cdctest"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// TestGSIIndexer runs the relay and the indexer in process (so -race sees
// them): writers change items of a table with a GSI, and the GSI ends equal
// to the table, including after the indexer restarts.
func TestGSIIndexer(t *testing.T) {
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Relaxed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := cdctest.StartBus(t)
	if _, err := e.CreateTable(&catalog.Table{
		Name:                 "t",
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}, {Name: "g", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
		GSIs: []catalog.Index{{Name: "by-g", KeySchema: []catalog.KeyElement{{Name: "g", KeyType: "HASH"}},
			Projection: catalog.Projection{Type: "KEYS_ONLY"}}},
	}); err != nil {
		t.Fatal(err)
	}
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	run := func() (stop func()) {
		ictx, icancel := context.WithCancel(ctx)
		var iwg sync.WaitGroup
		iwg.Go(func() { _ = NewGSIIndexer(e, b.JetStream(), nil).Run(ictx) })
		return func() { icancel(); iwg.Wait() }
	}
	stop := run()
	put := func(i, v int) {
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "g": attr.S(fmt.Sprint("g", v%7))}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		put(i%50, i)
		if i == 100 {
			stop() // the indexer stops and resumes from its position
			stop = run()
		}
	}
	defer func() {
		stop()
		cancel()
		wg.Wait()
	}()
	want := map[string]int{}
	for i := 150; i < 200; i++ {
		want[fmt.Sprint("g", i%7)]++
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[string]int{}
		for g := range 7 {
			res, err := e.Query(engine.QueryRequest{Table: "t", Index: "by-g", Hash: attr.S(fmt.Sprint("g", g)), Forward: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Count > 0 {
				got[fmt.Sprint("g", g)] = res.Count
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GSI %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
