// Package badinput sends a corpus of bad requests to a real sluice server and
// checks that each gets DynamoDB's error, and that none of them changes
// anything (invariant 7: bad input never reaches storage).
//
// The corpus is testdata/cases.json, a list of cases:
//
//	name     unique, "group/case"
//	op       the operation after "DynamoDB_20120810."
//	body     the raw request body; <<repeat "x" 10>> and <<nest "M" 32 "{...}">>
//	         expand (text/template with << >> delimiters), also in message
//	status   expected HTTP status
//	type     expected __type, exact
//	match    how message is compared: exact, prefix, regex, or absent (the
//	         body must carry no message at all)
//	message  the expected message (or prefix, or regular expression)
//	src      how sure the expectation is: suite (text asserted verbatim by the
//	         conformance suite against real DynamoDB), suite-type (the
//	         exception is asserted by the suite, the text comes from
//	         reference emulators), suite-regex (the suite matches a regular
//	         expression the text satisfies), ref (reference emulators
//	         recorded against DynamoDB, mostly dynalite's tests; best known,
//	         not proof), dynoxide-only (one emulator's claim, weakest)
//	note     why, where it helps
//	headers  optional request headers to add, replace, or ("") remove
//
// Where the wording is not known exactly (Coral's messages for JSON of the
// wrong kind changed over the years), the case uses a regex naming the known
// alternatives.
//
// Every case runs against one server holding known items; mismatches are
// collected and printed as one table at the end. Afterwards the test checks
// that nothing changed: each known item, each table's ItemCount and size, the
// list of tables, and the number of change records on JetStream.
package badinput

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

type testCase struct {
	Name    string `json:"name"`
	Op      string `json:"op"`
	Body    string `json:"body"`
	Status  int    `json:"status"`
	Type    string `json:"type"`
	Match   string `json:"match"`
	Message string `json:"message"`
	Src     string `json:"src"`
	Note    string `json:"note"`
	// Headers add to or replace the request headers; "" removes one.
	Headers map[string]string `json:"headers"`
}

func loadCases(t *testing.T) []testCase {
	t.Helper()
	b, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("testdata/cases.json: %v", err)
	}
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if c.Name == "" || c.Op == "" || c.Type == "" || c.Status == 0 || seen[c.Name] {
			t.Fatalf("case %d (%q): needs a unique name, op, type and status", i, c.Name)
		}
		seen[c.Name] = true
		switch c.Match {
		case "exact", "prefix", "absent":
		case "regex":
			if _, err := regexp.Compile(c.Message); err != nil {
				t.Fatalf("case %s: bad regex: %v", c.Name, err)
			}
		default:
			t.Fatalf("case %s: match %q is not exact, prefix, regex or absent", c.Name, c.Match)
		}
		c.Body = expand(t, c.Name, c.Body)
		c.Message = expand(t, c.Name, c.Message)
	}
	return cases
}

var funcs = template.FuncMap{
	"repeat": strings.Repeat,
	// nest wraps inner in depth M (one attribute "a") or L (one element)
	// values.
	"nest": func(kind string, depth int, inner string) string {
		var open, close string
		switch kind {
		case "M":
			open, close = `{"M":{"a":`, `}}`
		case "L":
			open, close = `{"L":[`, `]}`
		default:
			panic("nest: kind must be M or L")
		}
		return strings.Repeat(open, depth) + inner + strings.Repeat(close, depth)
	},
}

func expand(t *testing.T, name, s string) string {
	t.Helper()
	if !strings.Contains(s, "<<") {
		return s
	}
	tmpl, err := template.New(name).Delims("<<", ">>").Funcs(funcs).Parse(s)
	if err != nil {
		t.Fatalf("case %s: %v", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		t.Fatalf("case %s: %v", name, err)
	}
	return b.String()
}

type item = map[string]types.AttributeValue

// The fixture: tables and the items they hold before any bad request.
var fixtureTables = []*dynamodb.CreateTableInput{
	{TableName: aws.String("known"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}}},
	{TableName: aws.String("known_c"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}}},
	{TableName: aws.String("known_b"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeB}}},
}

var fixtureItems = map[string][]item{
	"known": {
		{"pk": &types.AttributeValueMemberS{Value: "k1"}, "n": &types.AttributeValueMemberN{Value: "1"}, "s": &types.AttributeValueMemberS{Value: "x"}},
		{"pk": &types.AttributeValueMemberS{Value: "k2"}, "ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
			"m": &types.AttributeValueMemberM{Value: item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}}}}},
	},
	"known_c": {
		{"pk": &types.AttributeValueMemberS{Value: "c1"}, "sk": &types.AttributeValueMemberN{Value: "1"}, "v": &types.AttributeValueMemberS{Value: "one"}},
		{"pk": &types.AttributeValueMemberS{Value: "c1"}, "sk": &types.AttributeValueMemberN{Value: "2"}},
	},
	"known_b": {
		{"pk": &types.AttributeValueMemberB{Value: []byte{1}}, "v": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}}},
	},
}

// keyOf returns the key attributes of a fixture item.
func keyOf(it item) item {
	k := item{"pk": it["pk"]}
	if sk, ok := it["sk"]; ok {
		k["sk"] = sk
	}
	return k
}

// snapshot is everything a bad request must leave alone.
type snapshot struct {
	Tables  []string
	Items   map[string]string // table/key -> item as JSON
	Counts  map[string][2]int64
	Records map[string]int
	Schemas map[string]string
}

func takeSnapshot(t *testing.T, ctx context.Context, srv *sluicetest.Server, db *dynamodb.Client) snapshot {
	t.Helper()
	s := snapshot{Items: map[string]string{}, Counts: map[string][2]int64{}, Records: map[string]int{}, Schemas: map[string]string{}}
	lt, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	s.Tables = lt.TableNames
	for table, its := range fixtureItems {
		for _, it := range its {
			key := keyOf(it)
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatalf("GetItem %s: %v", table, err)
			}
			s.Items[table+"/"+render(key)] = render(out.Item)
		}
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatalf("DescribeTable %s: %v", table, err)
		}
		s.Counts[table] = [2]int64{aws.ToInt64(d.Table.ItemCount), aws.ToInt64(d.Table.TableSizeBytes)}
		pt := d.Table.ProvisionedThroughput
		s.Schemas[table] = fmt.Sprintf("%v %v %d/%d", render(d.Table.KeySchema), render(d.Table.AttributeDefinitions),
			aws.ToInt64(pt.ReadCapacityUnits), aws.ToInt64(pt.WriteCapacityUnits))
		s.Records[table] = len(srv.Records(t, table))
	}
	return s
}

// render prints a value for comparison and for the mismatch table, with
// attribute values in a stable form (sets sorted).
func render(v any) string {
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

func normalize(v any) any {
	switch x := v.(type) {
	case item:
		if x == nil {
			return nil
		}
		m := map[string]any{}
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case *types.AttributeValueMemberS:
		return map[string]any{"S": x.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": x.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": x.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": x.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": x.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": normalize(item(x.Value))}
	case *types.AttributeValueMemberL:
		l := []any{}
		for _, e := range x.Value {
			l = append(l, normalize(e))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": sortedStrings(x.Value)}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": sortedStrings(x.Value)}
	case *types.AttributeValueMemberBS:
		var s []string
		for _, b := range x.Value {
			s = append(s, fmt.Sprintf("%x", b))
		}
		return map[string]any{"BS": sortedStrings(s)}
	default:
		return v
	}
}

func sortedStrings(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

type mismatch struct{ name, field, got, want, src string }

// check runs one case and returns what differs from the expectation.
func check(t *testing.T, srv *sluicetest.Server, c testCase) []mismatch {
	t.Helper()
	status, _, body := sluicetest.RawRequest(t, srv.URL, "DynamoDB_20120810."+c.Op, c.Body, c.Headers)
	var out []mismatch
	add := func(field, got, want string) {
		out = append(out, mismatch{c.Name, field, got, want, c.Src})
	}
	if status != c.Status {
		add("status", fmt.Sprint(status), fmt.Sprint(c.Status))
	}
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		add("body", string(body), "a JSON error body")
		return out
	}
	typ, _ := resp["__type"].(string)
	if typ != c.Type {
		add("__type", typ, c.Type)
	}
	msg, hasLower := resp["message"].(string)
	upper, hasUpper := resp["Message"].(string)
	if !hasLower {
		msg = upper
	}
	switch c.Match {
	case "absent":
		if hasLower || hasUpper {
			add("message", msg, "(no message)")
		}
	case "exact":
		if msg != c.Message {
			add("message", msg, c.Message)
		}
	case "prefix":
		if !strings.HasPrefix(msg, c.Message) {
			add("message", msg, c.Message+"…")
		}
	case "regex":
		if !regexp.MustCompile(c.Message).MatchString(msg) {
			add("message", msg, "/"+c.Message+"/")
		}
	}
	return out
}

func shorten(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		return s[:100] + fmt.Sprintf("…(%d bytes)…", len(s)-150) + s[len(s)-50:]
	}
	return s
}

func TestBadInput(t *testing.T) {
	cases := loadCases(t)
	srv := sluicetest.Start(t, sluicetest.Options{})
	db := srv.DynamoDB()
	ctx := sluicetest.Context(t)
	for _, in := range fixtureTables {
		if _, err := db.CreateTable(ctx, in); err != nil {
			t.Fatalf("creating %s: %v", aws.ToString(in.TableName), err)
		}
	}
	nItems := 0
	for table, its := range fixtureItems {
		for _, it := range its {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
				t.Fatalf("putting into %s: %v", table, err)
			}
			nItems++
		}
	}
	// Wait until the relay has published the fixture's records, so that the
	// count taken below is final.
	for table, its := range fixtureItems {
		srv.WaitRecords(t, table, len(its), 10*time.Second)
	}
	before := takeSnapshot(t, ctx, srv, db)

	var bad []mismatch
	for _, c := range cases {
		bad = append(bad, check(t, srv, c)...)
	}

	time.Sleep(500 * time.Millisecond) // give a wrongly accepted write time to reach the stream
	after := takeSnapshot(t, ctx, srv, db)
	if !reflect.DeepEqual(before.Tables, after.Tables) {
		bad = append(bad, mismatch{"(after all cases)", "ListTables", fmt.Sprint(after.Tables), fmt.Sprint(before.Tables), "invariant"})
	}
	for k, v := range before.Items {
		if after.Items[k] != v {
			bad = append(bad, mismatch{"(after all cases)", "item " + k, after.Items[k], v, "invariant"})
		}
	}
	for table := range before.Counts {
		if before.Counts[table] != after.Counts[table] {
			bad = append(bad, mismatch{"(after all cases)", table + " ItemCount/TableSizeBytes",
				fmt.Sprint(after.Counts[table]), fmt.Sprint(before.Counts[table]), "invariant"})
		}
		if before.Records[table] != after.Records[table] {
			bad = append(bad, mismatch{"(after all cases)", table + " change records",
				fmt.Sprint(after.Records[table]), fmt.Sprint(before.Records[table]), "invariant"})
		}
		if before.Schemas[table] != after.Schemas[table] {
			bad = append(bad, mismatch{"(after all cases)", table + " definition", after.Schemas[table], before.Schemas[table], "invariant"})
		}
	}
	if before.Records["known"] != len(fixtureItems["known"]) {
		t.Errorf("fixture: %d change records for known, want %d", before.Records["known"], len(fixtureItems["known"]))
	}

	t.Logf("%d cases, %d fixture items, %d mismatches", len(cases), nItems, len(bad))
	if len(bad) == 0 {
		return
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tFIELD\tSRC\tGOT\tWANT")
	for _, m := range bad {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.name, m.field, m.src, shorten(m.got), shorten(m.want))
	}
	tw.Flush()
	t.Errorf("%d mismatches with DynamoDB:\n%s", len(bad), b.String())
}
