package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

// TestDuckDB writes changes through sinks that crash and restart, then
// reads the files back with DuckDB (its Node.js client, installed by
// testdata/duckdb.sh into a cache outside the repository): every change must
// be there exactly once, and the typed columns must hold the images'
// values. It is skipped without node and npm, with -short, and when
// SLUICE_SKIP_DUCKDB is set.
func TestDuckDB(t *testing.T) {
	if os.Getenv("SLUICE_SKIP_DUCKDB") != "" {
		t.Skip("SLUICE_SKIP_DUCKDB is set")
	}
	if testing.Short() {
		t.Skip("installs and runs DuckDB; skipped with -short")
	}
	t0 := time.Now()
	modules := installDuckDB(t)
	t.Logf("DuckDB client ready in %s", time.Since(t0).Round(time.Millisecond))

	// 3,000 changes over 4 shards and 4 hours, every 50th a removal.
	ctx := context.Background()
	dir := t.TempDir()
	start := time.Date(2026, 11, 21, 7, 30, 0, 0, time.UTC)
	recs := orders(3000, start, 4*time.Second)
	write := func(s *Sink, recs []sinks.Record, size int) error {
		for b := range slices.Chunk(recs, size) {
			if err := s.Write(ctx, b); err != nil {
				return err
			}
		}
		return nil
	}
	open := func() *Sink {
		s := mustNew(t, Options{Dir: dir, Table: sinktest.Table})
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := write(s, recs[:1000], 250); err != nil {
		t.Fatal(err)
	}
	// The process dies after the first of a write's files is in place.
	s.fault = func(point string) error {
		if point == "renamed" {
			return errCrash
		}
		return nil
	}
	if err := write(s, recs[1000:2000], 1000); !errors.Is(err, errCrash) {
		t.Fatalf("Write = %v, want the crash", err)
	}
	// After the restart the runtime delivers again from an older
	// checkpoint; after another, everything again.
	if err := write(open(), recs[500:2500], 400); err != nil {
		t.Fatal(err)
	}
	s = open()
	if err := write(s, recs, 1000); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	t0 = time.Now()
	res := duckDB(t, modules, s.Dir(),
		`SELECT count(*)::VARCHAR AS n FROM changes`,
		`SELECT shard::VARCHAR AS shard, sequence::VARCHAR AS seq, count(*)::VARCHAR AS n FROM changes GROUP BY ALL`,
		`SELECT column_name AS name, column_type AS type FROM (DESCRIBE changes)`,
		`SELECT shard::VARCHAR AS shard, sequence::VARCHAR AS seq, op, "table", epoch_us(time)::VARCHAR AS time,
			"date"::VARCHAR AS date, CAST("hour" AS INTEGER)::VARCHAR AS hour, keys::VARCHAR AS keys,
			new_image_json::VARCHAR AS image, new_pk, new_sk::VARCHAR AS sk, new_status, new_amount::VARCHAR AS amount,
			new_quantity::VARCHAR AS quantity, new_paid::VARCHAR AS paid, new_image_json->>'$.address.M.city.S' AS city,
			requestid, service::VARCHAR AS service
		FROM changes`,
	)
	t.Logf("DuckDB read the files in %s", time.Since(t0).Round(time.Millisecond))

	if n := res[0][0]["n"]; n != strconv.Itoa(len(recs)) {
		t.Errorf("DuckDB counts %s rows, want %d", n, len(recs))
	}
	want := map[string]*sinks.Record{}
	for i := range recs {
		want[fmt.Sprintf("%d/%d", recs[i].Shard, recs[i].Seq)] = &recs[i]
	}
	for _, row := range res[1] {
		k := row["shard"] + "/" + row["seq"]
		if want[k] == nil {
			t.Errorf("change %s is there but was never written", k)
		} else if row["n"] != "1" {
			t.Errorf("change %s is there %s times", k, row["n"])
		}
	}
	if len(res[1]) != len(recs) {
		t.Errorf("%d distinct changes, want %d", len(res[1]), len(recs))
	}

	types := map[string]string{}
	for _, row := range res[2] {
		types[row["name"]] = row["type"]
	}
	for col, typ := range map[string]string{
		"shard": "BIGINT", "sequence": "BIGINT", "time": "TIMESTAMP WITH TIME ZONE", "keys": "JSON",
		"new_image_json": "JSON", "new_pk": "VARCHAR", "new_sk": "BIGINT", "new_amount": "DECIMAL(38,2)",
		"new_quantity": "BIGINT", "new_paid": "BOOLEAN", "new_tags": "", "new_address": "",
	} {
		if types[col] != typ {
			t.Errorf("column %s has type %q, want %q", col, types[col], typ)
		}
	}

	bad := 0
	for _, row := range res[3] {
		k := row["shard"] + "/" + row["seq"]
		r := want[k]
		if r == nil {
			continue // reported above
		}
		var img struct {
			PK       struct{ S string } `json:"pk"`
			SK       struct{ N string } `json:"sk"`
			Status   struct{ S string } `json:"status"`
			Amount   struct{ N string } `json:"amount"`
			Quantity struct{ N string } `json:"quantity"`
			Paid     *struct{ BOOL bool }
		}
		if r.New != nil {
			if err := json.Unmarshal(r.New, &img); err != nil {
				t.Fatal(err)
			}
		}
		w := map[string]string{
			"op": string(r.Name), "table": r.Table, "time": strconv.FormatInt(r.Time.UnixMicro(), 10),
			"date": r.Time.Format(time.DateOnly), "hour": strconv.Itoa(r.Time.Hour()), "keys": string(r.Keys),
			"requestid": r.Who.RequestID, "service": "false",
			"image": string(r.New), "new_pk": img.PK.S, "sk": img.SK.N, "new_status": img.Status.S,
			"amount": img.Amount.N, "quantity": img.Quantity.N, "city": "Lyon",
		}
		if r.New != nil {
			w["paid"] = strconv.FormatBool(img.Paid.BOOL)
		} else {
			for _, c := range []string{"image", "new_pk", "sk", "new_status", "amount", "quantity", "paid", "city"} {
				w[c] = "" // null
			}
		}
		// DECIMAL(38,2) prints 12.50 where the image has 12.5.
		if n, err := attr.ParseNumber(row["amount"]); err == nil {
			row["amount"] = string(n)
		}
		for c, v := range w {
			if row[c] != v {
				if bad++; bad <= 10 {
					t.Errorf("change %s: %s = %q, want %q", k, c, row[c], v)
				}
			}
		}
	}
}

// installDuckDB installs the DuckDB client if needed and returns its
// node_modules folder; it skips the test without node or npm.
func installDuckDB(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"bash", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: the DuckDB check needs node and npm", tool)
		}
	}
	cmd := exec.Command("bash", "testdata/duckdb.sh", "install")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 2 {
		t.Skipf("testdata/duckdb.sh: %s", stderr.String())
	}
	if err != nil {
		t.Fatalf("testdata/duckdb.sh install: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// duckDB runs queries over the view "changes" of dir's Parquet files
// (testdata/query.cjs) and returns their rows, every value as a string (""
// for NULL).
func duckDB(t *testing.T, modules, dir string, queries ...string) [][]map[string]string {
	t.Helper()
	cmd := exec.Command("node", append([]string{"testdata/query.cjs", dir}, queries...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/query.cjs: %v\n%s", err, stderr.String())
	}
	var raw [][]map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("output of testdata/query.cjs: %v\n%s", err, out)
	}
	res := make([][]map[string]string, len(raw))
	for i, rows := range raw {
		for _, row := range rows {
			m := map[string]string{}
			for k, v := range row {
				switch v := v.(type) {
				case nil:
					m[k] = ""
				case string:
					m[k] = v
				default:
					m[k] = fmt.Sprint(v)
				}
			}
			res[i] = append(res[i], m)
		}
	}
	return res
}
