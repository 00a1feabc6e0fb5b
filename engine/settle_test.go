package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// TestReadsSettle: Pebble shows a batch to readers before its fsync ends,
// so every read waits for a write that holds the stripe of an item it read
// (the writer holds it until the batch is durable) before it answers; a
// crash could otherwise take back what a client saw. The stripe is held by
// hand here, as an in-flight write holds it.
func TestReadsSettle(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, lsiTableDef("q"))
	key := attr.Item{"pk": attr.S("p"), "sk": attr.S("s1")}
	putAll(t, e, "q", []attr.Item{{"pk": attr.S("p"), "sk": attr.S("s1"), "rank": num(t, "1")}})
	absent := attr.Item{"pk": attr.S("p"), "sk": attr.S("s2")}
	for _, tc := range []struct {
		name string
		key  attr.Item // whose stripe is held
		read func() error
	}{
		{"GetItem", key, func() error { _, err := e.GetItem(GetRequest{Table: "q", Key: key}); return err }},
		{"GetItem of an absent item", absent, func() error { _, err := e.GetItem(GetRequest{Table: "q", Key: absent}); return err }},
		{"BatchGetItem", key, func() error {
			_, err := e.BatchGet(BatchGetRequest{Tables: []BatchGetTable{{Table: "q", Keys: []attr.Item{absent, key}}}})
			return err
		}},
		{"TransactGetItems", absent, func() error {
			_, err := e.TransactGet([]TxGet{{Table: "q", Key: key}, {Table: "q", Key: absent}})
			return err
		}},
		{"Query", key, func() error {
			_, err := e.Query(QueryRequest{Table: "q", Hash: attr.S("p"), Forward: true})
			return err
		}},
		{"Query of an LSI", key, func() error {
			_, err := e.Query(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true})
			return err
		}},
		{"Query of an LSI fetching its items", key, func() error {
			_, err := e.Query(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true, Fetch: true})
			return err
		}},
		{"Scan", key, func() error { _, err := e.Scan(ScanRequest{Table: "q"}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kp, err := e.itemKey(mustDef(t, e, "q"), tc.key, true)
			if err != nil {
				t.Fatal(err)
			}
			lock := e.lockFor(kp.key)
			lock.Lock()
			done := make(chan error, 1)
			go func() { done <- tc.read() }()
			select {
			case err := <-done:
				lock.Unlock()
				t.Fatalf("answered (%v) while a write held the item's stripe", err)
			case <-time.After(50 * time.Millisecond):
			}
			lock.Unlock()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still waiting after the stripe was released")
			}
		})
	}
}

func mustDef(t *testing.T, e *Engine, name string) *catalog.Table {
	t.Helper()
	tb, ok := e.lookup(name)
	if !ok {
		t.Fatalf("no table %s", name)
	}
	return tb.def.Load()
}

// TestRangeReadsSettleDeletes: a Query or Scan page that no longer shows
// an item because a delete is still committing waits for the delete to be
// durable; Engine.settle cannot cover it, as the page never reads the item.
// The delete is held after its batch was applied (visible) and before it
// counts as durable, as a slow fsync holds it.
func TestRangeReadsSettleDeletes(t *testing.T) {
	e := openRelaxed(t)
	mustCreate(t, e, lsiTableDef("q"))
	for i, tc := range []struct {
		name string
		read func() (ReadResult, error)
	}{
		{"Query", func() (ReadResult, error) {
			return e.Query(QueryRequest{Table: "q", Hash: attr.S("p"), Forward: true})
		}},
		{"Query of an LSI", func() (ReadResult, error) {
			return e.Query(QueryRequest{Table: "q", Index: "keys", Hash: attr.S("p"), Forward: true})
		}},
		{"Scan", func() (ReadResult, error) { return e.Scan(ScanRequest{Table: "q"}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gone := attr.Item{"pk": attr.S("p"), "sk": attr.S(fmt.Sprint("gone", i))}
			putAll(t, e, "q", []attr.Item{
				{"pk": attr.S("p"), "sk": attr.S("stays"), "rank": num(t, "1")},
				{"pk": gone["pk"], "sk": gone["sk"], "rank": num(t, "2")},
			})
			applied, release := make(chan struct{}), make(chan struct{})
			e.committer.afterCommit = func() { close(applied); <-release }
			deleted := make(chan error, 1)
			go func() {
				_, err := e.DeleteItem(DeleteRequest{Table: "q", Key: gone})
				deleted <- err
			}()
			<-applied
			e.committer.afterCommit = nil
			type answer struct {
				res ReadResult
				err error
			}
			done := make(chan answer, 1)
			go func() {
				res, err := tc.read()
				done <- answer{res, err}
			}()
			select {
			case a := <-done:
				close(release)
				t.Fatalf("answered (%d items, %v) while the delete was committing", a.res.Count, a.err)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			if err := <-deleted; err != nil {
				t.Fatal(err)
			}
			select {
			case a := <-done:
				if a.err != nil || a.res.Count != 1 {
					t.Fatalf("answered %d items, %v; want the one left", a.res.Count, a.err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("still waiting after the delete was durable")
			}
		})
	}
}
