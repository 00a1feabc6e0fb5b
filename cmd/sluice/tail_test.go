package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/nats-io/nats.go"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestParseFrom(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		kind string
		seq  uint64
		time time.Time
		err  string // substring; "" means no error
	}{
		{in: "latest", kind: "latest"},
		{in: "LATEST", kind: "latest"},
		{in: "trim-horizon", kind: "trim-horizon"},
		{in: "TRIM_HORIZON", kind: "trim-horizon"},
		{in: "1", kind: "seq", seq: 1},
		{in: "42", kind: "seq", seq: 42},
		{in: "0", err: "start at 1"},
		{in: "000000000000000000042", err: "per-shard SequenceNumber"},
		{in: "99999999999999999999999", err: "out of range"},
		{in: "2026-01-02T15:00:00Z", kind: "time", time: now.Add(-4*time.Minute - 5*time.Second)},
		{in: "2026-01-02T16:04:05.5+01:00", kind: "time", time: now.Add(500 * time.Millisecond)},
		{in: "10m", kind: "time", time: now.Add(-10 * time.Minute)},
		{in: "-10m", err: "is not latest"},
		{in: "2026-01-02", err: "is not latest"},
		{in: "", err: "is not latest"},
		{in: "yesterday", err: "is not latest"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := parseFrom(tc.in, now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseFrom(%q) = %+v, %v; want an error containing %q", tc.in, p, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFrom(%q): %v", tc.in, err)
			}
			if p.kind != tc.kind || p.seq != tc.seq || !p.time.Equal(tc.time) {
				t.Errorf("parseFrom(%q) = {%s %d %s}, want {%s %d %s}", tc.in, p.kind, p.seq, p.time, tc.kind, tc.seq, tc.time)
			}
		})
	}
}

func TestServerNATSURL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sluice.yaml")
	if err := os.WriteFile(file, []byte("nats-listen: 0.0.0.0:6222\nlisten: 127.0.0.1:9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		file string
		env  map[string]string
		want string
		err  string
	}{
		{name: "default", want: "nats://127.0.0.1:4222"},
		{name: "listen env", env: map[string]string{"SLUICE_NATS_LISTEN": "10.1.2.3:5222"}, want: "nats://10.1.2.3:5222"},
		{name: "listen all interfaces", env: map[string]string{"SLUICE_NATS_LISTEN": ":5222"}, want: "nats://127.0.0.1:5222"},
		{name: "external", env: map[string]string{"SLUICE_NATS_LISTEN": "", "SLUICE_NATS_URL": "nats://a:4222,nats://b:4222"}, want: "nats://a:4222,nats://b:4222"},
		{name: "file", file: file, want: "nats://127.0.0.1:6222"},
		{name: "file via env", env: map[string]string{"SLUICE_CONFIG": file}, want: "nats://127.0.0.1:6222"},
		{name: "env over file", file: file, env: map[string]string{"SLUICE_NATS_LISTEN": "127.0.0.1:7222"}, want: "nats://127.0.0.1:7222"},
		{name: "listener off", env: map[string]string{"SLUICE_NATS_LISTEN": ""}, err: "NATS listener is off"},
		{name: "free port", env: map[string]string{"SLUICE_NATS_LISTEN": "127.0.0.1:0"}, err: "ready line"},
		{name: "missing file", file: file + ".missing", err: "reading config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			got, err := serverNATSURL(tc.file, lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("serverNATSURL = %q, %v; want an error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("serverNATSURL = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestTailArgs checks the invocations that fail before any connection, and
// that a flag may follow TABLE.
func TestTailArgs(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	opts, err := parseTailArgs([]string{"Music", "--from", "trim-horizon", "--format=cloudevents", "--nats", "nats://h:1"}, noEnv, time.Now(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.table != "Music" || opts.from.kind != "trim-horizon" || opts.format != formatCloudEvents || opts.natsURL != "nats://h:1" {
		t.Errorf("parseTailArgs = %+v", opts)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"help", "tail"}, 0, "trim-horizon", ""},
		{[]string{"tail", "-h"}, 0, "", "Usage: sluice tail TABLE"},
		{[]string{"tail"}, 2, "", "tail takes one TABLE, got 0"},
		{[]string{"tail", "a", "b"}, 2, "", "tail takes one TABLE, got 2"},
		{[]string{"tail", "a", "--format", "xml"}, 2, "", `--format: "xml" is not json or cloudevents`},
		{[]string{"tail", "a", "--from", "soon"}, 2, "", `--from: "soon" is not latest`},
		{[]string{"tail", "a", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q, stderr %q; want them to contain %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
		})
	}
}

// TestTailNoServer checks the error when nothing listens at the NATS URL, as
// when the server runs with --nats-listen "".
func TestTailNoServer(t *testing.T) {
	url := fmt.Sprintf("nats://127.0.0.1:%d", sluicetest.FreePort(t))
	var stdout, stderr bytes.Buffer
	if code := run([]string{"tail", "Music", "--nats", url}, &stdout, &stderr); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := "sluice tail: connecting to NATS at " + url + ": "
	if got := stderr.String(); !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", got, want)
	}
}

// startTail runs `sluice tail args...` until the test ends.
func startTail(t *testing.T, args ...string) *process {
	t.Helper()
	return startSluice(t, append([]string{"tail"}, args...)...)
}

// waitBanner waits until tail has its consumer (its first stderr line).
func (p *process) waitBanner(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.banner:
		if !ok {
			t.Fatalf("sluice tail printed nothing on stderr")
		}
		if !strings.HasPrefix(line, "sluice tail: table ") {
			t.Fatalf("first stderr line %q is not the banner", line)
		}
		return line
	case <-time.After(readyTimeout):
		t.Fatalf("no banner within %s", readyTimeout)
	}
	return ""
}

// read returns the next n lines of output.
func (p *process) read(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	for len(out) < n {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("sluice tail exited after %d of %d lines: %v", len(out), n, p.err)
			}
			out = append(out, line)
		case <-timer.C:
			t.Fatalf("sluice tail printed %d of %d lines within %s: %q", len(out), n, readyTimeout, out)
		}
	}
	return out
}

// stop sends sig after a pause (time for extra lines to show), checks the
// exit status is 0 and that no line came beyond those read.
func (p *process) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var extra []string
	for line := range p.lines {
		extra = append(extra, line)
	}
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("sluice tail did not exit within %s of %s", exitTimeout, sig)
	}
	if p.err != nil {
		t.Errorf("sluice tail exited with %v after %s, want status 0", p.err, sig)
	}
	if len(extra) > 0 {
		t.Errorf("unexpected lines: %q", extra)
	}
}

// change is what the test knows of one record it caused.
type change struct {
	name      string // INSERT, MODIFY, REMOVE
	pk        string
	old, new  map[string]string // attribute name to S or N value; nil: no image
	tx        bool              // made by the transaction
	streamSeq uint64
	data      string // the record's data as JetStream holds it
}

var seqRE = regexp.MustCompile(`^[0-9]{21}$`)

// TestTail runs `sluice tail` against a real server: each --from mode, both
// formats, the first line of output after a signal, and exit status 0.
func TestTail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	s := sluicetest.Start(t, sluicetest.Options{})
	ctx := sluicetest.Context(t)
	db := s.DynamoDB()
	const table = "tail.test" // a dot, which no subject token could hold
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}

	// A table that does not exist has no stream: a clear error.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"tail", "nosuch", "--nats", s.NATSURL}, &stdout, &stderr); code != 1 ||
		!strings.HasPrefix(stderr.String(), `sluice tail: no change stream for table "nosuch": no table of that name`) {
		t.Errorf("tail of a missing table: exit %d, stderr %q; want 1 and \"no change stream for table\"", code, stderr.String())
	}
	// A tail started right after CreateTable waits the moment it takes the
	// relay to create the stream, then sees every change.
	early := startTail(t, table, "--from", "trim-horizon", "--format", "cloudevents", "--nats", s.NATSURL)

	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: "a"},
			"n":    &types.AttributeValueMemberN{Value: "1.50"},
			"html": &types.AttributeValueMemberS{Value: "<b>&</b>"}, // kept as is, not escaped
		}}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("a"),
		UpdateExpression:          aws.String("SET n = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "2"}}}); err != nil {
		t.Fatalf("UpdateItem: %v", err)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}}}},
		{Delete: &types.Delete{TableName: aws.String(table), Key: key("a")}},
	}}); err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	a1 := map[string]string{"pk": "a", "n": "1.5", "html": "<b>&</b>"}
	a2 := map[string]string{"pk": "a", "n": "2", "html": "<b>&</b>"}
	byID := map[string]change{ // the transaction's two records may come in either order
		"a INSERT": {name: "INSERT", pk: "a", new: a1},
		"a MODIFY": {name: "MODIFY", pk: "a", old: a1, new: a2},
		"a REMOVE": {name: "REMOVE", pk: "a", old: a2, tx: true},
		"b INSERT": {name: "INSERT", pk: "b", new: map[string]string{"pk": "b"}, tx: true},
	}
	recs := s.WaitRecords(t, table, 4, 10*time.Second)
	var want []change // in stream order
	for _, r := range recs {
		var rec struct {
			EventName string
			Dynamodb  struct{ Keys map[string]map[string]string }
		}
		if err := json.Unmarshal(r.Data, &rec); err != nil {
			t.Fatal(err)
		}
		id := rec.Dynamodb.Keys["pk"]["S"] + " " + rec.EventName
		c, ok := byID[id]
		if !ok {
			t.Fatalf("unexpected record %s: %s", id, r.Data)
		}
		delete(byID, id)
		c.streamSeq, c.data = r.StreamSeq, string(r.Data)
		want = append(want, c)
	}
	if len(byID) != 0 {
		t.Fatalf("records missing: %v", byID)
	}
	// JetStream has stored the four records before this moment, and the
	// fifth after it.
	time.Sleep(10 * time.Millisecond)
	mid := time.Now()
	time.Sleep(10 * time.Millisecond)

	// A live tail from latest sees only what comes after it started.
	live := startTail(t, table, "--nats", s.NATSURL, "--format", "cloudevents")
	banner := live.waitBanner(t)
	if !strings.Contains(banner, "from stream sequence 5 on") {
		t.Errorf("banner %q does not say it starts at stream sequence 5", banner)
	}
	liveJSON := startTail(t, "--format=json", "--from", "latest", table, "--nats", s.NATSURL)
	liveJSON.waitBanner(t)
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("c")}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	recs = s.WaitRecords(t, table, 5, 10*time.Second)
	last := recs[len(recs)-1]
	c := change{name: "INSERT", pk: "c", new: map[string]string{"pk": "c"}, streamSeq: last.StreamSeq, data: string(last.Data)}
	want = append(want, c)
	checkLines(t, formatCloudEvents, early.read(t, 5), want)
	early.stop(t, syscall.SIGINT)
	checkLines(t, formatCloudEvents, live.read(t, 1), want[4:])
	live.stop(t, syscall.SIGTERM)
	checkLines(t, formatJSON, liveJSON.read(t, 1), want[4:])
	liveJSON.stop(t, syscall.SIGINT)

	for _, tc := range []struct {
		from  string
		first int // index in want of the first record expected
	}{
		{"trim-horizon", 0},
		{strconv.FormatUint(want[2].streamSeq, 10), 2},
		{mid.Format(time.RFC3339Nano), 4},
		{"1h", 0},
	} {
		for _, format := range []string{formatJSON, formatCloudEvents} {
			t.Run(tc.from+"/"+format, func(t *testing.T) {
				p := startTail(t, table, "--from", tc.from, "--format", format, "--nats", s.NATSURL)
				exp := want[tc.first:]
				checkLines(t, format, p.read(t, len(exp)), exp)
				p.stop(t, syscall.SIGTERM)
			})
		}
	}
}

// checkLines checks tail's output lines against the changes expected.
func checkLines(t *testing.T, format string, lines []string, want []change) {
	t.Helper()
	var txID string
	for i, line := range lines {
		w := want[i]
		var data []byte
		switch format {
		case formatJSON:
			data = []byte(line)
		case formatCloudEvents:
			var ev struct {
				SpecVersion     string          `json:"specversion"`
				ID              string          `json:"id"`
				Source          string          `json:"source"`
				Type            string          `json:"type"`
				Subject         string          `json:"subject"`
				Time            string          `json:"time"`
				DataContentType string          `json:"datacontenttype"`
				Data            json.RawMessage `json:"data"`
				Sequence        string          `json:"sequence"`
				PartitionKey    string          `json:"partitionkey"`
				CorrelationID   *string         `json:"correlationid"`
				AccessKeyID     string          `json:"accesskeyid"`
				SourceAddr      string          `json:"sourceaddr"`
				RequestID       string          `json:"requestid"`
				StreamSequence  string          `json:"streamsequence"`
			}
			dec := json.NewDecoder(strings.NewReader(line))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("line %d is not the CloudEvent expected: %v\n%s", i, err, line)
			}
			data = ev.Data
			var rec struct {
				EventID  string
				Dynamodb struct {
					Keys           json.RawMessage
					SequenceNumber string
				}
			}
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatalf("line %d: data: %v", i, err)
			}
			if ev.SpecVersion != "1.0" || ev.ID != rec.EventID || ev.Type != "io.sluicedb.change."+w.name ||
				!strings.HasPrefix(ev.Source, "arn:aws:dynamodb:us-east-1:000000000000:table/tail.test") ||
				ev.DataContentType != "application/json" {
				t.Errorf("line %d: context attributes wrong: %s", i, line)
			}
			if !jsonEqual(ev.Subject, string(rec.Dynamodb.Keys)) {
				t.Errorf("line %d: subject %s, want the keys %s", i, ev.Subject, rec.Dynamodb.Keys)
			}
			if _, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil {
				t.Errorf("line %d: time: %v", i, err)
			}
			if !seqRE.MatchString(ev.Sequence) || ev.Sequence != rec.Dynamodb.SequenceNumber {
				t.Errorf("line %d: sequence %q, want 21 digits equal to SequenceNumber %q", i, ev.Sequence, rec.Dynamodb.SequenceNumber)
			}
			if ev.PartitionKey != w.pk || ev.AccessKeyID != sluicetest.AccessKeyID ||
				!strings.HasPrefix(ev.SourceAddr, "127.0.0.1:") || ev.RequestID == "" {
				t.Errorf("line %d: partitionkey %q, accesskeyid %q, sourceaddr %q, requestid %q", i, ev.PartitionKey, ev.AccessKeyID, ev.SourceAddr, ev.RequestID)
			}
			if ev.StreamSequence != strconv.FormatUint(w.streamSeq, 10) {
				t.Errorf("line %d: streamsequence %q, want %d", i, ev.StreamSequence, w.streamSeq)
			}
			switch {
			case !w.tx && ev.CorrelationID != nil:
				t.Errorf("line %d: correlationid %q on a change outside a transaction", i, *ev.CorrelationID)
			case w.tx && (ev.CorrelationID == nil || *ev.CorrelationID == ""):
				t.Errorf("line %d: no correlationid on a transaction's change", i)
			case w.tx && txID == "":
				txID = *ev.CorrelationID
			case w.tx && *ev.CorrelationID != txID:
				t.Errorf("line %d: correlationid %q, want %q as the transaction's other record", i, *ev.CorrelationID, txID)
			}
		}
		// The data is the record as JetStream holds it, byte for byte.
		if string(data) != w.data {
			t.Errorf("line %d: data\n%s\nwant\n%s", i, data, w.data)
		}
		var rec struct {
			EventName string
			Dynamodb  struct {
				Keys               map[string]map[string]string
				NewImage, OldImage map[string]map[string]string
				SequenceNumber     string
			}
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, data)
		}
		if rec.EventName != w.name || rec.Dynamodb.Keys["pk"]["S"] != w.pk || !seqRE.MatchString(rec.Dynamodb.SequenceNumber) {
			t.Errorf("line %d: %s of %v, SequenceNumber %q; want %s of %s", i, rec.EventName, rec.Dynamodb.Keys, rec.Dynamodb.SequenceNumber, w.name, w.pk)
		}
		checkImage(t, i, "NewImage", rec.Dynamodb.NewImage, w.new)
		checkImage(t, i, "OldImage", rec.Dynamodb.OldImage, w.old)
	}
}

func checkImage(t *testing.T, line int, name string, got map[string]map[string]string, want map[string]string) {
	t.Helper()
	if (got == nil) != (want == nil) || len(got) != len(want) {
		t.Errorf("line %d: %s %v, want %v", line, name, got, want)
		return
	}
	for k, v := range want {
		if av := got[k]; av["S"] != v && av["N"] != v {
			t.Errorf("line %d: %s.%s = %v, want %q", line, name, k, av, v)
		}
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// TestCloudEvent checks the CloudEvents JSON of a record built as the relay
// publishes it: every attribute, extensions in name order, the data as it
// is (not re-escaped), and the refusal of a message that is no CloudEvent.
func TestCloudEvent(t *testing.T) {
	rec := event.Record{
		TableID: 7, Source: "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-01-02T03:04:05.678",
		Region: "us-east-1", Shard: 2, Seq: 9, Name: event.Modify,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		Keys: []byte(`{"pk":{"S":"<a&b>"}}`), Old: []byte(`{"pk":{"S":"<a&b>"},"n":{"N":"1"}}`),
		New: []byte(`{"pk":{"S":"<a&b>"},"n":{"N":"2"}}`), PartitionKey: "<a&b>", TxID: "tx-1",
		Who: event.Identity{AccessKeyID: "AKID", SourceAddr: "127.0.0.1:5", RequestID: "R1"},
	}
	env, err := event.Decode(rec.Encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	h := nats.Header{}
	for _, kv := range env.Headers {
		h.Set(kv[0], kv[1])
	}
	e, err := cloudEvent(h, env.Data, 42)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"00000007000000020000000000000009",` +
		`"source":"arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-01-02T03:04:05.678",` +
		`"type":"io.sluicedb.change.MODIFY","subject":"{\"pk\":{\"S\":\"<a&b>\"}}",` +
		`"datacontenttype":"application/json","time":"2026-01-02T03:04:05.0000006Z",` +
		`"data":` + string(env.Data) + `,` +
		`"accesskeyid":"AKID","correlationid":"tx-1","partitionkey":"<a&b>","requestid":"R1",` +
		`"sequence":"000000000000000000009","sourceaddr":"127.0.0.1:5","streamsequence":"42"}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	h.Del(event.HdrSpecVersion)
	if _, err := cloudEvent(h, env.Data, 42); err == nil || !strings.Contains(err.Error(), "specversion") {
		t.Errorf("without ce-specversion: err %v, want one naming specversion", err)
	}
	h.Set(event.HdrSpecVersion, "1.0")
	if _, err := cloudEvent(h, []byte("not json"), 42); err == nil {
		t.Error("data that is not JSON: no error")
	}
}
