package engine

import (
	"bytes"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/keycodec"
)

// MaxTotalSegments is the largest TotalSegments of a parallel Scan.
const MaxTotalSegments = 1_000_000

// ScanRequest is a Scan of a table, or of one segment of it, checked for
// shape by the caller.
type ScanRequest struct {
	Table string
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
	lower := keycodec.HashRangeStart(def.ID, uint32(start))
	upper := keycodec.PrefixEnd(keycodec.TablePrefix(def.ID))
	if end < 1<<32 {
		upper = keycodec.HashRangeStart(def.ID, uint32(end))
	}
	if req.ExclusiveStart != nil {
		kp, err := e.startKey(def, req.ExclusiveStart, false)
		if err != nil {
			return ReadResult{}, err
		}
		if h := uint64(kp.hash); h < start || h >= end {
			return ReadResult{}, attr.Invalid(msgStartKeyPrefix+"Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: %d Segment: %d",
				req.TotalSegments, req.Segment)
		}
		if k := after(kp.key); bytes.Compare(k, lower) > 0 {
			lower = k
		}
	}
	return e.readPage(page{
		def:        def,
		limit:      req.Limit,
		filter:     req.Filter,
		projection: req.Projection,
		countOnly:  req.CountOnly,
		consistent: req.Consistent,
	}, lower, upper, true)
}
