package catalog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sluicedb/sluice/engine/internal/kv"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// Errors returned by the catalog.
var (
	ErrExists   = errors.New("catalog: table exists")
	ErrNotFound = errors.New("catalog: table not found")
)

// metaNextID holds the next table id under table id 0 (never a real table).
const metaNextID = 'n'

// Catalog is the set of tables.
type Catalog struct {
	db *kv.DB
	mu struct {
		sync.Mutex
		tables map[string]*Table
		// dropped holds deleted tables that had a stream, by id, until
		// Forget: their streams stay readable for the retention window.
		dropped map[uint32]*Table
		nextID  uint32
	}
}

// Open loads every table definition from db.
func Open(db *kv.DB) (*Catalog, error) {
	c := &Catalog{db: db}
	c.mu.tables = map[string]*Table{}
	c.mu.dropped = map[uint32]*Table{}
	c.mu.nextID = 1
	if v, err := db.Get(keycodec.MetaKey(0, metaNextID)); err == nil && len(v) == 4 {
		c.mu.nextID = binary.BigEndian.Uint32(v)
	} else if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("reading next table id: %w", err)
	}
	p := keycodec.CatalogPrefix()
	it, err := db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			return nil, fmt.Errorf("reading catalog: %w", err)
		}
		var t Table
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("decoding catalog entry %q: %w", it.Key(), err)
		}
		c.mu.tables[t.Name] = &t
		if t.ID >= c.mu.nextID {
			c.mu.nextID = t.ID + 1
		}
	}
	if err := c.loadDropped(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Catalog) loadDropped() error {
	p := keycodec.DroppedPrefix()
	it, err := c.db.NewIter(p, keycodec.PrefixEnd(p))
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.Value()
		if err != nil {
			return fmt.Errorf("reading dropped tables: %w", err)
		}
		var t Table
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decoding dropped table %q: %w", it.Key(), err)
		}
		c.mu.dropped[t.ID] = &t
	}
	return nil
}

// Dropped returns the deleted tables whose definitions are kept for their
// streams, by id.
func (c *Catalog) Dropped() []*Table {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Table, 0, len(c.mu.dropped))
	for _, t := range c.mu.dropped {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Table) int { return int(int64(a.ID) - int64(b.ID)) })
	return out
}

// Forget deletes a dropped table's kept definition.
func (c *Catalog) Forget(id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.dropped[id]; !ok {
		return nil
	}
	b := c.db.NewBatch()
	defer b.Close()
	b.Delete(keycodec.DroppedKey(id))
	if err := b.Commit(true); err != nil {
		return err
	}
	delete(c.mu.dropped, id)
	return nil
}

// Get returns the table named name.
func (c *Catalog) Get(name string) (*Table, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.mu.tables[name]
	return t, ok
}

// List returns every table, sorted by name.
func (c *Catalog) List() []*Table {
	c.mu.Lock()
	out := make([]*Table, 0, len(c.mu.tables))
	for _, t := range c.mu.tables {
		out = append(out, t)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b *Table) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Len is the number of tables.
func (c *Catalog) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.mu.tables)
}

// Create assigns t a fresh id and stores it, durably, unless a table of that
// name exists.
func (c *Catalog) Create(t *Table) (*Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.tables[t.Name]; ok {
		return nil, ErrExists
	}
	t = t.Clone()
	t.ID = c.mu.nextID
	b := c.db.NewBatch()
	defer b.Close()
	var next [4]byte
	binary.BigEndian.PutUint32(next[:], t.ID+1)
	b.Set(keycodec.MetaKey(0, metaNextID), next[:])
	if err := put(b, t); err != nil {
		return nil, err
	}
	if err := b.Commit(true); err != nil {
		return nil, fmt.Errorf("storing table %q: %w", t.Name, err)
	}
	c.mu.nextID++
	c.mu.tables[t.Name] = t
	return t, nil
}

// Update applies fn to a copy of the named table and stores the result. fn's
// error aborts the update and is returned as is.
func (c *Catalog) Update(name string, fn func(t *Table) error) (*Table, error) {
	return c.UpdateWith(name, fn, nil)
}

// UpdateWith is Update with extra writes in the same atomic batch: extra
// sees the table before (old) and after (t) the update.
func (c *Catalog) UpdateWith(name string, fn func(t *Table) error, extra func(old, t *Table, b *kv.Batch) error) (*Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.mu.tables[name]
	if !ok {
		return nil, ErrNotFound
	}
	t := cur.Clone()
	if err := fn(t); err != nil {
		return nil, err
	}
	b := c.db.NewBatch()
	defer b.Close()
	if err := put(b, t); err != nil {
		return nil, err
	}
	if extra != nil {
		if err := extra(cur, t, b); err != nil {
			return nil, err
		}
	}
	if err := b.Commit(true); err != nil {
		return nil, fmt.Errorf("storing table %q: %w", name, err)
	}
	c.mu.tables[name] = t
	return t, nil
}

// Delete removes the named table's definition in batch b, and from memory once
// commit (called by Delete with b) succeeds. extra lets the caller add the
// deletion of the table's data to the same atomic batch. A table that had a
// stream is kept among the dropped tables, with Deleted set to now, until
// Forget.
func (c *Catalog) Delete(name string, now time.Time, extra func(t *Table, b *kv.Batch)) (*Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.mu.tables[name]
	if !ok {
		return nil, ErrNotFound
	}
	b := c.db.NewBatch()
	defer b.Close()
	b.Delete(keycodec.CatalogKey(name))
	var dropped *Table
	if len(t.Stream.History) > 0 {
		dropped = t.Clone()
		dropped.Deleted = now
		dropped.Status = StatusDeleting
		if n := len(dropped.Stream.History); dropped.Stream.History[n-1].Disabled.IsZero() {
			dropped.Stream.History[n-1].Disabled = now
		}
		dropped.Stream.Enabled = false
		v, err := json.Marshal(dropped)
		if err != nil {
			return nil, fmt.Errorf("encoding table %q: %w", name, err)
		}
		b.Set(keycodec.DroppedKey(t.ID), v)
	}
	if extra != nil {
		extra(t, b)
	}
	if err := b.Commit(true); err != nil {
		return nil, fmt.Errorf("deleting table %q: %w", name, err)
	}
	delete(c.mu.tables, name)
	if dropped != nil {
		c.mu.dropped[t.ID] = dropped
	}
	return t, nil
}

func put(b *kv.Batch, t *Table) error {
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding table %q: %w", t.Name, err)
	}
	b.Set(keycodec.CatalogKey(t.Name), v)
	return nil
}
