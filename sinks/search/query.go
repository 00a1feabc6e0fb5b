package search

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/vellum/regexp"
)

// Page sizes.
const (
	DefaultLimit = 10
	MaxLimit     = 100
)

// Query is one page of a search.
type Query struct {
	// Query is in Bleve's query-string syntax (see the package doc); ""
	// matches every item.
	Query string
	// Limit is the page size: 0 means DefaultLimit; more than MaxLimit
	// means MaxLimit.
	Limit int
	// Next is Result.Next of the previous page of the same query; "" for
	// the first page.
	Next string
}

// Result is one page of hits.
type Result struct {
	// Items are the matching items' images (DynamoDB JSON), best first.
	Items []json.RawMessage
	// Total counts all the items the query matches, on every page.
	Total uint64
	// Next asks for the page after this one; "" on the last page.
	Next string
}

// Search runs q and returns one page of the matching items. Hits are
// ordered by score, then by key; a page continues after the last hit of the
// previous one (so writes between pages may move an item across the cut,
// but a page never repeats the one before it when nothing changed).
func (s *Sink) Search(ctx context.Context, q Query) (*Result, error) {
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	bq, err := parseQuery(q.Query)
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(bq, limit+1, 0, false)
	req.Fields = []string{itemField}
	req.SortBy([]string{"-_score", "_id"})
	if q.Next != "" {
		tok, err := decodeToken(q.Next)
		if err != nil || tok.query != fingerprint(q.Query) {
			return nil, ErrInvalidToken
		}
		req.SearchAfter = []string{strconv.FormatFloat(tok.score, 'g', -1, 64), tok.id}
	}

	idx, err := s.acquire()
	if err != nil {
		return nil, err
	}
	res, err := idx.SearchInContext(ctx, req)
	s.mu.RUnlock()
	if err != nil {
		if errors.Is(err, bleve.ErrorIndexClosed) {
			s.stale.Store(true)
		}
		return nil, fmt.Errorf("searching: %w", err)
	}

	out := &Result{Total: res.Total, Items: make([]json.RawMessage, 0, min(len(res.Hits), limit))}
	for i, h := range res.Hits {
		if i == limit {
			last := res.Hits[limit-1]
			out.Next = encodeToken(token{query: fingerprint(q.Query), score: last.Score, id: last.ID})
			break
		}
		item, ok := h.Fields[itemField].(string)
		if !ok {
			return nil, fmt.Errorf("search: document %q has no stored item", h.ID)
		}
		out.Items = append(out.Items, json.RawMessage(item))
	}
	return out, nil
}

// parseQuery parses a query string; a syntax error matches ErrInvalidQuery.
func parseQuery(q string) (query.Query, error) {
	if strings.TrimSpace(q) == "" {
		return bleve.NewMatchAllQuery(), nil
	}
	parsed, err := bleve.NewQueryStringQuery(q).Parse()
	if err == nil {
		err = validate(parsed)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidQuery, err)
	}
	return parsed, nil
}

// validate checks a parsed query, regular expressions included (Bleve
// compiles those only when it searches, and would report a bad one as any
// other search failure).
func validate(q query.Query) error {
	if v, ok := q.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	var subs []query.Query
	switch q := q.(type) {
	case *query.BooleanQuery:
		subs = []query.Query{q.Must, q.Should, q.MustNot, q.Filter}
	case *query.ConjunctionQuery:
		subs = q.Conjuncts
	case *query.DisjunctionQuery:
		subs = q.Disjuncts
	case *query.RegexpQuery:
		// As Bleve runs it: without a leading ^, by vellum.
		if _, err := regexp.New(strings.TrimPrefix(q.Regexp, "^")); err != nil {
			return fmt.Errorf("regular expression /%s/: %v", q.Regexp, err)
		}
	}
	for _, sub := range subs {
		if sub != nil {
			if err := validate(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// A paging token is the position after the last hit of a page, opaque to
// clients: unpadded URL-safe base64 of
//
//	version (1 byte, 1) | query fingerprint (4, FNV-1a of the query string)
//	| score (8, IEEE 754 bits, big endian) | document id (the rest)
type token struct {
	query uint32
	score float64
	id    string
}

const (
	tokenVersion = 1
	tokenHeader  = 1 + 4 + 8
)

var tokenEncoding = base64.RawURLEncoding.Strict()

func fingerprint(q string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(q))
	return h.Sum32()
}

func encodeToken(t token) string {
	b := make([]byte, tokenHeader, tokenHeader+len(t.id))
	b[0] = tokenVersion
	binary.BigEndian.PutUint32(b[1:], t.query)
	binary.BigEndian.PutUint64(b[5:], math.Float64bits(t.score))
	b = append(b, t.id...)
	return tokenEncoding.EncodeToString(b)
}

// decodeToken accepts exactly what encodeToken makes from a finite score
// and a non-empty id.
func decodeToken(s string) (token, error) {
	b, err := tokenEncoding.DecodeString(s)
	// The decoder skips line breaks: insist on the one spelling.
	if err != nil || len(b) <= tokenHeader || b[0] != tokenVersion || tokenEncoding.EncodeToString(b) != s {
		return token{}, ErrInvalidToken
	}
	t := token{
		query: binary.BigEndian.Uint32(b[1:]),
		score: math.Float64frombits(binary.BigEndian.Uint64(b[5:])),
		id:    string(b[tokenHeader:]),
	}
	if math.IsNaN(t.score) || math.IsInf(t.score, 0) {
		return token{}, ErrInvalidToken
	}
	return t, nil
}
