package dynamodb

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/sinks"
	"github.com/sluicedb/sluice/sinks/sinktest"
	"github.com/sluicedb/sluice/test/sluicetest"
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// fromValue converts an SDK attribute value back to an attr.Value.
func fromValue(av types.AttributeValue) (attr.Value, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return attr.S(v.Value), nil
	case *types.AttributeValueMemberN:
		return attr.N(attr.Number(v.Value)), nil
	case *types.AttributeValueMemberB:
		return attr.B(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return attr.Bool(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return attr.Null(), nil
	case *types.AttributeValueMemberM:
		m, err := fromMap(v.Value)
		return attr.M(m), err
	case *types.AttributeValueMemberL:
		l := make([]attr.Value, len(v.Value))
		for i, e := range v.Value {
			var err error
			if l[i], err = fromValue(e); err != nil {
				return attr.Value{}, err
			}
		}
		return attr.L(l), nil
	case *types.AttributeValueMemberSS:
		return attr.Value{T: attr.TypeSS, SS: v.Value}, nil
	case *types.AttributeValueMemberNS:
		ns := make([]attr.Number, len(v.Value))
		for i, n := range v.Value {
			ns[i] = attr.Number(n)
		}
		return attr.Value{T: attr.TypeNS, NS: ns}, nil
	case *types.AttributeValueMemberBS:
		return attr.Value{T: attr.TypeBS, BS: v.Value}, nil
	default:
		return attr.Value{}, fmt.Errorf("unknown attribute value %T", av)
	}
}

func fromMap(m map[string]types.AttributeValue) (map[string]attr.Value, error) {
	out := make(map[string]attr.Value, len(m))
	for k, av := range m {
		v, err := fromValue(av)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// canonical returns an item as the change records write it: names sorted,
// numbers canonical.
func canonical(t testing.TB, it attr.Item) string {
	t.Helper()
	if err := attr.ValidateItem(it); err != nil {
		t.Fatalf("invalid item from the destination: %v", err)
	}
	return string(attr.AppendItemJSON(nil, it))
}

// client returns an SDK client of url with the sink's credentials.
func client(url string) *ddb.Client {
	return ddb.New(ddb.Options{
		BaseEndpoint: aws.String(url),
		Region:       defaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(defaultCredential, defaultCredential, ""),
	})
}

var tableSeq atomic.Int64

// createTable creates a new table with hash key pk (S) and returns its name.
func createTable(t testing.TB, c *ddb.Client) string {
	t.Helper()
	name := fmt.Sprintf("rep%d", tableSeq.Add(1))
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &ddb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("creating table %s: %v", name, err)
	}
	return name
}

// scan returns every item of a table, RepAttribute included, by the
// canonical JSON of its key (pk).
func scan(t testing.TB, c *ddb.Client, table string) map[string]attr.Item {
	t.Helper()
	out := map[string]attr.Item{}
	p := ddb.NewScanPaginator(c, &ddb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scanning %s: %v", table, err)
		}
		for _, av := range page.Items {
			it, err := fromMap(av)
			if err != nil {
				t.Fatal(err)
			}
			key := string(attr.AppendItemJSON(nil, attr.Item{"pk": it["pk"]}))
			out[key] = it
		}
	}
	return out
}

// env is a sinktest.Env: one table of a destination, which the sinks reach
// through a proxy that can break and refuse.
type env struct {
	direct *ddb.Client // to the destination, for State
	table  string
	proxy  *proxy
	conc   int
}

func newEnv(t *testing.T, url string) *env {
	c := client(url)
	return &env{direct: c, table: createTable(t, c), proxy: newProxy(t, url), conc: 4}
}

func (e *env) Open() sinks.Sink {
	s, err := New(Options{Endpoint: e.proxy.URL(), Table: e.table, Concurrency: e.conc})
	if err != nil {
		panic(err)
	}
	return s
}

func (e *env) State(t *testing.T) sinktest.State {
	st := sinktest.State{Items: map[string]string{}}
	for key, it := range scan(t, e.direct, e.table) {
		delete(it, RepAttribute)
		st.Items[sinktest.ItemID(sinktest.Table, []byte(key))] = canonical(t, it)
	}
	return st
}

func (e *env) Break()             { e.proxy.setBroken(true) }
func (e *env) Reject(k sinks.Key) { e.proxy.reject(k) }
func (e *env) Heal() {
	e.proxy.setBroken(false)
	e.proxy.reject(sinks.Key{})
}

// proxy forwards HTTP requests to a destination. Broken, it drops every
// connection without an answer; it can refuse one record's requests with a
// ValidationException, recognizing them by the shard and sequence number
// in the RepAttribute value they carry.
type proxy struct {
	srv    *httptest.Server
	broken atomic.Bool
	mu     struct {
		sync.Mutex
		refuse string // "/shard/seq" suffix of the refused record's value; "" none
	}
}

func newProxy(t testing.TB, target string) *proxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.broken.Load() {
			drop(w)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			drop(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		refuse := p.mu.refuse
		p.mu.Unlock()
		if refuse != "" && bytes.Contains(body, []byte(refuse+`"`)) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"refused by the test proxy"}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// drop closes the request's connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func (p *proxy) URL() string { return p.srv.URL }

func (p *proxy) setBroken(b bool) {
	p.broken.Store(b)
	if b {
		p.srv.CloseClientConnections()
	}
}

func (p *proxy) reject(k sinks.Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.refuse = ""
	if k != (sinks.Key{}) {
		v := RepValue(time.Time{}, k.Shard, k.Seq)
		p.mu.refuse = v[strings.IndexByte(v, '/'):]
	}
}

// startDynamoDBLocal runs DynamoDB Local (sluicetest.StartDynamoDBLocal)
// and returns its URL. It skips t when java or npm is missing, or in -short
// mode.
func startDynamoDBLocal(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("DynamoDB Local: skipped in -short mode")
	}
	return sluicetest.StartDynamoDBLocal(t, sluicetest.DynamoDBLocalOptions{})
}

// startSluice runs `sluice serve` (sluicetest.Start: fsync durability, its
// own data directory) and returns its URL. It skips t in -short mode.
func startSluice(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("sluice: skipped in -short mode")
	}
	return sluicetest.Start(t, sluicetest.Options{}).URL
}
