package analytics

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
)

// This file turns a group of records into the bytes of one Parquet file:
// the fixed columns, the typed columns inferred from the group's new images
// (see doc.go), and the footer's key/value metadata.

// The fixed columns, in file order.
const (
	colOp = iota
	colTable
	colShard
	colSeq
	colTime
	colKeys
	colNewImage
	colAccessKey
	colSourceAddr
	colRequestID
	colService
	colTxID
	numFixed
)

var fixedColumns = [numFixed]struct {
	name string
	node parquet.Node
}{
	colOp:         {"op", parquet.String()},
	colTable:      {"table", parquet.String()},
	colShard:      {"shard", parquet.Int(64)},
	colSeq:        {"sequence", parquet.Int(64)},
	colTime:       {"time", parquet.Timestamp(parquet.Microsecond)},
	colKeys:       {"keys", parquet.JSON()},
	colNewImage:   {"new_image_json", parquet.Optional(parquet.JSON())},
	colAccessKey:  {"accesskeyid", parquet.Optional(parquet.String())},
	colSourceAddr: {"sourceaddr", parquet.Optional(parquet.String())},
	colRequestID:  {"requestid", parquet.Optional(parquet.String())},
	colService:    {"service", parquet.Leaf(parquet.BooleanType)},
	colTxID:       {"txid", parquet.Optional(parquet.String())},
}

// TypedPrefix prefixes the name of a typed column: attribute "price" of the
// new image is column "new_price".
const TypedPrefix = "new_"

// maxTypedColumns bounds the typed columns of a file; the attributes found
// in the most rows win (ties: by name). The others are in new_image_json
// only. It keeps a table with thousands of sparse attribute names from
// making files with thousands of columns.
const maxTypedColumns = 256

// Footer key/value metadata. A file describes itself: the write it belongs
// to, how many files that write made, and, per shard, the first and last
// sequence number it holds. Recovery reads nothing else (see doc.go).
const (
	metaTable  = "sluice.table"
	metaWrite  = "sluice.write"
	metaPart   = "sluice.part"
	metaParts  = "sluice.parts"
	metaRanges = "sluice.ranges" // JSON: {"<shard>":[first,last],...}
)

// kind is the type of a typed column.
type kind uint8

const (
	kindNone  kind = iota // no value seen yet
	kindS                 // S: STRING
	kindN                 // N: INT64 when every value is an int64, else DECIMAL(38, scale)
	kindBool              // BOOL: BOOLEAN
	kindB                 // B: BYTE_ARRAY (the raw bytes)
	kindMixed             // seen with different or non-scalar types: not typed
)

// column is what a file's rows show of one attribute of the new image.
type column struct {
	name  string
	kind  kind
	rows  int  // rows that have the attribute
	int64 bool // kindN: every value is an integer that fits an int64
	// kindN: the most integer digits and the most fraction digits of any
	// value; the column is DECIMAL(38, scale) when they add up to 38 or less.
	intDigits, scale int
	index            int // column index in the file; -1 if not typed
}

// observe folds one value into the column's type.
func (c *column) observe(a *attribute) {
	c.rows++
	k := a.kind
	switch k {
	case kindN:
		d, ok := splitNumber(a.val)
		if !ok {
			k = kindMixed
			break
		}
		if c.kind == kindNone {
			c.int64 = true
		}
		c.int64 = c.int64 && len(d.frac) == 0 && d.fitsInt64()
		c.intDigits = max(c.intDigits, len(d.int))
		c.scale = max(c.scale, len(d.frac))
	case kindBool:
		if string(a.val) != "true" && string(a.val) != "false" {
			k = kindMixed
		}
	case kindB:
		if _, err := base64.StdEncoding.DecodeString(string(a.val)); err != nil {
			k = kindMixed
		}
	}
	switch c.kind {
	case kindNone:
		c.kind = k
	case k:
	default:
		c.kind = kindMixed
	}
}

// typed reports whether the column gets its own Parquet column.
func (c *column) typed() bool {
	switch c.kind {
	case kindS, kindBool, kindB:
		return true
	case kindN:
		return c.int64 || c.intDigits+c.scale <= maxDecimalDigits
	}
	return false
}

const maxDecimalDigits = 38

func (c *column) node() parquet.Node {
	switch c.kind {
	case kindS:
		return parquet.Optional(parquet.String())
	case kindBool:
		return parquet.Optional(parquet.Leaf(parquet.BooleanType))
	case kindB:
		return parquet.Optional(parquet.Leaf(parquet.ByteArrayType))
	case kindN:
		if c.int64 {
			return parquet.Optional(parquet.Int(64))
		}
		return parquet.Optional(parquet.Decimal(c.scale, maxDecimalDigits, parquet.FixedLenByteArrayType(16)))
	}
	panic(fmt.Sprintf("analytics: node of untyped column %q", c.name))
}

// value is a as the column stores it (levels not set). observe accepted
// a's value.
func (c *column) value(a *attribute) parquet.Value {
	switch c.kind {
	case kindS:
		return parquet.ByteArrayValue(a.val)
	case kindBool:
		return parquet.BooleanValue(string(a.val) == "true")
	case kindB:
		b, _ := base64.StdEncoding.DecodeString(string(a.val))
		return parquet.ByteArrayValue(b)
	}
	d, _ := splitNumber(a.val)
	if c.int64 {
		n := int64(d.uint64()) // fitsInt64 said so; -2^63 wraps to itself
		if d.neg {
			n = -n
		}
		return parquet.Int64Value(n)
	}
	return parquet.FixedLenByteArrayValue(d.unscaled128(c.scale))
}

// decimal is a number in plain notation, split: "-12.50" is {neg, "12", "50"}.
// int has no leading zeros (it is empty for a magnitude below one).
type decimal struct {
	neg       bool
	int, frac []byte
}

// splitNumber splits the canonical text of a DynamoDB number (plain
// notation: attr.ParseNumber's form). It refuses anything else, such as an
// exponent, so such a number leaves its attribute untyped rather than
// stored wrong.
func splitNumber(s []byte) (decimal, bool) {
	var d decimal
	if len(s) > 0 && s[0] == '-' {
		d.neg, s = true, s[1:]
	}
	i, f, dot := bytes.Cut(s, []byte("."))
	if len(i) == 0 || (dot && len(f) == 0) || !allDigits(i) || !allDigits(f) {
		return decimal{}, false
	}
	d.int = bytes.TrimLeft(i, "0")
	d.frac = f
	return d, true
}

func allDigits(s []byte) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fitsInt64 reports whether the integer part is within an int64's range.
func (d decimal) fitsInt64() bool {
	const max = "9223372036854775807" // and one more below zero
	switch {
	case len(d.int) < len(max):
		return true
	case len(d.int) > len(max):
		return false
	case d.neg:
		return string(d.int) <= "9223372036854775808"
	}
	return string(d.int) <= max
}

// uint64 is the integer part's magnitude; it must have 19 digits or fewer.
func (d decimal) uint64() uint64 {
	var n uint64
	for _, c := range d.int {
		n = n*10 + uint64(c-'0')
	}
	return n
}

// unscaled128 returns d×10^scale as 16 bytes of big-endian two's
// complement: the FIXED_LEN_BYTE_ARRAY(16) form of DECIMAL(38, scale).
// d has at most scale fraction digits and 38-scale integer digits.
func (d decimal) unscaled128(scale int) []byte {
	var buf [maxDecimalDigits]byte
	digits := append(append(buf[:0], d.int...), d.frac...)
	for range scale - len(d.frac) {
		digits = append(digits, '0')
	}
	out := make([]byte, 16)
	if len(digits) <= 18 {
		var n int64
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if d.neg {
			n = -n
		}
		if n < 0 {
			copy(out, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}
		binary.BigEndian.PutUint64(out[8:], uint64(n))
		return out
	}
	var n big.Int
	n.SetString(string(digits), 10)
	if d.neg {
		// Two's complement of -n in 128 bits: 2^128 - n.
		var m big.Int
		m.Lsh(big.NewInt(1), 128)
		n.Sub(&m, &n)
	}
	return n.FillBytes(out)
}

// file is one Parquet file to write: its records and where it goes.
type file struct {
	rel   string // path under the table's directory
	recs  []*sinks.Record
	part  int // 1-based
	parts int // files of the write
}

// encoder encodes files, keeping its buffers from one to the next.
type encoder struct {
	attrs  []attribute
	bounds []int
	slab   []parquet.Value
	rows   []parquet.Row
}

// encode returns the bytes of the Parquet file of f, which belongs to write
// w of table.
func (e *encoder) encode(table string, w uint64, f *file) ([]byte, error) {
	// Read the new images and find the typed columns.
	// Row i's attributes are attrs[bounds[i]:bounds[i+1]]. The buffers are
	// kept for the next file, cleared so as to keep no image alive.
	attrs := e.attrs[:0]
	bounds := slices.Grow(e.bounds[:0], len(f.recs)+1)[:len(f.recs)+1]
	defer func() {
		clear(attrs)
		e.attrs, e.bounds = attrs[:0], bounds[:0]
	}()
	cols := map[string]*column{}
	size := 0 // of the images and keys, to size the output
	for i, r := range f.recs {
		size += len(r.New) + len(r.Keys)
		bounds[i] = len(attrs)
		if r.New != nil {
			var err error
			if attrs, err = scanImage(attrs, r.New); err != nil {
				return nil, fmt.Errorf("reading the new image of %s: %w", r.Key(), err)
			}
		}
	}
	bounds[len(f.recs)] = len(attrs)
	for i := range attrs {
		a := &attrs[i]
		c := cols[string(a.name)]
		if c == nil {
			c = &column{name: string(a.name), index: -1}
			cols[c.name] = c
		}
		a.col = c
		c.observe(a)
	}
	var typed []*column
	for _, c := range cols {
		if c.typed() {
			typed = append(typed, c)
		}
	}
	if len(typed) > maxTypedColumns {
		slices.SortFunc(typed, func(a, b *column) int {
			return cmp.Or(cmp.Compare(b.rows, a.rows), strings.Compare(a.name, b.name))
		})
		typed = typed[:maxTypedColumns]
	}
	slices.SortFunc(typed, func(a, b *column) int { return strings.Compare(a.name, b.name) })

	// The schema: the fixed columns, then the typed ones by name.
	g := parquet.Group{}
	order := make([]string, 0, numFixed+len(typed))
	for _, fc := range fixedColumns {
		g[fc.name] = fc.node
		order = append(order, fc.name)
	}
	for i, c := range typed {
		c.index = numFixed + i
		g[TypedPrefix+c.name] = c.node()
		order = append(order, TypedPrefix+c.name)
	}
	schema := parquet.NewSchema("change", orderedGroup(g, order))

	// The rows. One slab holds every value.
	width := numFixed + len(typed)
	slab := slices.Grow(e.slab[:0], len(f.recs)*width)[:len(f.recs)*width]
	rows := slices.Grow(e.rows[:0], len(f.recs))[:len(f.recs)]
	defer func() {
		clear(slab)
		clear(rows)
		e.slab, e.rows = slab[:0], rows[:0]
	}()
	ranges := map[shards.ID]*[2]uint64{}
	var text arena
	for i, r := range f.recs {
		if r.Seq > math.MaxInt64 {
			return nil, fmt.Errorf("sequence number of %s does not fit an int64", r.Key())
		}
		if rg := ranges[r.Shard]; rg == nil {
			ranges[r.Shard] = &[2]uint64{uint64(r.Seq), uint64(r.Seq)}
		} else {
			rg[1] = uint64(r.Seq)
		}
		row := slab[i*width : (i+1)*width : (i+1)*width]
		row[colOp] = parquet.ByteArrayValue(text.bytes(string(r.Name))).Level(0, 0, colOp)
		row[colTable] = parquet.ByteArrayValue(text.bytes(r.Table)).Level(0, 0, colTable)
		row[colShard] = parquet.Int64Value(int64(r.Shard)).Level(0, 0, colShard)
		row[colSeq] = parquet.Int64Value(int64(r.Seq)).Level(0, 0, colSeq)
		row[colTime] = parquet.Int64Value(r.Time.UnixMicro()).Level(0, 0, colTime)
		row[colKeys] = parquet.ByteArrayValue(r.Keys).Level(0, 0, colKeys)
		row[colNewImage] = optional(r.New, colNewImage)
		row[colAccessKey] = optional(text.bytes(r.Who.AccessKeyID), colAccessKey)
		row[colSourceAddr] = optional(text.bytes(r.Who.SourceAddr), colSourceAddr)
		row[colRequestID] = optional(text.bytes(r.Who.RequestID), colRequestID)
		row[colService] = parquet.BooleanValue(r.Who.Service).Level(0, 0, colService)
		row[colTxID] = optional(text.bytes(r.TxID), colTxID)
		for j := numFixed; j < width; j++ {
			row[j] = parquet.NullValue().Level(0, 0, j)
		}
		for j := bounds[i]; j < bounds[i+1]; j++ {
			if a := &attrs[j]; a.col.index >= 0 {
				row[a.col.index] = a.col.value(a).Level(0, 1, a.col.index)
			}
		}
		rows[i] = row
	}

	rj := make(map[string][2]uint64, len(ranges))
	for sh, rg := range ranges {
		rj[sh.String()] = *rg
	}
	rangesJSON, err := json.Marshal(rj)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(size / 2)
	pw := parquet.NewWriter(&buf, schema,
		parquet.Compression(&parquet.Snappy),
		parquet.KeyValueMetadata(metaTable, table),
		parquet.KeyValueMetadata(metaWrite, strconv.FormatUint(w, 10)),
		parquet.KeyValueMetadata(metaPart, strconv.Itoa(f.part)),
		parquet.KeyValueMetadata(metaParts, strconv.Itoa(f.parts)),
		parquet.KeyValueMetadata(metaRanges, string(rangesJSON)),
	)
	if _, err := pw.WriteRows(rows); err != nil {
		return nil, fmt.Errorf("encoding rows: %w", err)
	}
	if err := pw.Close(); err != nil {
		return nil, fmt.Errorf("encoding the footer: %w", err)
	}
	return buf.Bytes(), nil
}

// arena holds the bytes of a file's strings: one allocation for many
// small ones. A slice it returned stays valid when it grows.
type arena []byte

func (a *arena) bytes(s string) []byte {
	if len(*a)+len(s) > cap(*a) {
		*a = make([]byte, 0, max(64<<10, len(s)))
	}
	n := len(*a)
	*a = append(*a, s...)
	return (*a)[n:len(*a):len(*a)]
}

// optional is b in an optional column: null when empty.
func optional(b []byte, col int) parquet.Value {
	if len(b) == 0 {
		return parquet.NullValue().Level(0, 0, col)
	}
	return parquet.ByteArrayValue(b).Level(0, 1, col)
}

// ordered is a group whose fields come in a given order; parquet.Group
// sorts them by name, which would scatter the fixed columns among the
// typed ones.
type ordered struct {
	parquet.Group
	fields []parquet.Field
}

func orderedGroup(g parquet.Group, order []string) parquet.Node {
	byName := map[string]parquet.Field{}
	for _, f := range g.Fields() {
		byName[f.Name()] = f
	}
	o := ordered{Group: g}
	for _, name := range order {
		o.fields = append(o.fields, byName[name])
	}
	return o
}

func (o ordered) Fields() []parquet.Field { return o.fields }
