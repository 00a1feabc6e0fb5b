package search

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/sluicedb/sluice/engine/attr"
)

// Field names of a document besides the configured attributes.
const (
	itemField = "_item" // the image, stored and not indexed
	allField  = "_all"  // every indexed value: what a query without a field searches
)

// reserved are the names a configured field may not have: Bleve's own and
// the document's.
var reserved = map[string]bool{"_all": true, "_id": true, "_score": true, itemField: true}

// Indexing options: text keeps term positions for phrase queries; nothing
// keeps doc values, since results sort by score and id only.
const (
	textOptions    = index.IndexField | index.IncludeTermVectors
	numericOptions = index.IndexField
)

// analyzer analyzes the text of documents; the index mapping's default
// analyzer, the same one, analyzes queries.
var analyzer = func() analysis.Analyzer {
	a := newMapping().AnalyzerNamed(standard.Name)
	if a == nil {
		panic("search: Bleve has no standard analyzer")
	}
	return a
}()

// document builds the Bleve document of an item: its configured attributes
// as text and numeric fields, the composite _all over them, and the image
// itself as a stored field.
func (s *Sink) document(id string, image []byte) (*document.Document, error) {
	return buildDocument(s.opts.Fields, id, image)
}

func buildDocument(fields []string, id string, image []byte) (*document.Document, error) {
	var it attr.Item
	if err := json.Unmarshal(image, &it); err != nil {
		return nil, fmt.Errorf("decoding the image: %w", err)
	}
	doc := document.NewDocument(id)
	for _, name := range fields {
		v, ok := it[name]
		if !ok {
			continue
		}
		var vals []value
		vals = flatten(vals, v)
		for i, val := range vals {
			var pos []uint64
			if len(vals) > 1 {
				pos = []uint64{uint64(i)}
			}
			if val.text != "" {
				doc.AddField(document.NewTextFieldCustom(name, pos, []byte(val.text), textOptions, analyzer))
			} else {
				doc.AddField(document.NewNumericFieldWithIndexingOptions(name, pos, val.num, numericOptions))
			}
		}
	}
	doc.AddField(document.NewTextFieldCustom(itemField, nil, image, index.StoreField, nil))
	doc.AddField(document.NewCompositeField(allField, true, nil, []string{itemField}))
	return doc, nil
}

// value is one indexed value: text, or (text "") a number.
type value struct {
	text string
	num  float64
}

// flatten appends the values v is indexed as: S and BOOL as text, N as a
// number, SS and NS member by member, L and M element by element, all the
// way down (map keys are not indexed). B, BS and NULL are not indexed.
func flatten(dst []value, v attr.Value) []value {
	switch v.T {
	case attr.TypeS:
		if v.S != "" {
			dst = append(dst, value{text: v.S})
		}
	case attr.TypeBOOL:
		dst = append(dst, value{text: strconv.FormatBool(v.BOOL)})
	case attr.TypeN:
		if f, ok := number(v.N); ok {
			dst = append(dst, value{num: f})
		}
	case attr.TypeSS:
		for _, s := range v.SS {
			if s != "" {
				dst = append(dst, value{text: s})
			}
		}
	case attr.TypeNS:
		for _, n := range v.NS {
			if f, ok := number(n); ok {
				dst = append(dst, value{num: f})
			}
		}
	case attr.TypeL:
		for _, e := range v.L {
			dst = flatten(dst, e)
		}
	case attr.TypeM:
		for _, k := range slices.Sorted(maps.Keys(v.M)) {
			dst = flatten(dst, v.M[k])
		}
	}
	return dst
}

// number converts a DynamoDB number for the index, which keeps numbers as
// float64: the nearest float64, 0 for a magnitude below its range. The
// stored image keeps the exact decimal.
func number(n attr.Number) (float64, bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
