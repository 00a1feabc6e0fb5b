package engine

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Change is one committed WAL record.
type Change struct {
	TableID uint32
	Shard   shards.ID
	Seq     shards.Seq
	Time    time.Time // commit time; zero when read back from the WAL
	Data    []byte    // the WAL value: see cdc/event
}

// Position is a shard's place in the change log.
type Position struct {
	TableID uint32
	Table   string // "" once the table was deleted
	Shard   shards.ID
	Last    shards.Seq // last committed sequence number (0: none yet)
}

// ChangeLog is the engine's change log as its readers (the cdc relay, the
// Streams API) see it.
type ChangeLog struct{ e *Engine }

// ChangeLog returns the change-log reader.
func (e *Engine) ChangeLog() *ChangeLog { return &ChangeLog{e: e} }

// Subscribe registers fn to receive every batch of changes right after it is
// durable, in commit order. fn runs on the goroutine of the writer leading the commit: it must not
// block or call back into the engine. cancel stops delivery.
func (c *ChangeLog) Subscribe(fn func([]Change)) (cancel func()) {
	e := c.e
	e.mu.Lock()
	id := e.mu.next
	e.mu.next++
	e.mu.subs[id] = fn
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		delete(e.mu.subs, id)
		e.mu.Unlock()
	}
}

func (e *Engine) publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	e.mu.Lock()
	subs := make([]func([]Change), 0, len(e.mu.subs))
	for _, fn := range e.mu.subs {
		subs = append(subs, fn)
	}
	e.mu.Unlock()
	for _, fn := range subs {
		fn(changes)
	}
}

// Positions lists every shard that has a change log, sorted by table id and
// shard.
func (c *ChangeLog) Positions() []Position {
	e := c.e
	e.mu.Lock()
	out := make([]Position, 0, len(e.mu.shards))
	for k, st := range e.mu.shards {
		out = append(out, Position{TableID: k.table, Shard: k.shard, Last: shards.Seq(st.lastSeq.Load())})
	}
	e.mu.Unlock()
	names := map[uint32]string{}
	for _, t := range e.catalog.List() {
		names[t.ID] = t.Name
	}
	for i := range out {
		out[i].Table = names[out[i].TableID]
	}
	slices.SortFunc(out, func(a, b Position) int {
		if a.TableID != b.TableID {
			return int(int64(a.TableID) - int64(b.TableID))
		}
		return int(int64(a.Shard) - int64(b.Shard))
	})
	return out
}

// Read returns up to max records of a shard with sequence numbers from from
// on, in order. It returns fewer (possibly none) at the end of the log; the
// first returned record may be later than from if older ones were trimmed.
func (c *ChangeLog) Read(table uint32, sh shards.ID, from shards.Seq, max int) ([]Change, error) {
	leave, err := c.e.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	return c.e.readLog(table, sh, from, max)
}

// readLog is Read for callers that entered the engine.
func (e *Engine) readLog(table uint32, sh shards.ID, from shards.Seq, max int) ([]Change, error) {
	var out []Change
	err := e.scanLog(table, sh, from, func(seq shards.Seq, data []byte) bool {
		out = append(out, Change{TableID: table, Shard: sh, Seq: seq, Data: append([]byte(nil), data...)})
		return len(out) < max
	})
	return out, err
}

// Scan calls fn with the records of a shard from sequence number from on,
// in order, until fn returns false or the log ends. data is valid only
// during the call: Scan copies nothing, for readers that transform each
// record anyway (GetRecords).
func (c *ChangeLog) Scan(table uint32, sh shards.ID, from shards.Seq, fn func(seq shards.Seq, data []byte) bool) error {
	leave, err := c.e.enter()
	if err != nil {
		return err
	}
	defer leave()
	return c.e.scanLog(table, sh, from, fn)
}

func (e *Engine) scanLog(table uint32, sh shards.ID, from shards.Seq, fn func(seq shards.Seq, data []byte) bool) error {
	p := keycodec.WALPrefix(table, sh)
	it, err := e.db.NewIter(keycodec.WALKey(table, sh, from), keycodec.PrefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		v, err := it.Value()
		if err != nil {
			return err
		}
		if !fn(shards.Seq(binary.BigEndian.Uint64(k[len(k)-8:])), v) {
			break
		}
	}
	return nil
}

// First returns the oldest sequence number still in a shard's log, or 0 if
// the log is empty.
func (c *ChangeLog) First(table uint32, sh shards.ID) (shards.Seq, error) {
	leave, err := c.e.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	return c.e.firstSeq(table, sh)
}

// Trim deletes a shard's records with sequence numbers up to and including
// through. The caller (the relay) trims only what JetStream holds and what is
// past retention. A deleted table's shard is forgotten once trimmed to its end.
func (c *ChangeLog) Trim(table uint32, sh shards.ID, through shards.Seq) error {
	e := c.e
	leave, err := e.enter()
	if err != nil {
		return err
	}
	defer leave()
	b := e.db.NewBatch()
	defer b.Close()
	b.DeleteRange(keycodec.WALKey(table, sh, 0), keycodec.WALKey(table, sh, through+1))
	forget := false
	if _, live := e.tableByID(table); !live {
		e.mu.Lock()
		st := e.mu.shards[shardKey{table, sh}]
		if st != nil && shards.Seq(st.lastSeq.Load()) <= through {
			forget = true
			b.Delete(shardMetaKey(table, sh))
		}
		e.mu.Unlock()
	}
	if err := b.Commit(!e.opts.Relaxed); err != nil {
		return err
	}
	if forget {
		e.mu.Lock()
		delete(e.mu.shards, shardKey{table, sh})
		e.mu.Unlock()
	}
	return nil
}

// Live reports whether a table id names a table that exists.
func (c *ChangeLog) Live(table uint32) bool {
	_, ok := c.e.tableByID(table)
	return ok
}

// ForgetDropped removes what the store keeps of deleted tables once their
// streams can no longer be read: the definition and stream-shard lineage of
// every table deleted more than Options.Retention ago whose change log the
// relay has trimmed away (so that it has no shard left in Positions). It
// returns how many tables it forgot. The relay calls it as it trims.
func (c *ChangeLog) ForgetDropped() (int, error) {
	e := c.e
	leave, err := e.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	horizon := e.opts.Now().Add(-e.opts.Retention)
	logged := map[uint32]bool{}
	e.mu.Lock()
	for k := range e.mu.shards {
		logged[k.table] = true
	}
	e.mu.Unlock()
	n := 0
	for _, def := range e.catalog.Dropped() {
		if !def.Deleted.Before(horizon) || logged[def.ID] {
			continue
		}
		// Lineage first: a crash between the two leaves a definition that
		// the next pass forgets, never lineage without an owner.
		b := e.db.NewBatch()
		p := keycodec.MetaKey(def.ID, keycodec.MetaLineage)
		b.DeleteRange(p, keycodec.PrefixEnd(p))
		err := b.Commit(!e.opts.Relaxed)
		b.Close()
		if err != nil {
			return n, err
		}
		if err := e.catalog.Forget(def.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
