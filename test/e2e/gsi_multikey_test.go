package e2e

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// mkRow is one item of the multi-attribute GSI test's model: the table key
// (pk, sk) and the GSI key attributes t, r (partition) and a, b, c (sort);
// a nil field is an attribute the item lacks.
type mkRow struct {
	pk string
	sk int
	t  *string
	r  *int
	a  *string
	b  *float64
	c  []byte
}

func (m mkRow) item() item {
	it := item{"pk": sv(m.pk), "sk": nv(strconv.Itoa(m.sk)), "data": sv("payload-" + m.pk)}
	if m.t != nil {
		it["t"] = sv(*m.t)
	}
	if m.r != nil {
		it["r"] = nv(strconv.Itoa(*m.r))
	}
	if m.a != nil {
		it["a"] = sv(*m.a)
	}
	if m.b != nil {
		it["b"] = nv(strconv.FormatFloat(*m.b, 'f', -1, 64))
	}
	if m.c != nil {
		it["c"] = bv(m.c)
	}
	return it
}

func (m mkRow) id() string { return fmt.Sprintf("%s/%d", m.pk, m.sk) }

// indexed: an item is in the GSI only if it has every key attribute.
func (m mkRow) indexed() bool {
	return m.t != nil && m.r != nil && m.a != nil && m.b != nil && m.c != nil
}

// cmpRows is the GSI's order within a partition: a, b, c compared one by
// one (S and B bytewise, N numerically), then the table key.
func cmpRows(x, y mkRow) int {
	return cmp.Or(strings.Compare(*x.a, *y.a), cmp.Compare(*x.b, *y.b), bytes.Compare(x.c, y.c),
		strings.Compare(x.pk, y.pk), cmp.Compare(x.sk, y.sk))
}

// TestGSIMultiAttributeKeys drives a GSI with two partition-key attributes
// (S, N) and three sort-key attributes (S, N, B) through the AWS SDK:
// sparse items, every sort-condition shape, both directions, paging with
// Limit, the key-condition errors, and a second such GSI added by
// UpdateTable and backfilled. Every answer is checked against a model.
func TestGSIMultiAttributeKeys(t *testing.T) {
	e := start(t)
	gsiKeys := []types.KeySchemaElement{
		{AttributeName: aws.String("t"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("r"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("a"), KeyType: types.KeyTypeRange},
		{AttributeName: aws.String("b"), KeyType: types.KeyTypeRange},
		{AttributeName: aws.String("c"), KeyType: types.KeyTypeRange},
	}
	must(e.db.CreateTable(e.ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("matches"),
		KeySchema:            keySchema("pk", "sk"),
		AttributeDefinitions: attrDefs("pk", "S", "sk", "N", "t", "S", "r", "N", "a", "S", "b", "N", "c", "B"),
		BillingMode:          types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-tr"), KeySchema: gsiKeys,
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}))(t)
	desc := e.describe(t, "matches")
	if got := desc.GlobalSecondaryIndexes[0].KeySchema; len(got) != 5 || *got[1].AttributeName != "r" || got[1].KeyType != types.KeyTypeHash ||
		*got[4].AttributeName != "c" || got[4].KeyType != types.KeyTypeRange {
		t.Fatalf("DescribeTable KeySchema: %+v", got)
	}

	// The model: items over a small domain, so that partitions hold many
	// entries with equal leading sort attributes; one in five lacks one
	// key attribute (sparse).
	r := rand.New(rand.NewPCG(5, 8))
	ts, as := []string{"x", "y"}, []string{"a", "b", "ba", "c"}
	bs := []float64{-1.5, 0, 2, 10, 2.25}
	cs := [][]byte{{0}, {1}, {1, 0}, {2}, {1, 0xff}}
	var model []mkRow
	for i := range 160 {
		m := mkRow{pk: fmt.Sprintf("p%03d", i%80), sk: i / 80}
		tv, rv, av, bvv := ts[r.IntN(2)], 1+r.IntN(2), as[r.IntN(len(as))], bs[r.IntN(len(bs))]
		m.t, m.r, m.a, m.b, m.c = &tv, &rv, &av, &bvv, cs[r.IntN(len(cs))]
		if r.IntN(5) == 0 {
			switch r.IntN(5) {
			case 0:
				m.t = nil
			case 1:
				m.r = nil
			case 2:
				m.a = nil
			case 3:
				m.b = nil
			default:
				m.c = nil
			}
		}
		model = append(model, m)
		e.put(t, "matches", m.item())
	}
	indexed := 0
	for _, m := range model {
		if m.indexed() {
			indexed++
		}
	}
	waitIndexCount(t, e, "matches", "by-tr", indexed)

	// Query answers, checked against the model.
	type shape struct {
		cond   string
		values map[string]types.AttributeValue
		match  func(mkRow) bool
	}
	s := func(v string) types.AttributeValue { return sv(v) }
	n := func(v string) types.AttributeValue { return nv(v) }
	b := func(v ...byte) types.AttributeValue { return bv(v) }
	vals := func(kv ...any) map[string]types.AttributeValue {
		out := map[string]types.AttributeValue{":t": s("x"), ":r": n("1")}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1].(types.AttributeValue)
		}
		return out
	}
	const part = "t = :t AND r = :r"
	inPart := func(m mkRow) bool { return m.indexed() && *m.t == "x" && *m.r == 1 }
	shapes := []shape{
		{part, vals(), func(m mkRow) bool { return true }},
		{part + " AND a = :a", vals(":a", s("b")), func(m mkRow) bool { return *m.a == "b" }},
		{part + " AND a < :a", vals(":a", s("b")), func(m mkRow) bool { return *m.a < "b" }},
		{part + " AND a <= :a", vals(":a", s("b")), func(m mkRow) bool { return *m.a <= "b" }},
		{part + " AND a > :a", vals(":a", s("b")), func(m mkRow) bool { return *m.a > "b" }},
		{part + " AND a >= :a", vals(":a", s("b")), func(m mkRow) bool { return *m.a >= "b" }},
		{part + " AND a BETWEEN :lo AND :hi", vals(":lo", s("a"), ":hi", s("ba")), func(m mkRow) bool { return *m.a >= "a" && *m.a <= "ba" }},
		{part + " AND begins_with(a, :a)", vals(":a", s("b")), func(m mkRow) bool { return strings.HasPrefix(*m.a, "b") }},
		{part + " AND a = :a AND b = :b", vals(":a", s("b"), ":b", n("2")), func(m mkRow) bool { return *m.a == "b" && *m.b == 2 }},
		{part + " AND a = :a AND b < :b", vals(":a", s("b"), ":b", n("2")), func(m mkRow) bool { return *m.a == "b" && *m.b < 2 }},
		{part + " AND a = :a AND b <= :b", vals(":a", s("b"), ":b", n("2")), func(m mkRow) bool { return *m.a == "b" && *m.b <= 2 }},
		{part + " AND a = :a AND b > :b", vals(":a", s("b"), ":b", n("2")), func(m mkRow) bool { return *m.a == "b" && *m.b > 2 }},
		{part + " AND a = :a AND b >= :b", vals(":a", s("b"), ":b", n("0")), func(m mkRow) bool { return *m.a == "b" && *m.b >= 0 }},
		{part + " AND a = :a AND b BETWEEN :lo AND :hi", vals(":a", s("b"), ":lo", n("-1.5"), ":hi", n("2.25")),
			func(m mkRow) bool { return *m.a == "b" && *m.b >= -1.5 && *m.b <= 2.25 }},
		{part + " AND a = :a AND b = :b AND c = :c", vals(":a", s("b"), ":b", n("2"), ":c", b(1)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.Equal(m.c, []byte{1}) }},
		{part + " AND a = :a AND b = :b AND c < :c", vals(":a", s("b"), ":b", n("2"), ":c", b(1, 0)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.Compare(m.c, []byte{1, 0}) < 0 }},
		{part + " AND a = :a AND b = :b AND c <= :c", vals(":a", s("b"), ":b", n("2"), ":c", b(1, 0)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.Compare(m.c, []byte{1, 0}) <= 0 }},
		{part + " AND a = :a AND b = :b AND c > :c", vals(":a", s("b"), ":b", n("2"), ":c", b(1)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.Compare(m.c, []byte{1}) > 0 }},
		{part + " AND a = :a AND b = :b AND c >= :c", vals(":a", s("b"), ":b", n("2"), ":c", b(1)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.Compare(m.c, []byte{1}) >= 0 }},
		{part + " AND a = :a AND b = :b AND c BETWEEN :lo AND :hi", vals(":a", s("b"), ":b", n("2"), ":lo", b(0), ":hi", b(1, 0)),
			func(m mkRow) bool {
				return *m.a == "b" && *m.b == 2 && bytes.Compare(m.c, []byte{0}) >= 0 && bytes.Compare(m.c, []byte{1, 0}) <= 0
			}},
		{part + " AND a = :a AND b = :b AND begins_with(c, :c)", vals(":a", s("b"), ":b", n("2"), ":c", b(1)),
			func(m mkRow) bool { return *m.a == "b" && *m.b == 2 && bytes.HasPrefix(m.c, []byte{1}) }},
		// The conditions may come in any order in the expression.
		{"b = :b AND c >= :c AND r = :r AND a = :a AND t = :t", vals(":a", s("ba"), ":b", n("10"), ":c", b(1)),
			func(m mkRow) bool { return *m.a == "ba" && *m.b == 10 && bytes.Compare(m.c, []byte{1}) >= 0 }},
	}
	nonEmpty := 0
	for _, sh := range shapes {
		var want []string
		var rows []mkRow
		for _, m := range model {
			if inPart(m) && sh.match(m) {
				rows = append(rows, m)
			}
		}
		slices.SortFunc(rows, cmpRows)
		for _, m := range rows {
			want = append(want, m.id())
		}
		if len(want) > 0 {
			nonEmpty++
		}
		for _, forward := range []bool{true, false} {
			for _, limit := range []int32{0, 1, 3} {
				got := queryAll(t, e, &dynamodb.QueryInput{
					TableName: aws.String("matches"), IndexName: aws.String("by-tr"),
					KeyConditionExpression: aws.String(sh.cond), ExpressionAttributeValues: sh.values,
					ScanIndexForward: aws.Bool(forward), Limit: limitOrNil(limit),
				})
				w := want
				if !forward {
					w = slices.Clone(want)
					slices.Reverse(w)
				}
				if !slices.Equal(got, w) {
					t.Errorf("%s (forward %v, limit %d):\n got %v\nwant %v", sh.cond, forward, limit, got, w)
				}
			}
		}
	}
	if nonEmpty < len(shapes)/2 {
		t.Fatalf("only %d of %d query shapes matched items: the model does not exercise them", nonEmpty, len(shapes))
	}

	// The errors.
	for _, tc := range []struct{ cond, msg string }{
		{"t = :t", "Query condition missed key schema element: r"},
		// The RANGE messages as DynamoDB answers them (recorded for one
		// attribute; Sluice joins several with ", ").
		{part + " AND b = :b", "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{part + " AND a = :a AND c = :c", "RANGE key attributes b must have equality conditions specified in the query because a condition is present on key attribute c"},
		{part + " AND c = :c", "RANGE key attributes a, b must have equality conditions specified in the query because a condition is present on key attribute c"},
		{part + " AND a > :a AND b = :b", "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{part + " AND begins_with(a, :a) AND b = :b", "RANGE key attributes a must have equality conditions specified in the query because a condition is present on key attribute b"},
		{"t = :t AND r > :r", "Query key condition not supported"},
		{part + " AND a = :b", "One or more parameter values were invalid: Condition parameter type does not match schema type"},
	} {
		v := vals(":a", s("b"), ":b", n("2"), ":c", b(1))
		for k := range v {
			if !strings.Contains(tc.cond, k) {
				delete(v, k)
			}
		}
		_, err := e.db.Query(e.ctx, &dynamodb.QueryInput{TableName: aws.String("matches"), IndexName: aws.String("by-tr"),
			KeyConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: v})
		wantErr(t, err, "ValidationException", tc.msg, ref)
	}

	// A second GSI with multi-attribute keys, added to the table that has
	// items: the backfill indexes every item that has a, b and c.
	must(e.db.UpdateTable(e.ctx, &dynamodb.UpdateTableInput{
		TableName: aws.String("matches"),
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("by-ab"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("a"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("b"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("c"), KeyType: types.KeyTypeRange},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}}},
	}))(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		gsis := e.describe(t, "matches").GlobalSecondaryIndexes
		if len(gsis) == 2 && gsis[0].IndexStatus == types.IndexStatusActive && gsis[1].IndexStatus == types.IndexStatusActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GSI by-ab not ACTIVE after 30 s: %+v", gsis)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var want []string
	for _, m := range model {
		if m.a != nil && m.b != nil && m.c != nil && *m.a == "ba" && *m.b == 10 {
			want = append(want, m.id())
		}
	}
	slices.SortFunc(want, func(x, y string) int {
		mx, my := model[slices.IndexFunc(model, func(m mkRow) bool { return m.id() == x })], model[slices.IndexFunc(model, func(m mkRow) bool { return m.id() == y })]
		return cmp.Or(bytes.Compare(mx.c, my.c), cmp.Compare(mx.sk, my.sk), strings.Compare(mx.pk, my.pk))
	})
	in := &dynamodb.QueryInput{TableName: aws.String("matches"), IndexName: aws.String("by-ab"), Limit: aws.Int32(2),
		KeyConditionExpression:    aws.String("a = :a AND b = :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("ba"), ":b": n("10")}}
	var got []string
	for {
		page := must(e.db.Query(e.ctx, in))(t)
		for _, it := range page.Items {
			if _, ok := it["data"]; ok || len(it) != 5 {
				t.Fatalf("KEYS_ONLY entry with %d attributes: %v", len(it), normItem(it))
			}
			got = append(got, fmt.Sprintf("%s/%s", it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value))
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if !slices.Equal(got, want) {
		t.Fatalf("backfilled GSI by-ab:\n got %v\nwant %v", got, want)
	}
}

func limitOrNil(n int32) *int32 {
	if n == 0 {
		return nil
	}
	return aws.Int32(n)
}

// queryAll pages through a Query and returns the ids (pk/sk) of the items;
// every LastEvaluatedKey must carry every key attribute of the GSI
// by-tr and of the table.
func queryAll(t *testing.T, e *env, in *dynamodb.QueryInput) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		page := must(e.db.Query(e.ctx, in))(t)
		for _, it := range page.Items {
			out = append(out, fmt.Sprintf("%s/%s", it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value))
		}
		if page.LastEvaluatedKey == nil {
			return out
		}
		for _, k := range []string{"pk", "sk", "t", "r", "a", "b", "c"} {
			if _, ok := page.LastEvaluatedKey[k]; !ok || len(page.LastEvaluatedKey) != 7 {
				t.Fatalf("LastEvaluatedKey %v lacks %s or has other attributes", normItem(page.LastEvaluatedKey), k)
			}
		}
		if pages > 1000 {
			t.Fatal("Query does not end")
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// waitIndexCount waits until a Scan of the GSI finds want entries (the
// indexer applies the stream asynchronously).
func waitIndexCount(t *testing.T, e *env, table, index string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := 0
		in := &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String(index), Limit: aws.Int32(7)}
		for {
			page := must(e.db.Scan(e.ctx, in))(t)
			got += len(page.Items)
			if page.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GSI %s has %d entries after 20 s, the table implies %d", index, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
