package analytics

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/shards"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// env is a directory under test. Break replaces the table's directory by a
// plain file: tests may run as root, whom chmod 0500 does not stop, while
// nobody can create a file inside a file.
type env struct {
	t   *testing.T
	dir string
}

func newEnv(t *testing.T) sinktest.Env { return &env{t: t, dir: t.TempDir()} }

func (e *env) root() string { return filepath.Join(e.dir, sinktest.Table) }

func (e *env) Open() sinks.Sink { return mustNew(e.t, Options{Dir: e.dir, Table: sinktest.Table}) }

func (e *env) Break() {
	if err := os.Rename(e.root(), e.root()+".away"); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.root(), nil, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) Heal() {
	if err := os.Remove(e.root()); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(e.root()+".away", e.root()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) State(t *testing.T) sinktest.State {
	st := sinktest.State{Applied: map[sinks.Key]int{}, Order: map[sinktest.ShardKey][]shards.Seq{}}
	for _, f := range readDir(t, e.root()) {
		for _, row := range f.rows {
			k := sinks.Key{Table: row["table"].String(), Shard: shards.ID(row["shard"].Int64()), Seq: shards.Seq(row["sequence"].Int64())}
			st.Applied[k]++
			sk := sinktest.ShardKey{Table: k.Table, Shard: k.Shard}
			st.Order[sk] = append(st.Order[sk], k.Seq)
		}
	}
	return st
}

func TestSuite(t *testing.T) { sinktest.Run(t, newEnv) }

func mustNew(t testing.TB, opts Options) *Sink {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parquetFile is a data file read back with parquet-go.
type parquetFile struct {
	rel     string // under the table's directory
	columns []string
	rows    []map[string]parquet.Value
	meta    fileMeta
}

// readDir reads the data files under root in name order (write, then
// part), which is the order they were written in.
func readDir(t *testing.T, root string) []parquetFile {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, tmpSuffix) {
			t.Errorf("temp file left: %s", path)
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			paths = append(paths, path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(paths, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	var files []parquetFile
	for _, path := range paths {
		files = append(files, readFile(t, root, path))
	}
	return files
}

func readFile(t *testing.T, root, path string) parquetFile {
	t.Helper()
	rel, _ := filepath.Rel(root, path)
	out := parquetFile{rel: filepath.ToSlash(rel)}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if out.meta, err = readMeta(path); err != nil {
		t.Fatal(err)
	}
	for _, c := range pf.Schema().Columns() {
		out.columns = append(out.columns, c[0])
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			m := map[string]parquet.Value{}
			for _, v := range row {
				m[out.columns[v.Column()]] = v.Clone()
			}
			out.rows = append(out.rows, m)
		}
		if err != nil {
			break
		}
	}
	if len(out.rows) != int(pf.NumRows()) {
		t.Fatalf("%s: read %d rows of %d", path, len(out.rows), pf.NumRows())
	}
	return out
}

// rec is a change record of table Orders.
func rec(sh shards.ID, seq shards.Seq, at time.Time, name event.Name, keys, newImage string) sinks.Record {
	r := sinks.Record{Table: sinktest.Table}
	r.Shard, r.Seq, r.Time, r.Name, r.Keys = sh, seq, at, name, []byte(keys)
	if newImage != "" {
		r.New = []byte(newImage)
	}
	r.Who = event.Identity{AccessKeyID: "AKID", SourceAddr: "10.0.0.1:5000", RequestID: fmt.Sprintf("req-%d-%d", sh, seq)}
	return r
}

// hours returns n records over 2 shards whose commit times spread over
// three hours, so that a write of them makes three files.
func hours(n int) []sinks.Record {
	start := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	var out []sinks.Record
	seq := map[shards.ID]shards.Seq{}
	for i := range n {
		sh := shards.ID(i % 2)
		seq[sh]++
		at := start.Add(time.Duration(i) * 3 * time.Hour / time.Duration(n))
		out = append(out, rec(sh, seq[sh], at, event.Modify, fmt.Sprintf(`{"pk":{"S":"k%d"}}`, i),
			fmt.Sprintf(`{"pk":{"S":"k%d"},"n":{"N":"%d"}}`, i, i)))
	}
	return out
}

// checkOnce fails unless the directory holds each of recs exactly once,
// each shard's in order.
func checkOnce(t *testing.T, root string, recs []sinks.Record) {
	t.Helper()
	seen := map[sinks.Key]int{}
	last := map[shards.ID]shards.Seq{}
	for _, f := range readDir(t, root) {
		for _, row := range f.rows {
			k := sinks.Key{Table: row["table"].String(), Shard: shards.ID(row["shard"].Int64()), Seq: shards.Seq(row["sequence"].Int64())}
			seen[k]++
			if k.Seq <= last[k.Shard] {
				t.Errorf("%s: shard %d: %d after %d", f.rel, k.Shard, k.Seq, last[k.Shard])
			}
			last[k.Shard] = k.Seq
		}
	}
	for _, r := range recs {
		if n := seen[r.Key()]; n != 1 {
			t.Errorf("record %s is there %d times", r.Key(), n)
		}
		delete(seen, r.Key())
	}
	for k := range seen {
		t.Errorf("record %s was never written", k)
	}
}

var errCrash = errors.New("crash")

// TestCrash stops a write at each of its steps, as a crash would, and
// checks that a new sink on the directory, given the records again from an
// earlier point, leaves each record in a file exactly once. "again" runs
// the same without a restart: the sink that failed is given the records
// again.
func TestCrash(t *testing.T) {
	ctx := context.Background()
	recs := hours(90) // recs[15:] spans 3 hours: a write of them makes 3 files
	points := []struct {
		point string
		nth   int
	}{
		{"manifest", 1}, {"written", 1}, {"renamed", 1}, {"written", 2},
		{"renamed", 2}, {"renamed", 3},
	}
	for _, p := range points {
		for _, restart := range []bool{true, false} {
			name := fmt.Sprintf("%s#%d", p.point, p.nth)
			if !restart {
				name += "/again"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				s := mustNew(t, Options{Dir: dir, Table: sinktest.Table})
				if err := s.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				if err := s.Write(ctx, recs[:15]); err != nil {
					t.Fatal(err)
				}
				seen := 0
				s.fault = func(point string) error {
					if point == p.point {
						if seen++; seen == p.nth {
							return errCrash
						}
					}
					return nil
				}
				if err := s.Write(ctx, recs[10:]); !errors.Is(err, errCrash) {
					t.Fatalf("Write = %v, want the crash", err)
				}
				s.fault = nil
				if restart {
					s = mustNew(t, Options{Dir: dir, Table: sinktest.Table})
					if err := s.Connect(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Write(ctx, recs[5:]); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(ctx); err != nil {
					t.Fatal(err)
				}
				checkOnce(t, s.Dir(), recs)
			})
		}
	}
}

// TestCrashInRecovery: a recovery that rolls back a write and dies before
// the directories are synced is done again by the next one.
func TestCrashInRecovery(t *testing.T) {
	ctx := context.Background()
	recs := hours(60)
	dir := t.TempDir()
	s := mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	s.fault = func(point string) error {
		if point == "renamed" {
			return errCrash
		}
		return nil
	}
	if err := s.Write(ctx, recs); !errors.Is(err, errCrash) {
		t.Fatalf("Write = %v, want the crash", err)
	}
	s = mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	s.fault = func(point string) error {
		if point == "resolved" {
			return errCrash
		}
		return nil
	}
	if err := s.Connect(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Connect = %v, want the crash", err)
	}
	s = mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, s.Dir(), recs)
}

// TestNoManifest: without the manifest the files alone give the
// high-water marks, and the files of an interrupted last write are removed.
func TestNoManifest(t *testing.T) {
	ctx := context.Background()
	recs := hours(90)
	dir := t.TempDir()
	s := mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, recs[:40]); err != nil {
		t.Fatal(err)
	}
	s.fault = func(point string) error {
		if point == "renamed" {
			return errCrash
		}
		return nil
	}
	if err := s.Write(ctx, recs[40:]); !errors.Is(err, errCrash) {
		t.Fatalf("Write = %v, want the crash", err)
	}
	if err := os.Remove(filepath.Join(s.Dir(), manifestName)); err != nil {
		t.Fatal(err)
	}
	s = mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.mu.hwm; got[0] != 20 || got[1] != 20 {
		t.Errorf("high-water marks from the files = %v, want 20 and 20", got)
	}
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, s.Dir(), recs)
	// The same with a damaged manifest.
	if err := os.WriteFile(filepath.Join(s.Dir(), manifestName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.mu.hwm; got[0] != 45 || got[1] != 45 {
		t.Errorf("high-water marks from the files = %v, want 45 and 45", got)
	}
}

// TestLayout: a file per hour of commit time, in Hive-style directories,
// MaxRows per file, and footers that describe the files.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustNew(t, Options{Dir: dir, Table: sinktest.Table, MaxRows: 15})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	recs := hours(60) // 20 an hour
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range readDir(t, s.Dir()) {
		got = append(got, fmt.Sprintf("%s rows=%d part=%d/%d ranges=%v", f.rel, len(f.rows), f.meta.part, f.meta.parts, f.meta.ranges))
	}
	want := []string{
		"date=2026-11-21/hour=07/00000000000000000001-000001.parquet rows=15 part=1/6 ranges=map[0:[1 8] 1:[1 7]]",
		"date=2026-11-21/hour=07/00000000000000000001-000002.parquet rows=5 part=2/6 ranges=map[0:[9 10] 1:[8 10]]",
		"date=2026-11-21/hour=08/00000000000000000001-000003.parquet rows=15 part=3/6 ranges=map[0:[11 18] 1:[11 17]]",
		"date=2026-11-21/hour=08/00000000000000000001-000004.parquet rows=5 part=4/6 ranges=map[0:[19 20] 1:[18 20]]",
		"date=2026-11-21/hour=09/00000000000000000001-000005.parquet rows=15 part=5/6 ranges=map[0:[21 28] 1:[21 27]]",
		"date=2026-11-21/hour=09/00000000000000000001-000006.parquet rows=5 part=6/6 ranges=map[0:[29 30] 1:[28 30]]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestColumns checks the fixed columns and the typed columns a file infers
// from its new images.
func TestColumns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustNew(t, Options{Dir: dir, Table: sinktest.Table})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 21, 8, 30, 15, 123456789, time.UTC)
	recs := []sinks.Record{
		rec(0, 1, at, event.Insert, `{"pk":{"S":"a"}}`,
			`{"pk":{"S":"a"},"count":{"N":"7"},"price":{"N":"12.5"},"big":{"N":"-12345678901234567890.123"},"ok":{"BOOL":true},`+
				`"blob":{"B":"AQI="},"mixed":{"S":"x"},"tags":{"SS":["a"]},"huge":{"N":"1`+strings.Repeat("0", 40)+`"},"only1":{"S":"here"},"empty":{"S":""}}`),
		rec(0, 2, at.Add(time.Second), event.Modify, `{"pk":{"S":"a"}}`,
			`{"pk":{"S":"a"},"count":{"N":"-9223372036854775808"},"price":{"N":"-0.25"},"big":{"N":"0.5"},"ok":{"BOOL":false},`+
				`"blob":{"B":"/w=="},"mixed":{"N":"1"},"tags":{"SS":["b"]},"huge":{"N":"1"}}`),
		rec(0, 3, at.Add(2*time.Second), event.Remove, `{"pk":{"S":"a"}}`, ""),
	}
	recs[2].Who = event.Identity{Service: true}
	recs[1].TxID = "tx-1"
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, s.Dir())
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	f := files[0]
	wantCols := []string{"op", "table", "shard", "sequence", "time", "keys", "new_image_json", "accesskeyid", "sourceaddr",
		"requestid", "service", "txid", "new_big", "new_blob", "new_count", "new_empty", "new_ok", "new_only1", "new_pk", "new_price"}
	if !slices.Equal(f.columns, wantCols) {
		t.Errorf("columns %v\nwant %v", f.columns, wantCols)
	}
	show := func(v parquet.Value) string {
		if v.IsNull() {
			return "null"
		}
		if v.Kind() == parquet.FixedLenByteArray {
			return fmt.Sprintf("%x", v.ByteArray())
		}
		return v.String()
	}
	var got []string
	for _, row := range f.rows {
		var cells []string
		for _, c := range f.columns {
			if c == "new_image_json" {
				continue
			}
			cells = append(cells, c+"="+show(row[c]))
		}
		got = append(got, strings.Join(cells, " "))
	}
	// time is microseconds since 1970; decimals are 16 bytes of two's
	// complement: -12345678901234567890.123 and 0.5 at scale 3; 12.5 and
	// -0.25 at scale 2.
	want := []string{
		`op=INSERT table=Orders shard=0 sequence=1 time=1795249815123456 keys={"pk":{"S":"a"}} accesskeyid=AKID sourceaddr=10.0.0.1:5000 requestid=req-0-1 service=false txid=null ` +
			`new_big=fffffffffffffd62bd49b1898ebdbb35 new_blob=` + "\x01\x02" + ` new_count=7 new_empty= new_ok=true new_only1=here new_pk=a new_price=000000000000000000000000000004e2`,
		`op=MODIFY table=Orders shard=0 sequence=2 time=1795249816123456 keys={"pk":{"S":"a"}} accesskeyid=AKID sourceaddr=10.0.0.1:5000 requestid=req-0-2 service=false txid=tx-1 ` +
			`new_big=000000000000000000000000000001f4 new_blob=` + "\xff" + ` new_count=-9223372036854775808 new_empty=null new_ok=false new_only1=null new_pk=a new_price=ffffffffffffffffffffffffffffffe7`,
		`op=REMOVE table=Orders shard=0 sequence=3 time=1795249817123456 keys={"pk":{"S":"a"}} accesskeyid=null sourceaddr=null requestid=null service=true txid=null ` +
			`new_big=null new_blob=null new_count=null new_empty=null new_ok=null new_only1=null new_pk=null new_price=null`,
	}
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Errorf("row %d:\n got %q\nwant %q", i, at1(got, i), at1(want, i))
		}
	}
	if img := f.rows[0]["new_image_json"].String(); img != string(recs[0].New) {
		t.Errorf("new_image_json = %s", img)
	}
	if !f.rows[2]["new_image_json"].IsNull() {
		t.Errorf("new_image_json of a REMOVE is %v, want null", f.rows[2]["new_image_json"])
	}
}

func at1(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

func TestSplitNumber(t *testing.T) {
	for _, tc := range []struct {
		in          string
		ok          bool
		int64       bool
		scale       int
		unscaled128 string // at scale 4
	}{
		{"0", true, true, 0, "00000000000000000000000000000000"},
		{"7", true, true, 0, "00000000000000000000000000011170"},
		{"-7", true, true, 0, "fffffffffffffffffffffffffffeee90"},
		{"1.5", true, false, 1, "00000000000000000000000000003a98"},
		{"-0.0001", true, false, 4, "ffffffffffffffffffffffffffffffff"},
		{"9223372036854775807", true, true, 0, ""},
		{"12345678901234567890.1234", true, false, 4, "0000000000001a249b1f10a06c96aff2"},
		{"-12345678901234567890.1234", true, false, 4, "ffffffffffffe5db64e0ef5f9369500e"},
		{"9223372036854775808", true, false, 0, ""},
		{"-9223372036854775808", true, true, 0, ""},
		{"1E+2", false, false, 0, ""},
		{"1.", false, false, 0, ""},
		{".5", false, false, 0, ""},
		{"", false, false, 0, ""},
		{"12a", false, false, 0, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			d, ok := splitNumber([]byte(tc.in))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if got := len(d.frac) == 0 && d.fitsInt64(); got != tc.int64 {
				t.Errorf("int64 = %v, want %v", got, tc.int64)
			}
			if len(d.frac) != tc.scale {
				t.Errorf("scale = %d, want %d", len(d.frac), tc.scale)
			}
			if tc.unscaled128 != "" {
				if got := fmt.Sprintf("%x", d.unscaled128(4)); got != tc.unscaled128 {
					t.Errorf("unscaled128(4) = %s, want %s", got, tc.unscaled128)
				}
			}
		})
	}
}

func TestScanImage(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // name:kind=value ..., or "error"
	}{
		{`{}`, ``},
		{`{"a":{"S":"x"},"b":{"N":"-1.5"},"c":{"BOOL":false},"d":{"B":"AQI="}}`, `a:S=x b:N=-1.5 c:BOOL=false d:B=AQI=`},
		{` { "a" : { "S" : "x\"y\u00e9" } , "n\\m" : {"NULL":true} } `, `a:S=x"yé n\m:mixed=`},
		{`{"m":{"M":{"x":{"L":[{"S":"}]"},{"M":{}}]}}},"s":{"SS":["a,b","c"]},"z":{"S":""}}`, `m:mixed= s:mixed= z:S=`},
		{`{"a":{"S":"x"}`, `error`},
		{`{"a":{"S":"x"}}x`, `error`},
		{`{"a":{"S":5}}`, `error`},
		{`{"a":{"BOOL":"true"}}`, `error`},
		{`{"a":{"M":{"x":{"S":"y"}}`, `error`},
		{`[]`, `error`},
		{`{"a" {"S":"x"}}`, `error`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			attrs, err := scanImage(nil, []byte(tc.in))
			var got []string
			for _, a := range attrs {
				k := map[kind]string{kindS: "S", kindN: "N", kindBool: "BOOL", kindB: "B", kindMixed: "mixed"}[a.kind]
				got = append(got, fmt.Sprintf("%s:%s=%s", a.name, k, a.val))
			}
			s := strings.Join(got, " ")
			if err != nil {
				if !errors.Is(err, errImage) {
					t.Errorf("error %v does not match errImage", err)
				}
				s = "error"
			}
			if s != tc.want {
				t.Errorf("got %s, want %s", s, tc.want)
			}
		})
	}
}

// FuzzScanImage: reading the top level of any image that attr's decoder
// accepts finds the same attributes, with the same scalar values.
func FuzzScanImage(f *testing.F) {
	f.Add(`{"a":{"S":"x\n"},"b":{"N":"1"},"c":{"M":{"d":{"L":[{"BOOL":true}]}}},"e":{"B":"AQI="},"f":{"NULL":true}}`)
	f.Add(`{"\u0041":{"S":"\ud83d\ude00"}}`)
	f.Fuzz(func(t *testing.T, img string) {
		var it attr.Item
		if it.UnmarshalJSON([]byte(img)) != nil || attr.ValidateItem(it) != nil {
			t.Skip()
		}
		attrs, err := scanImage(nil, []byte(img))
		if err != nil {
			t.Fatalf("scanImage(%s): %v", img, err)
		}
		last := map[string]attribute{} // a name given twice: the last wins, as in attr
		for _, a := range attrs {
			last[string(a.name)] = a
		}
		if len(last) != len(it) {
			t.Fatalf("%d attributes, attr finds %d", len(last), len(it))
		}
		for _, a := range last {
			v, ok := it[string(a.name)]
			if !ok {
				t.Fatalf("attribute %q not found by attr", a.name)
			}
			var want string
			switch v.T {
			case attr.TypeS:
				want = v.S
			case attr.TypeN:
				want = string(v.N)
				if n, err := attr.ParseNumber(string(a.val)); err == nil {
					a.val = []byte(n) // the column takes canonical numbers only
				}
			case attr.TypeB:
				want = base64.StdEncoding.EncodeToString(v.B)
			case attr.TypeBOOL:
				want = strconv.FormatBool(v.BOOL)
			default:
				if a.kind != kindMixed {
					t.Fatalf("attribute %q of type %s read as kind %d", a.name, v.T, a.kind)
				}
				continue
			}
			if string(a.val) != want {
				t.Fatalf("attribute %q = %q, attr finds %q", a.name, a.val, want)
			}
		}
	})
}

func TestOptions(t *testing.T) {
	for _, opts := range []Options{
		{Table: "Orders"},
		{Dir: "d", Table: "ab"},
		{Dir: "d", Table: "../etc"},
		{Dir: "d", Table: "a/b/c"},
		{Dir: "d", Table: "Orders", MaxRows: -1},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) accepted it", opts)
		}
	}
	s := mustNew(t, Options{Dir: t.TempDir(), Table: "My_table-1.v2"})
	if s.opts.MaxRows != DefaultMaxRows || s.opts.BackOff != DefaultBackOff {
		t.Errorf("defaults: %+v", s.opts)
	}
	if err := s.Write(context.Background(), hours(3)); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Write before Connect = %v, want ErrNotConnected", err)
	}
}

// TestConnectBackOff: a directory that cannot be created asks the runtime
// to wait, for Options.BackOff.
func TestConnectBackOff(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, Options{Dir: filepath.Join(dir, "file"), Table: sinktest.Table, BackOff: time.Minute})
	err := s.Connect(context.Background())
	var bo *sinks.BackOffError
	if !errors.As(err, &bo) || bo.After != time.Minute {
		t.Fatalf("Connect = %v, want a *sinks.BackOffError of a minute", err)
	}
	if !errors.Is(err, fs.ErrExist) && !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Connect = %v, want the cause", err)
	}
}

// TestRandomCrashes is a simulation: a runtime delivers batches from its
// checkpoint (after a restart, from up to 30 records before it), the sink
// dies at random steps of random writes, is restarted or not, and loses its
// manifest now and then. In the end every record must be in a file once.
func TestRandomCrashes(t *testing.T) {
	ctx := context.Background()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	for round := range 20 {
		dir := t.TempDir()
		recs := orders(400, time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC), time.Minute) // 7 hours
		maxRows := 5 + rng.IntN(40)
		open := func() *Sink {
			s := mustNew(t, Options{Dir: dir, Table: sinktest.Table, MaxRows: maxRows})
			if err := s.Connect(ctx); err != nil {
				t.Fatalf("round %d: Connect: %v", round, err)
			}
			return s
		}
		s := open()
		from, acked := 0, 0 // the next record to deliver; the checkpoint
		for acked < len(recs) {
			n := 1 + rng.IntN(120)
			batch := recs[from:min(from+n, len(recs))]
			crash := rng.IntN(3) == 0
			if crash {
				point := []string{"manifest", "written", "renamed"}[rng.IntN(3)]
				nth := 1 + rng.IntN(3)
				s.fault = func(p string) error {
					if p == point {
						if nth--; nth == 0 {
							return errCrash
						}
					}
					return nil
				}
			}
			err := s.Write(ctx, batch)
			s.fault = nil
			switch {
			case err == nil:
				from += len(batch)
				acked = from
			case crash && errors.Is(err, errCrash):
				from = acked
				if rng.IntN(2) == 0 { // a restart, from an older checkpoint
					if rng.IntN(4) == 0 {
						if err := os.Remove(filepath.Join(s.Dir(), manifestName)); err != nil {
							t.Fatal(err)
						}
					}
					from = max(0, acked-rng.IntN(30))
					s = open()
				}
			default:
				t.Fatalf("round %d: Write: %v", round, err)
			}
		}
		checkOnce(t, s.Dir(), recs)
		if t.Failed() {
			t.Fatalf("round %d failed (MaxRows %d)", round, maxRows)
		}
	}
}
