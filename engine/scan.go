package engine

import (
	"bytes"
	"encoding/binary"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// MaxTotalSegments is the largest TotalSegments of a parallel Scan.
const MaxTotalSegments = 1_000_000

// ScanRequest is a Scan of a table, or of one segment of it, checked for
// shape by the caller.
type ScanRequest struct {
	Table string
	// Index and Fetch are as for QueryRequest.
	Index string
	Fetch bool
	// Segment and TotalSegments select a parallel-scan segment: the hash
	// range [Segment×2³²/TotalSegments, (Segment+1)×2³²/TotalSegments).
	// TotalSegments 0 scans the whole table.
	Segment, TotalSegments int
	// Limit, ExclusiveStart, Filter, Projection, CountOnly and Consistent
	// are as for QueryRequest.
	Limit          int
	ExclusiveStart attr.Item
	Filter         Condition
	Projection     Projector
	CountOnly      bool
	Consistent     bool
}

// Scan reads one page of a table (or of one segment) in storage order: by
// partition-key hash, then partition key, then sort key. That order is
// total and stable, so paging with LastKey never misses or repeats an item
// that exists throughout, and segments are disjoint hash ranges whose union
// is the table.
func (e *Engine) Scan(req ScanRequest) (ReadResult, error) {
	def, leave, err := e.readTable(req.Table)
	if err != nil {
		return ReadResult{}, err
	}
	defer leave()
	start, end := uint64(0), uint64(1)<<32
	if req.TotalSegments > 0 {
		n := uint64(req.TotalSegments)
		start = uint64(req.Segment) << 32 / n
		end = (uint64(req.Segment) + 1) << 32 / n
	}
	ix, g, err := indexOf(def, req.Index)
	if err != nil {
		return ReadResult{}, err
	}
	var lower, upper []byte
	switch {
	case g != nil:
		lower = keycodec.GSIHashStart(def.ID, g.n, uint32(start))
		upper = keycodec.PrefixEnd(keycodec.GSIPrefix(def.ID, g.n))
		if end < 1<<32 {
			upper = keycodec.GSIHashStart(def.ID, g.n, uint32(end))
		}
	case ix != nil:
		lower = keycodec.IndexHashStart(def.ID, ix.n, uint32(start))
		upper = keycodec.PrefixEnd(keycodec.IndexPrefix(def.ID, ix.n))
		if end < 1<<32 {
			upper = keycodec.IndexHashStart(def.ID, ix.n, uint32(end))
		}
	default:
		lower = keycodec.HashRangeStart(def.ID, uint32(start))
		upper = keycodec.PrefixEnd(keycodec.TablePrefix(def.ID))
		if end < 1<<32 {
			upper = keycodec.HashRangeStart(def.ID, uint32(end))
		}
	}
	if req.ExclusiveStart != nil {
		var startKey []byte
		var h uint64
		switch {
		case g != nil:
			if startKey, _, err = e.gsiStartKey(def, g, req.ExclusiveStart, false); err != nil {
				return ReadResult{}, err
			}
			h = uint64(binary.BigEndian.Uint32(startKey[6:10]))
		case ix != nil:
			if startKey, _, err = e.indexStartKey(def, ix, req.ExclusiveStart, false); err != nil {
				return ReadResult{}, err
			}
			h = uint64(binary.BigEndian.Uint32(startKey[6:10]))
		default:
			kp, err := e.startKey(def, req.ExclusiveStart, false)
			if err != nil {
				return ReadResult{}, err
			}
			startKey, h = kp.key, uint64(kp.hash)
		}
		if h < start || h >= end {
			return ReadResult{}, attr.Invalid(msgStartKeyPrefix+"Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: %d Segment: %d",
				req.TotalSegments, req.Segment)
		}
		if k := after(startKey); bytes.Compare(k, lower) > 0 {
			lower = k
		}
	}
	return e.readPage(page{
		def:        def,
		index:      ix,
		gsi:        g,
		fetch:      req.Fetch && ix != nil,
		limit:      req.Limit,
		filter:     req.Filter,
		projection: req.Projection,
		countOnly:  req.CountOnly,
		consistent: req.Consistent,
	}, lower, upper, true)
}
