package engine

import (
	"slices"
	"strings"
)

// Capacity is the capacity a request consumed on one table, in DynamoDB's
// units: the table's own share and each secondary index's
// (ReturnConsumedCapacity INDEXES shows them apart, TOTAL adds them up).
type Capacity struct {
	Table string
	Read  float64 // the table's read capacity units
	Write float64 // the table's write capacity units
	// Indexes are the units of the indexes the request read or whose
	// entries it changed, in the order first met.
	Indexes []IndexCapacity
}

// IndexCapacity is one secondary index's share of a Capacity.
type IndexCapacity struct {
	Name   string
	Global bool // a GSI; else an LSI
	Read   float64
	Write  float64
}

// Units is the total (read plus write) units, the indexes' included.
func (c Capacity) Units() float64 {
	u := c.Read + c.Write
	for _, ix := range c.Indexes {
		u += ix.Read + ix.Write
	}
	return u
}

// index returns the entry of the named index, adding it if needed.
func (c *Capacity) index(name string, global bool) *IndexCapacity {
	for i := range c.Indexes {
		if c.Indexes[i].Name == name && c.Indexes[i].Global == global {
			return &c.Indexes[i]
		}
	}
	c.Indexes = append(c.Indexes, IndexCapacity{Name: name, Global: global})
	return &c.Indexes[len(c.Indexes)-1]
}

// Add adds o's units (of the same table) to c.
func (c *Capacity) Add(o Capacity) {
	c.Read += o.Read
	c.Write += o.Write
	for _, ix := range o.Indexes {
		x := c.index(ix.Name, ix.Global)
		x.Read += ix.Read
		x.Write += ix.Write
	}
}

// scaled is c with every unit multiplied by f (transactions count twice).
func (c Capacity) scaled(f float64) Capacity {
	out := Capacity{Table: c.Table, Read: c.Read * f, Write: c.Write * f}
	for _, ix := range c.Indexes {
		out.Indexes = append(out.Indexes, IndexCapacity{Name: ix.Name, Global: ix.Global, Read: ix.Read * f, Write: ix.Write * f})
	}
	return out
}

// SortedIndexes returns the indexes' shares ordered by name: LSIs, then GSIs.
func (c Capacity) SortedIndexes() []IndexCapacity {
	out := slices.Clone(c.Indexes)
	slices.SortFunc(out, func(a, b IndexCapacity) int {
		if a.Global != b.Global {
			if a.Global {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// writeCapacity: one unit per started KB of the larger of the old and new
// item, at least one.
func writeCapacity(table string, size int) Capacity {
	return Capacity{Table: table, Write: float64(units(size, 1024))}
}

// readCapacity: one unit per started 4 KB, at least one, halved for an
// eventually consistent read.
func readCapacity(table string, size int, consistent bool) Capacity {
	return Capacity{Table: table, Read: readUnits(size, consistent)}
}

func readUnits(size int, consistent bool) float64 {
	u := float64(units(size, 4096))
	if !consistent {
		u /= 2
	}
	return u
}

func units(size, per int) int {
	n := (size + per - 1) / per
	if n < 1 {
		n = 1
	}
	return n
}

// lsiEntryOverhead is what DynamoDB adds to a local secondary index entry's
// size when it charges the entry's write (the 100 bytes of overhead its
// storage considerations give per index item). GSI entries are charged on
// their projected size alone (as DynamoDB Local does).
const lsiEntryOverhead = 100

// indexWriteUnits is the write units of one index entry change, as
// DynamoDB counts them: nothing when the entry is absent before and after
// or unchanged; one write per started KB of the entry put when it appears
// or its projected attributes change; one per started KB of each entry
// when its index key changes (a delete and a put); one per started KB of
// the old entry when it disappears. Sizes are -1 for an absent entry.
func indexWriteUnits(oldSize, newSize int, sameKey, sameValue bool, overhead int) float64 {
	switch {
	case oldSize < 0 && newSize < 0:
		return 0
	case oldSize < 0:
		return float64(units(newSize+overhead, 1024))
	case newSize < 0:
		return float64(units(oldSize+overhead, 1024))
	case !sameKey:
		return float64(units(oldSize+overhead, 1024) + units(newSize+overhead, 1024))
	case sameValue:
		return 0
	}
	return float64(units(newSize+overhead, 1024))
}
