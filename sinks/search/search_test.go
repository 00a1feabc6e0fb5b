package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// env is a sinktest destination: an index directory. It breaks by closing
// the index under the sink that wrote last and moving the directory away,
// so the sink can neither write nor open it again until Heal.
type env struct {
	dir  string
	last *Sink
}

func newEnv(t *testing.T) sinktest.Env { return &env{dir: t.TempDir()} }

func (e *env) Open() sinks.Sink {
	s, err := New(Options{Dir: e.dir, Table: sinktest.Table, Fields: []string{"title", "n"}})
	if err != nil {
		panic(err)
	}
	e.last = s
	return s
}

func (e *env) Break() {
	s := e.last
	s.mu.Lock()
	if s.mu.idx != nil {
		_ = s.mu.idx.Close() // under the sink, which still holds it
	}
	s.mu.Unlock()
	if err := os.Rename(e.dir, e.dir+".away"); err != nil {
		panic(err)
	}
}

func (e *env) Heal() {
	if err := os.Rename(e.dir+".away", e.dir); err != nil {
		panic(err)
	}
}

func (e *env) State(t *testing.T) sinktest.State {
	s, err := New(Options{Dir: e.dir, Table: sinktest.Table, Fields: []string{"title", "n"}})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, s)
	defer closeSink(t, s)
	items := map[string]string{}
	for id, img := range dump(t, s) {
		items[sinktest.ItemID(sinktest.Table, []byte(id))] = img
	}
	return sinktest.State{Items: items}
}

var (
	_ sinktest.Env       = (*env)(nil)
	_ sinktest.Breakable = (*env)(nil)
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, newEnv)
}

// dump reads every document of s's index: id -> stored image.
func dump(t *testing.T, s *Sink) map[string]string {
	t.Helper()
	idx, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.mu.RUnlock()
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n)+1, 0, false)
	req.Fields = []string{itemField}
	res, err := idx.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range res.Hits {
		out[h.ID] = h.Fields[itemField].(string)
	}
	return out
}

// Records of a table "Books" keyed by "id", for the tests below.

const books = "Books"

func key(id string) []byte { return []byte(`{"id":{"S":"` + id + `"}}`) }

func put(sh shards.ID, seq shards.Seq, id, image string) sinks.Record {
	return sinks.Record{Table: books, Record: event.Record{Shard: sh, Seq: seq, Name: event.Modify, Keys: key(id), New: []byte(image)}}
}

func del(sh shards.ID, seq shards.Seq, id string) sinks.Record {
	return sinks.Record{Table: books, Record: event.Record{Shard: sh, Seq: seq, Name: event.Remove, Keys: key(id)}}
}

func book(id, title string, price string) string {
	return fmt.Sprintf(`{"id":{"S":%q},"price":{"N":%q},"title":{"S":%q}}`, id, price, title)
}

func open(t testing.TB, dir string, fields ...string) *Sink {
	t.Helper()
	if fields == nil {
		fields = []string{"title", "price", "tags"}
	}
	s, err := New(Options{Dir: dir, Table: books, Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, s)
	return s
}

func connect(t testing.TB, s *Sink) {
	t.Helper()
	if err := s.Connect(context.Background()); err != nil {
		t.Fatalf("Connect: %v", err)
	}
}

func closeSink(t testing.TB, s *Sink) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func write(t testing.TB, s *Sink, recs ...sinks.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// ids searches q and returns the ids of all the hits, over every page.
func ids(t *testing.T, s *Sink, q string) []string {
	t.Helper()
	var out []string
	next := ""
	for {
		res, err := s.Search(context.Background(), Query{Query: q, Limit: MaxLimit, Next: next})
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		for _, it := range res.Items {
			out = append(out, idOf(t, it))
		}
		if next = res.Next; next == "" {
			break
		}
	}
	slices.Sort(out)
	return out
}

func idOf(t *testing.T, item json.RawMessage) string {
	t.Helper()
	var v struct {
		ID struct{ S string } `json:"id"`
	}
	if err := json.Unmarshal(item, &v); err != nil {
		t.Fatalf("hit %s: %v", item, err)
	}
	return v.ID.S
}

func TestSearch(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	write(t, s,
		put(0, 1, "b1", book("b1", "Red running shoes", "59.99")),
		put(1, 1, "b2", book("b2", "Blue suede shoes", "120")),
		put(0, 2, "b3", book("b3", "A history of red paint", "8.5")),
		put(1, 2, "b4", `{"id":{"S":"b4"},"title":{"S":"Garden hose"},"tags":{"SS":["outdoor","water"]},"price":{"N":"10"}}`),
		put(2, 1, "b5", `{"id":{"S":"b5"},"title":{"L":[{"S":"nested"},{"M":{"k":{"S":"deep words"},"n":{"N":"77"}}}]},"note":{"S":"unindexed shoes"}}`),
	)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"shoes", []string{"b1", "b2"}},
		{"red", []string{"b1", "b3"}},
		{"SHOES", []string{"b1", "b2"}},
		{"title:shoes", []string{"b1", "b2"}},
		{"tags:water", []string{"b4"}},
		{"water", []string{"b4"}},
		{"+red +shoes", []string{"b1"}},
		{"red -shoes", []string{"b3"}},
		{`"suede shoes"`, []string{"b2"}},
		{`"shoes suede"`, nil},
		{"price:>10", []string{"b1", "b2"}},
		{"price:>=10", []string{"b1", "b2", "b4"}},
		{"price:10", []string{"b4"}},
		{"title:shoes +price:>100", []string{"b2"}},
		{"sho*", []string{"b1", "b2"}},
		{"deep", []string{"b5"}},
		{"title:>70", []string{"b5"}},
		{"unindexed", nil},
		{"note:shoes", nil},
		{"", []string{"b1", "b2", "b3", "b4", "b5"}},
	} {
		if got := ids(t, s, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}

	res, err := s.Search(context.Background(), Query{Query: "title:suede"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || string(res.Items[0]) != book("b2", "Blue suede shoes", "120") || res.Total != 1 || res.Next != "" {
		t.Errorf("Search(title:suede) = %+v, want the stored image of b2 alone", res)
	}
}

func TestSearchRanking(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	write(t, s,
		put(0, 1, "weak", book("weak", "a long title that mentions kayak once among many other words here", "1")),
		put(0, 2, "strong", book("strong", "kayak kayak", "1")),
	)
	res, err := s.Search(context.Background(), Query{Query: "kayak"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 || idOf(t, res.Items[0]) != "strong" {
		t.Errorf("Search(kayak) = %s, want strong first", res.Items)
	}
}

func TestModifyAndRemove(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	write(t, s, put(0, 1, "b1", book("b1", "old words", "1")), put(0, 2, "b2", book("b2", "doomed", "2")))
	write(t, s, put(0, 3, "b1", book("b1", "new text", "1")), del(0, 4, "b2"))
	for q, want := range map[string][]string{"old": nil, "new": {"b1"}, "doomed": nil, "": {"b1"}} {
		if got := ids(t, s, q); !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %v, want %v", q, got, want)
		}
	}
	// Within one batch the last record of an item wins.
	write(t, s, put(1, 1, "b3", book("b3", "first", "1")), put(1, 2, "b3", book("b3", "second", "1")), del(1, 3, "b1"))
	for q, want := range map[string][]string{"first": nil, "second": {"b3"}, "new": nil} {
		if got := ids(t, s, q); !slices.Equal(got, want) {
			t.Errorf("after one batch: Search(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestPaging(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	var recs []sinks.Record
	for i := range 25 {
		id := fmt.Sprintf("b%02d", i)
		recs = append(recs, put(shards.ID(i%3), shards.Seq(i/3+1), id, book(id, "paged widget", "1")))
	}
	recs = append(recs, put(3, 1, "other", book("other", "something else", "1")))
	write(t, s, recs...)

	var got []string
	next := ""
	var sizes []int
	for page := 0; ; page++ {
		if page > 3 {
			t.Fatal("paging does not end")
		}
		res, err := s.Search(context.Background(), Query{Query: "widget", Limit: 10, Next: next})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 25 {
			t.Errorf("page %d: Total = %d, want 25", page, res.Total)
		}
		sizes = append(sizes, len(res.Items))
		for _, it := range res.Items {
			got = append(got, idOf(t, it))
		}
		if next = res.Next; next == "" {
			break
		}
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("page sizes %v, want [10 10 5]", sizes)
	}
	// Equal scores: the pages are in key order, without repeats or gaps.
	want := make([]string, 25)
	for i := range want {
		want[i] = fmt.Sprintf("b%02d", i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages hold %v, want %v", got, want)
	}

	// Exactly one full page: no Next.
	res, err := s.Search(context.Background(), Query{Query: "widget", Limit: 25})
	if err != nil || len(res.Items) != 25 || res.Next != "" {
		t.Errorf("Search(Limit 25) = %d items, Next %q, %v; want 25, no Next", len(res.Items), res.Next, err)
	}
	// Limits: 0 is the default, too many is the maximum.
	res, err = s.Search(context.Background(), Query{Query: "widget"})
	if err != nil || len(res.Items) != DefaultLimit {
		t.Errorf("Search(Limit 0) = %d items, %v; want %d", len(res.Items), err, DefaultLimit)
	}
	res, err = s.Search(context.Background(), Query{Query: "", Limit: 1000})
	if err != nil || len(res.Items) != 26 {
		t.Errorf("Search(Limit 1000) = %d items, %v; want all 26", len(res.Items), err)
	}
}

func TestSearchErrors(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	write(t, s, put(0, 1, "b1", book("b1", "one", "1")), put(0, 2, "b2", book("b2", "one", "1")))
	ctx := context.Background()
	for _, q := range []string{`"unterminated`, "price:>abc", "+", "a:", "price:>", "/[/", "title:/a(/", "/^a$/"} {
		if _, err := s.Search(ctx, Query{Query: q}); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Search(%q) = %v, want ErrInvalidQuery", q, err)
		}
	}
	res, err := s.Search(ctx, Query{Query: "one", Limit: 1})
	if err != nil || res.Next == "" {
		t.Fatalf("Search = %+v, %v; want a Next", res, err)
	}
	for _, tc := range []Query{
		{Query: "one", Next: "!!"},
		{Query: "one", Next: res.Next[:len(res.Next)-1]},
		{Query: "other", Next: res.Next}, // another query's token
	} {
		if _, err := s.Search(ctx, tc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Search(%+v) = %v, want ErrInvalidToken", tc, err)
		}
	}
}

func TestPositionAndRedelivery(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	if p := s.Position(); len(p) != 0 {
		t.Errorf("Position of a new index = %v, want empty", p)
	}
	write(t, s, put(0, 1, "a", book("a", "alpha", "1")), put(2, 7, "c", book("c", "gamma", "1")), put(0, 2, "b", book("b", "beta", "1")))
	want := map[shards.ID]shards.Seq{0: 2, 2: 7}
	if p := s.Position(); !maps.Equal(p, want) {
		t.Errorf("Position = %v, want %v", p, want)
	}
	// A redelivered record is skipped: the newer image stays.
	write(t, s, put(0, 3, "a", book("a", "alpha two", "1")))
	write(t, s, put(0, 1, "a", book("a", "alpha", "1")), put(0, 3, "a", book("a", "alpha two", "1")))
	if got := ids(t, s, `"alpha two"`); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after redelivery: Search = %v, want [a]", got)
	}
	// Snapshot records (Seq 0) apply without moving the marks.
	write(t, s, put(5, 0, "z", book("z", "zeta", "1")))
	want[0] = 3
	if p := s.Position(); !maps.Equal(p, want) {
		t.Errorf("Position after a snapshot record = %v, want %v", p, want)
	}
	if got := ids(t, s, "zeta"); !slices.Equal(got, []string{"z"}) {
		t.Errorf("snapshot record: Search = %v, want [z]", got)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	write(t, s, put(0, 4, "a", book("a", "persisted words", "1")), put(1, 9, "b", book("b", "more", "2")), del(1, 10, "b"))
	closeSink(t, s)
	if err := s.Write(context.Background(), []sinks.Record{put(0, 5, "x", book("x", "x", "1"))}); !errors.Is(err, sinks.ErrBackOff) || !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed and a back-off", err)
	}

	// The same sink connects again, and so does a new one.
	connect(t, s)
	if got := ids(t, s, "persisted"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after Connect again: Search = %v, want [a]", got)
	}
	closeSink(t, s)
	s = open(t, dir)
	defer closeSink(t, s)
	want := map[shards.ID]shards.Seq{0: 4, 1: 10}
	if p := s.Position(); !maps.Equal(p, want) {
		t.Errorf("Position after reopening = %v, want %v", p, want)
	}
	if got := ids(t, s, ""); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after reopening: Search = %v, want [a]", got)
	}
	write(t, s, put(0, 4, "a", book("a", "stale redelivery", "1")))
	if got := ids(t, s, "stale"); len(got) != 0 {
		t.Errorf("a redelivery after reopening was applied: %v", got)
	}
}

func TestReset(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	write(t, s, put(0, 4, "a", book("a", "before", "1")))
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := s.Position(); len(p) != 0 {
		t.Errorf("Position after Reset = %v, want empty", p)
	}
	if got := ids(t, s, ""); len(got) != 0 {
		t.Errorf("after Reset: Search = %v, want nothing", got)
	}
	// A rebuild: the scan's records, then the stream from where the scan
	// stood (the record at 4 is applied again since the marks are empty).
	write(t, s, put(0, 0, "a", book("a", "scanned", "1")), put(1, 0, "b", book("b", "scanned", "1")))
	write(t, s, put(0, 4, "a", book("a", "streamed", "1")))
	closeSink(t, s)

	s = open(t, dir)
	defer closeSink(t, s)
	if got := ids(t, s, "scanned"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the rebuild: Search(scanned) = %v, want [b]", got)
	}
	if p := s.Position(); !maps.Equal(p, map[shards.ID]shards.Seq{0: 4}) {
		t.Errorf("Position after the rebuild = %v, want 0:4", p)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"CURRENT", "index-000002"}) {
		t.Errorf("%s holds %v, want CURRENT and index-000002 alone", dir, names)
	}
}

func TestOptionsChangeEmptiesIndex(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, "title")
	write(t, s, put(0, 1, "a", book("a", "words", "1")))
	closeSink(t, s)
	s = open(t, dir, "title") // same options: kept
	if got := ids(t, s, "words"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("same options: Search = %v, want [a]", got)
	}
	closeSink(t, s)
	s = open(t, dir, "title", "price")
	defer closeSink(t, s)
	if got, p := ids(t, s, ""), s.Position(); len(got) != 0 || len(p) != 0 {
		t.Errorf("other fields: index holds %v at %v, want an empty index", got, p)
	}
}

func TestWrongTableAndBadImage(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	other := put(0, 2, "x", book("x", "x", "1"))
	other.Table = "Other"
	err := s.Write(context.Background(), []sinks.Record{put(0, 1, "a", book("a", "kept", "1")), other, put(0, 3, "b", book("b", "b", "1"))})
	var be *sinks.BatchError
	if !errors.As(err, &be) || be.Lowest() != 1 || !errors.Is(be.Failed[1], ErrWrongTable) {
		t.Fatalf("Write with another table's record = %v, want a BatchError for record 1", err)
	}
	if got, p := ids(t, s, ""), s.Position(); !slices.Equal(got, []string{"a"}) || p[0] != 1 {
		t.Errorf("after the failure: %v at %v, want [a] at 0:1", got, p)
	}
	err = s.Write(context.Background(), []sinks.Record{put(0, 2, "c", `{"id":`)})
	if !errors.As(err, &be) || be.Lowest() != 0 {
		t.Errorf("Write of a broken image = %v, want a BatchError for record 0", err)
	}
}

func TestBackOffThenRecover(t *testing.T) {
	e := newEnv(t).(*env)
	s := e.Open().(*Sink)
	connect(t, s)
	defer closeSink(t, s)
	orders := func(r sinks.Record) []sinks.Record {
		r.Table = sinktest.Table
		return []sinks.Record{r}
	}
	write(t, s, orders(put(0, 1, "a", book("a", "one", "1")))...)
	e.Break()
	if _, err := s.Search(context.Background(), Query{Query: "one"}); err == nil {
		t.Error("Search on a closed index succeeded")
	}
	if err := s.Write(context.Background(), orders(put(0, 2, "b", book("b", "two", "1")))); !errors.Is(err, sinks.ErrBackOff) {
		t.Fatalf("Write = %v, want a back-off", err)
	}
	if err := s.Write(context.Background(), orders(put(0, 2, "b", book("b", "two", "1")))); !errors.Is(err, sinks.ErrBackOff) {
		t.Fatalf("Write while the directory is gone = %v, want a back-off", err)
	}
	e.Heal()
	if got := ids(t, s, ""); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after Heal: Search = %v, want [a]", got)
	}
	write(t, s, orders(put(0, 2, "b", book("b", "two", "1")))...)
	if got := ids(t, s, ""); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after Heal and Write: Search = %v, want [a b]", got)
	}
}

func TestWait(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSink(t, s)
	ctx := context.Background()
	if err := s.Wait(ctx, nil); err != nil {
		t.Fatalf("Wait for nothing: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, map[shards.ID]shards.Seq{1: 2, 3: 1}) }()
	write(t, s, put(1, 1, "a", book("a", "a", "1")), put(3, 1, "b", book("b", "b", "1")))
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v before shard 1 reached 2", err)
	case <-time.After(20 * time.Millisecond):
	}
	write(t, s, put(1, 2, "c", book("c", "waited", "1")))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := ids(t, s, "waited"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after Wait: Search = %v, want [c]", got)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := s.Wait(short, map[shards.ID]shards.Seq{1: 99}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the end = %v, want the deadline", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, o := range []Options{
		{},
		{Dir: "x", Fields: []string{""}},
		{Dir: "x", Fields: []string{"_all"}},
		{Dir: "x", Fields: []string{"_item"}},
		{Dir: "x", Fields: []string{"a", "a"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted it", o)
		}
	}
	if _, err := New(Options{Dir: "x", Fields: []string{"title", "a.b", "_x"}}); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestFlatten(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`{"S":"Hello"}`, `Hello`},
		{`{"S":""}`, ``},
		{`{"N":"1.5"}`, `#1.5`},
		{`{"N":"-1E+3"}`, `#-1000`},
		{`{"N":"1E-130"}`, `#1e-130`},
		{`{"N":"-9.9999999999999999999999999999999999999E+125"}`, `#-1e+126`},
		{`{"BOOL":true}`, `true`},
		{`{"NULL":true}`, ``},
		{`{"B":"AQI="}`, ``},
		{`{"BS":["AQI="]}`, ``},
		{`{"SS":["a","b"]}`, `a|b`},
		{`{"NS":["1","2"]}`, `#1|#2`},
		{`{"L":[{"S":"x"},{"N":"3"},{"L":[{"BOOL":false}]}]}`, `x|#3|false`},
		{`{"M":{"z":{"S":"last"},"a":{"S":"first"}}}`, `first|last`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := New(Options{Dir: "unused", Fields: []string{"f"}})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := s.document("id", []byte(`{"f":`+tc.in+`}`))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range doc.Fields {
				switch f := f.(type) {
				case interface{ Number() (float64, error) }:
					n, _ := f.Number()
					got = append(got, fmt.Sprintf("#%g", n))
				default:
					if f.Name() == "f" {
						got = append(got, string(f.Value()))
					}
				}
			}
			if s := strings.Join(got, "|"); s != tc.want {
				t.Errorf("indexed as %q, want %q", s, tc.want)
			}
		})
	}
}

// TestConcurrentUse searches while writes, a Reset and a reconnect go on
// (run it with -race).
func TestConcurrentUse(t *testing.T) {
	s := open(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			for ctx.Err() == nil {
				// Errors are expected while closed; no data race is.
				_, _ = s.Search(ctx, Query{Query: "word", Limit: 5})
				_ = s.Position()
			}
		}()
	}
	for i := range 60 {
		write(t, s, put(shards.ID(i%3), shards.Seq(i/3+1), fmt.Sprintf("k%d", i%10), book("k", "word", "1")))
		switch i {
		case 20:
			if err := s.Reset(context.Background()); err != nil {
				t.Fatal(err)
			}
		case 40:
			closeSink(t, s)
			connect(t, s)
		}
	}
	cancel()
	<-done
	<-done
	closeSink(t, s)
}

// TestNoGoroutinesLeft: Close stops what Connect started.
func TestNoGoroutinesLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	s := open(t, t.TempDir())
	write(t, s, put(0, 1, "a", book("a", "one", "1")))
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	write(t, s, put(0, 1, "a", book("a", "one", "1")))
	closeSink(t, s)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
