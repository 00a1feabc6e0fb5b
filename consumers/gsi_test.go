package consumers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
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

// TestGSIIndexerGap: changes the stream lost before the indexer read them
// (deleted from it here; records the indexer was too far behind for expire
// the same way) leave a gap in their shards' sequence numbers; when the
// shards' next records come, the indexer backfills the GSI again rather
// than go on without them.
func TestGSIIndexerGap(t *testing.T) {
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Relaxed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := cdctest.StartBus(t)
	info, err := e.CreateTable(&catalog.Table{
		Name:                 "t",
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}, {Name: "g", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
		GSIs: []catalog.Index{{Name: "by-g", KeySchema: []catalog.KeyElement{{Name: "g", KeyType: "HASH"}},
			Projection: catalog.Projection{Type: "KEYS_ONLY"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	relay, err := cdc.NewRelay(cdc.Options{Log: e.ChangeLog(), JS: b.JetStream()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	run := func() (stop func()) {
		ictx, icancel := context.WithCancel(ctx)
		var iwg sync.WaitGroup
		iwg.Go(func() { _ = NewGSIIndexer(e, b.JetStream(), nil).Run(ictx) })
		return func() { icancel(); iwg.Wait() }
	}
	put := func(k, g string) {
		t.Helper()
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(k), "g": attr.S(g)}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(g string) int {
		t.Helper()
		res, err := e.Query(engine.QueryRequest{Table: "t", Index: "by-g", Hash: attr.S(g), Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.Count
	}
	waitCounts := func(want map[string]int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := map[string]int{}
			for g := range want {
				got[g] = count(g)
			}
			if fmt.Sprint(got) == fmt.Sprint(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GSI partitions hold %v, want %v", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	stop := run()
	for i := range 60 {
		put(fmt.Sprint("k", i), "a")
	}
	waitCounts(map[string]int{"a": 60})
	stop()

	// While the indexer is down: 30 items move to "b", and the stream
	// loses the first 15 of those changes.
	for i := range 30 {
		put(fmt.Sprint("k", i), "b")
	}
	stream := waitStream(t, b, info.ID, 90)
	for seq := uint64(61); seq <= 75; seq++ {
		if err := stream.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	// Later changes on every shard reveal the gaps.
	for i := range 40 {
		put(fmt.Sprint("n", i), "c")
	}
	stop = run()
	defer stop()
	waitCounts(map[string]int{"a": 30, "b": 30, "c": 40})
	desc, err := e.DescribeTable("t")
	if err != nil {
		t.Fatal(err)
	}
	if ix := desc.Table.GSIs[0]; ix.Backfilling || ix.Status != catalog.StatusActive {
		t.Errorf("GSI after its new backfill: backfilling %v, status %s", ix.Backfilling, ix.Status)
	}
	if n := desc.GSIs["by-g"].Items; n != 100 {
		t.Errorf("GSI counts %d entries, want 100", n)
	}
}

// TestGSIIndexerSplit: a split's children continue their parent's
// sequence numbers, which is no gap: the GSI follows them without a new
// backfill.
func TestGSIIndexerSplit(t *testing.T) {
	var logs lockedBuffer
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Relaxed: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
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
	wg.Go(func() { _ = NewGSIIndexer(e, b.JetStream(), nil).Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	for i := range 200 {
		if i == 100 {
			if _, err := e.SplitShard("t", 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(fmt.Sprint("k", i)), "g": attr.S("a")}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.WaitGSI("t", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(engine.QueryRequest{Table: "t", Index: "by-g", Hash: attr.S("a"), Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 200 {
		t.Errorf("GSI holds %d items, want 200", res.Count)
	}
	if strings.Contains(logs.String(), "backfilling them again") {
		t.Errorf("the split made the GSI backfill again:\n%s", logs.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
