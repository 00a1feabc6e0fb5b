package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
	"github.com/sluicedb/sluice/engine/expr"
	"github.com/sluicedb/sluice/engine/invariants"
	"github.com/sluicedb/sluice/engine/keycodec"
	"github.com/sluicedb/sluice/shards"
)

// Query and Scan read one page: a range of item keys walked by one Pebble
// iterator (a consistent point-in-time view), in key order, which is
// DynamoDB's order (keycodec). A page ends after Limit items were evaluated
// or once the items read reach MaxPageBytes (DynamoDB's 1 MB rule: the item
// that reaches the limit is part of the page), both counted before the
// filter. LastKey is then the key of the last item evaluated, also when no
// item follows it, as DynamoDB does; it is nil only when the range was read
// to its end. Capacity is charged on the total size of the items read,
// rounded up once for the page.

// MaxPageBytes is the size of the items one Query or Scan page reads at most
// (plus the item that crosses it).
const MaxPageBytes = 1 << 20

// Projector selects the attributes of an item returned by a read;
// *expr.Projection is one.
type Projector interface {
	Project(item attr.Item) attr.Item
}

// QueryRequest is a Query on a table's primary key, checked for shape and
// bound to the key schema by the caller.
type QueryRequest struct {
	Table string
	// Index names a local secondary index to read instead of the table
	// ("" for the table); Range is then a condition on its sort key.
	Index string
	// Fetch reads each item from the table too, for the attributes an
	// index does not project (Select ALL_ATTRIBUTES, or a projection or
	// filter naming them), as DynamoDB does for LSIs.
	Fetch bool
	// Hash is the partition key value.
	Hash attr.Value
	// HashValues, for a GSI whose partition key has several attributes,
	// holds the value of each in KeySchema order (Hash is then ignored).
	HashValues []attr.Value
	// SortPrefix, for a GSI whose sort key has several attributes, holds
	// the values that its leading attributes equal, in KeySchema order;
	// Range is then the condition on the attribute after them.
	SortPrefix []attr.Value
	// Range is the sort-key condition; nil reads the whole partition (or,
	// with SortPrefix, the entries that start with it).
	Range *expr.KeyCond
	// Forward is ScanIndexForward: ascending sort-key order.
	Forward bool
	// Limit is the number of items to evaluate; 0 means no limit.
	Limit int
	// ExclusiveStart is the key the page starts strictly after, nil for the
	// first page.
	ExclusiveStart attr.Item
	// Filter selects the items returned; nil returns every item read.
	Filter Condition
	// Projection selects the attributes returned; nil returns whole items.
	Projection Projector
	// CountOnly counts the matching items without returning them (Select
	// COUNT).
	CountOnly bool
	// Consistent is ConsistentRead: reads always see every acknowledged
	// write, so it changes only the capacity charged.
	Consistent bool
}

// ReadResult is one page of a Query or Scan.
type ReadResult struct {
	// Items are the items that passed the filter, as canonical DynamoDB
	// JSON (projected when asked); nil with CountOnly.
	Items [][]byte
	// Count is the number of items that passed the filter.
	Count int
	// ScannedCount is the number of items evaluated.
	ScannedCount int
	// LastKey is the primary key of the last item evaluated when the page
	// stopped early (Limit or size), nil when the range was read to its end.
	LastKey  attr.Item
	Capacity Capacity
}

// Messages about a Query's ExclusiveStartKey, word for word as DynamoDB
// sends them. Query answers a key that does not fit the schema with the
// short form (the conformance suite, recorded against DynamoDB); Scan adds
// the reason (msgStartKeyPrefix + attr.MsgKeySchemaMismatch).
const (
	msgStartKeyInvalid   = "The provided starting key is invalid"
	msgStartKeyPrefix    = msgStartKeyInvalid + ": "
	msgStartKeyOutside   = "The provided starting key is outside query boundaries based on provided conditions"
	msgStartKeyPredicate = "The provided starting key does not match the range key predicate"
)

// readTable admits a read (see enter) and resolves its table; the caller
// calls leave when done.
func (e *Engine) readTable(name string) (def *catalog.Table, leave func(), err error) {
	leave, err = e.enter()
	if err != nil {
		return nil, nil, err
	}
	t, ok := e.lookup(name)
	if !ok {
		leave()
		return nil, nil, attr.Errorf(ErrTableNotFound, "Requested resource not found")
	}
	return t.def.Load(), leave, nil
}

// startKey checks an ExclusiveStartKey against the table's key schema and
// returns its parts. short selects Query's wording for a key that does not
// match the schema.
func (e *Engine) startKey(def *catalog.Table, key attr.Item, short bool) (keyParts, error) {
	kp, err := e.itemKey(def, key, true)
	if err == nil {
		return kp, nil
	}
	var ae *attr.Error
	if !errors.As(err, &ae) {
		return kp, err
	}
	if short && ae.Msg == attr.MsgKeySchemaMismatch {
		return kp, attr.Invalid(msgStartKeyInvalid)
	}
	return kp, attr.Invalid("%s%s", msgStartKeyPrefix, ae.Msg)
}

// after is the smallest key greater than k and every key that k is a
// proper prefix of. Item keys are self-delimiting (keycodec), so no item
// key lies strictly between k and after(k).
func after(k []byte) []byte {
	return append(k[:len(k):len(k)], 0)
}

// Query reads one page of a partition, in sort-key order (reversed unless
// Forward), narrowed to the sort-key condition; of an LSI when Index is set.
func (e *Engine) Query(req QueryRequest) (ReadResult, error) {
	def, leave, err := e.readTable(req.Table)
	if err != nil {
		return ReadResult{}, err
	}
	defer leave()
	ix, g, err := indexOf(def, req.Index)
	if err != nil {
		return ReadResult{}, err
	}
	var prefix []byte
	if g != nil {
		if prefix, err = g.partitionPrefix(def, req); err != nil {
			return ReadResult{}, err
		}
	} else {
		if req.HashValues != nil || req.SortPrefix != nil {
			// Only GSIs have multi-attribute keys; binding the key
			// condition to a table's or LSI's key schema never sets these.
			return ReadResult{}, attr.Invalid("Query key condition not supported")
		}
		hName, hType := def.HashKey()
		if err := attr.ValidateKeyElement(hName, req.Hash, hType); err != nil {
			return ReadResult{}, err
		}
		typ, canon := keycodec.Canonical(req.Hash)
		h := shards.HashKey(def.HashVersion, typ, canon)
		if ix != nil {
			prefix = keycodec.IndexPartitionPrefix(nil, def.ID, ix.n, h, req.Hash)
		} else {
			prefix = keycodec.PartitionPrefix(nil, def.ID, h, req.Hash)
		}
	}
	// The equalities on a GSI's leading sort-key attributes narrow the
	// range to the entries that start with their encodings (prefix-free,
	// so no other entry does); the condition on the next attribute then
	// bounds it as a one-attribute sort key's does.
	rangePrefix := prefix
	for _, v := range req.SortPrefix {
		rangePrefix = keycodec.AppendValue(bytes.Clone(rangePrefix), v)
	}
	lower, upper := sortKeyRange(rangePrefix, req.Range)

	if req.ExclusiveStart != nil {
		var start []byte
		var sk *attr.Value
		eqMatch := true // the sort-key equalities of a multi-attribute GSI key
		switch {
		case g != nil:
			var gsk []attr.Value
			if start, gsk, err = e.gsiStartKey(def, g, req.ExclusiveStart, true); err != nil {
				return ReadResult{}, err
			}
			eqMatch = sortPrefixMatch(gsk, req.SortPrefix)
			if i := len(req.SortPrefix); i < len(gsk) {
				sk = &gsk[i]
			}
		case ix != nil:
			if start, sk, err = e.indexStartKey(def, ix, req.ExclusiveStart, true); err != nil {
				return ReadResult{}, err
			}
		default:
			kp, err := e.startKey(def, req.ExclusiveStart, true)
			if err != nil {
				return ReadResult{}, err
			}
			start, sk = kp.key, kp.sk
		}
		if !bytes.HasPrefix(start, prefix) {
			return ReadResult{}, attr.Invalid(msgStartKeyOutside)
		}
		if !eqMatch || req.Range != nil && sk != nil && !req.Range.Match(*sk) {
			return ReadResult{}, attr.Invalid(msgStartKeyPredicate)
		}
		if req.Forward {
			if k := after(start); bytes.Compare(k, lower) > 0 {
				lower = k
			}
		} else if bytes.Compare(start, upper) < 0 {
			upper = start
		}
	}
	p := page{
		def:        def,
		index:      ix,
		gsi:        g,
		fetch:      req.Fetch && ix != nil,
		limit:      req.Limit,
		filter:     req.Filter,
		projection: req.Projection,
		countOnly:  req.CountOnly,
		consistent: req.Consistent,
	}
	if invariants.Enabled && req.Range != nil && ix == nil && g == nil {
		p.check = req.Range.Match
	}
	return e.readPage(p, lower, upper, req.Forward)
}

// lsiRead is the LSI a read goes through.
type lsiRead struct {
	n       uint8 // position in the table's LSIs
	skName  string
	skType  attr.Type
	catalog catalog.Index
}

// indexOf resolves an index name ("" for the table) to one of def's LSIs
// or GSIs.
func indexOf(def *catalog.Table, name string) (*lsiRead, *gsiRead, error) {
	if name == "" {
		return nil, nil, nil
	}
	if g := gsiOf(def, name); g != nil {
		return nil, g, nil
	}
	ix, err := lsiOf(def, name)
	return ix, nil, err
}

// partitionPrefix checks a Query's partition-key values against the GSI's
// partition-key attributes and returns the prefix of the partition's
// entries.
func (g *gsiRead) partitionPrefix(def *catalog.Table, req QueryRequest) ([]byte, error) {
	gpk := req.HashValues
	if gpk == nil {
		gpk = []attr.Value{req.Hash}
	}
	if len(gpk) != len(g.hash) {
		// The caller binds the key condition to the GSI's key schema
		// first; a mismatch here is a caller's bug, answered as DynamoDB
		// answers a missing partition-key attribute.
		name := g.hash[min(len(gpk), len(g.hash)-1)].name
		return nil, attr.Invalid("Query condition missed key schema element: %s", name)
	}
	for i, v := range gpk {
		if err := attr.ValidateKeyElement(g.hash[i].name, v, g.hash[i].typ); err != nil {
			return nil, err
		}
	}
	conds := len(req.SortPrefix)
	if req.Range != nil {
		conds++
	}
	if conds > len(g.rng) {
		return nil, attr.Invalid("Query key condition not supported")
	}
	for i, v := range req.SortPrefix {
		if v.T != g.rng[i].typ {
			return nil, attr.Invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
	}
	h := keycodec.GSIHash(def.HashVersion, gpk)
	return keycodec.GSIPartitionPrefix(nil, def.ID, g.n, h, gpk), nil
}

// sortPrefixMatch reports whether the sort-key values of an entry start
// with the equalities of a Query.
func sortPrefixMatch(gsk, eq []attr.Value) bool {
	if len(gsk) < len(eq) {
		return false
	}
	for i, v := range eq {
		if !attr.Equal(gsk[i], v) {
			return false
		}
	}
	return true
}

// gsiStartKey checks an ExclusiveStartKey of a GSI read (the table's key
// and every key attribute of the GSI) and returns the entry key it names
// and its GSI sort-key values.
func (e *Engine) gsiStartKey(def *catalog.Table, g *gsiRead, key attr.Item, short bool) ([]byte, []attr.Value, error) {
	bad := func() ([]byte, []attr.Value, error) {
		if short {
			return nil, nil, attr.Invalid(msgStartKeyInvalid)
		}
		return nil, nil, attr.Invalid("%s%s", msgStartKeyPrefix, attr.MsgKeySchemaMismatch)
	}
	values := func(attrs []keyAttr) ([]attr.Value, bool) {
		var out []attr.Value
		for _, a := range attrs {
			v, ok := key[a.name]
			if !ok || v.T != a.typ {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	gpk, ok := values(g.hash)
	if !ok {
		return bad()
	}
	gsk, ok := values(g.rng)
	if !ok {
		return bad()
	}
	kp, err := e.startKey(def, keyItemOf(def, key), short)
	if err != nil {
		return nil, nil, err
	}
	h := keycodec.GSIHash(def.HashVersion, gpk)
	return keycodec.GSIKey(nil, def.ID, g.n, h, gpk, gsk, *kp.pk, kp.sk), gsk, nil
}

// lsiOf resolves an index name ("" for none) to one of def's LSIs.
func lsiOf(def *catalog.Table, name string) (*lsiRead, error) {
	if name == "" {
		return nil, nil
	}
	for i, ix := range def.LSIs {
		if ix.Name == name {
			sk := lsiSortKey(ix)
			return &lsiRead{n: uint8(i), skName: sk, skType: def.AttrType(sk), catalog: ix}, nil
		}
	}
	return nil, attr.Invalid("The table does not have the specified index: %s", name)
}

// indexStartKey checks an ExclusiveStartKey of an LSI read (the table's key
// and the index's sort key) and returns the entry key it names and its
// index sort key.
func (e *Engine) indexStartKey(def *catalog.Table, ix *lsiRead, key attr.Item, short bool) ([]byte, *attr.Value, error) {
	isk, ok := key[ix.skName]
	if !ok || isk.T != ix.skType {
		if short {
			return nil, nil, attr.Invalid(msgStartKeyInvalid)
		}
		return nil, nil, attr.Invalid("%s%s", msgStartKeyPrefix, attr.MsgKeySchemaMismatch)
	}
	tableKey := attr.Item{}
	for _, k := range def.KeySchema {
		if v, ok := key[k.Name]; ok {
			tableKey[k.Name] = v
		}
	}
	kp, err := e.startKey(def, tableKey, short)
	if err != nil {
		return nil, nil, err
	}
	return keycodec.IndexKey(nil, def.ID, ix.n, kp.hash, *kp.pk, isk, kp.sk), &isk, nil
}

// sortKeyRange is the key range [lower, upper) of the keys under prefix
// (a partition of a table or of an LSI) whose (index) sort key satisfies c,
// all of them for nil. Every operator maps to one contiguous range because
// the sort-key encoding preserves DynamoDB's order; the encodings are
// prefix-free, so PrefixEnd of a value's encoding bounds every key that
// continues after it (an LSI entry continues with the item's sort key);
// begins_with (S and B only) is the range of keys that start with the
// escaped prefix, since the escaping is a prefix code (keycodec).
func sortKeyRange(prefix []byte, c *expr.KeyCond) (lower, upper []byte) {
	end := keycodec.PrefixEnd(prefix)
	if c == nil {
		return prefix, end
	}
	enc := func(i int) []byte { return keycodec.AppendValue(bytes.Clone(prefix), c.Values[i]) }
	switch c.Op {
	case "=":
		k := enc(0)
		return k, keycodec.PrefixEnd(k)
	case "<":
		return prefix, enc(0)
	case "<=":
		return prefix, keycodec.PrefixEnd(enc(0))
	case ">":
		return keycodec.PrefixEnd(enc(0)), end
	case ">=":
		return enc(0), end
	case "BETWEEN":
		return enc(0), keycodec.PrefixEnd(enc(1))
	case "begins_with":
		k := enc(0)
		k = k[:len(k)-2] // drop the S/B terminator 00 01
		return k, keycodec.PrefixEnd(k)
	}
	panic(fmt.Sprintf("engine: unknown key condition operator %q", c.Op))
}

// page is what readPage needs to know of a Query or Scan.
type page struct {
	def        *catalog.Table
	index      *lsiRead // the LSI read, nil for the table
	gsi        *gsiRead // the GSI read, nil for the table
	fetch      bool     // read each item from the table as well
	limit      int
	filter     Condition
	projection Projector
	countOnly  bool
	consistent bool
	// check, under the invariants tag, asserts each sort key read.
	check func(attr.Value) bool
}

// readPage reads the items in [lower, upper), forwards or backwards, until
// the range ends, the limit is reached, or MaxPageBytes were read.
func (e *Engine) readPage(p page, lower, upper []byte, forward bool) (ReadResult, error) {
	var res ReadResult
	if upper != nil && bytes.Compare(lower, upper) >= 0 {
		res.Capacity = p.capacity(0, 0)
		return res, nil
	}
	it, err := e.db.NewIter(lower, upper)
	if err != nil {
		return ReadResult{}, err
	}
	closed := false
	defer func() {
		if !closed {
			_ = it.Close() // an error return is already on its way
		}
	}()
	move := it.Next
	ok := it.First()
	if !forward {
		move, ok = it.Prev, it.Last()
	}
	// read counts the bytes of every item read (the page limit), entries
	// those of the table's items or the index's entries, fetched the units
	// of the table fetches.
	read, entries, fetched := 0, 0, 0.0
	var last []byte
	for ; ok; ok = move() {
		v, err := it.Value()
		if err != nil {
			return ReadResult{}, err
		}
		size, js, err := decodeStored(v)
		if err != nil {
			return ReadResult{}, err
		}
		if p.check != nil {
			e.checkSortKey(p, it.Key())
		}
		itemKey, err := p.itemKey(it.Key())
		if err != nil {
			return ReadResult{}, err
		}
		res.ScannedCount++
		read += size
		entries += size
		if p.fetch {
			itemSize, itemJS, err := readStored(e.db, itemKey)
			if err != nil {
				return ReadResult{}, err
			}
			if itemJS != nil { // else deleted since: keep the entry's attributes
				js = itemJS
				read += itemSize
				fetched += float64(units(itemSize, 4096))
			}
		}
		if itemKey != nil {
			e.settle(itemKey)
		}
		var item attr.Item
		pass := true
		if p.filter != nil {
			if err := item.UnmarshalJSON(js); err != nil {
				return ReadResult{}, fmt.Errorf("decoding a stored item: %w", err)
			}
			if pass, err = p.filter.Eval(item); err != nil {
				return ReadResult{}, err
			}
		}
		if pass {
			res.Count++
			if !p.countOnly {
				res.Items = append(res.Items, p.output(item, js))
			}
		}
		if (p.limit > 0 && res.ScannedCount >= p.limit) || read >= MaxPageBytes {
			last = bytes.Clone(it.Key())
			break
		}
	}
	closed = true
	if err := it.Close(); err != nil {
		return ReadResult{}, err
	}
	if p.gsi == nil {
		e.committer.settleDeletes()
	}
	if last != nil {
		key, err := lastKey(p.def, p.index, p.gsi, last)
		if err != nil {
			return ReadResult{}, err
		}
		res.LastKey = key
	}
	res.Capacity = p.capacity(entries, fetched)
	return res, nil
}

// capacity is what a page consumed that read entries bytes of items (or
// index entries) and fetched items from the table for fetched units (one
// per started 4 KB of each item, as DynamoDB Local charges them). On an
// index, the index has the entries' units and the table the fetches'
// (zero without).
func (p *page) capacity(entries int, fetched float64) Capacity {
	c := Capacity{Table: p.def.Name}
	switch {
	case p.index != nil:
		c.index(p.index.catalog.Name, false).Read = readUnits(entries, p.consistent)
	case p.gsi != nil:
		c.index(p.gsi.catalog.Name, true).Read = readUnits(entries, p.consistent)
	default:
		c.Read = readUnits(entries, p.consistent)
		return c
	}
	c.Read = fetched
	return c
}

// output is the JSON returned for an item that passed the filter: a copy of
// the stored JSON, or its projection (item is the decoded item, or nil if
// it was not decoded yet).
func (p *page) output(item attr.Item, js []byte) []byte {
	if p.projection == nil {
		return bytes.Clone(js)
	}
	if item == nil {
		if err := item.UnmarshalJSON(js); err != nil {
			// The stored JSON was written by encodeItem; failing to
			// decode it is a bug, not a request error.
			panic(fmt.Sprintf("engine: decoding a stored item: %v", err))
		}
	}
	return attr.AppendItemJSON(nil, p.projection.Project(item))
}

// checkSortKey panics if an item read by a Query does not satisfy its
// sort-key condition (invariants builds only).
func (e *Engine) checkSortKey(p page, k []byte) {
	_, pkType := p.def.HashKey()
	_, skType := p.def.RangeKey()
	_, _, sk, err := keycodec.DecodeItemKey(k, pkType, skType)
	if err != nil || sk == nil || !p.check(*sk) {
		panic(fmt.Sprintf("engine: Query read key %x outside its sort-key condition (%v)", k, err))
	}
}

// lastKey decodes a storage key (an item's, or an LSI entry's) into the
// LastEvaluatedKey: the item's primary key, and the index sort key for an
// entry.
func lastKey(def *catalog.Table, ix *lsiRead, g *gsiRead, k []byte) (attr.Item, error) {
	hName, hType := def.HashKey()
	rName, rType := def.RangeKey()
	var (
		pk  attr.Value
		sk  *attr.Value
		err error
	)
	key := attr.Item{}
	if g != nil {
		var gpk, gsk []attr.Value
		_, gpk, gsk, pk, sk, err = keycodec.DecodeGSIKey(k, attrTypes(g.hash), attrTypes(g.rng), hType, rType)
		if err != nil {
			return nil, err
		}
		for i, a := range g.hash {
			key[a.name] = gpk[i]
		}
		for i, a := range g.rng {
			key[a.name] = gsk[i]
		}
	} else if ix != nil {
		var isk attr.Value
		_, pk, isk, sk, err = keycodec.DecodeIndexKey(k, hType, ix.skType, rType)
		key[ix.skName] = isk
	} else {
		_, pk, sk, err = keycodec.DecodeItemKey(k, hType, rType)
	}
	if err != nil {
		return nil, err
	}
	key[hName] = pk
	if sk != nil {
		key[rName] = *sk
	}
	return key, nil
}

// itemKey is the storage key of the item a page row at key is (a table's)
// or indexes (an LSI entry, written in its item's batch), which the read
// settles (Engine.settle); nil for a GSI's entry, which the stream wrote
// from a durable change.
func (p page) itemKey(key []byte) ([]byte, error) {
	switch {
	case p.gsi != nil:
		return nil, nil
	case p.index == nil:
		return key, nil
	}
	_, hType := p.def.HashKey()
	_, rType := p.def.RangeKey()
	h, pk, _, sk, err := keycodec.DecodeIndexKey(key, hType, p.index.skType, rType)
	if err != nil {
		return nil, err
	}
	return keycodec.ItemKey(nil, p.def.ID, h, pk, sk), nil
}
