package consumers

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/catalog"
)

// TestTTLReaper expires items with a test clock: past TTLs go, future ones,
// non-numbers and values more than five years old stay, and each deletion
// is a REMOVE record by the service.
func TestTTLReaper(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	e, err := engine.Open(engine.Options{Dir: t.TempDir(), Relaxed: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.CreateTable(&catalog.Table{
		Name:                 "t",
		KeySchema:            []catalog.KeyElement{{Name: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []catalog.AttributeDefinition{{Name: "pk", Type: "S"}},
		BillingMode:          catalog.PayPerRequest,
		TTL:                  catalog.TTL{Enabled: true, Attribute: "exp"},
	}); err != nil {
		t.Fatal(err)
	}
	num := func(n int64) attr.Value { return attr.N(mustNumber(n)) }
	items := map[string]attr.Value{
		"past":       num(now.Unix() - 10),
		"now":        num(now.Unix()),
		"future":     num(now.Unix() + 10),
		"string":     attr.S("1000"),
		"ancient":    num(now.Add(-6 * 365 * 24 * time.Hour).Unix()),
		"fractional": attr.N(mustParse(t, "1799999999.5")),
	}
	for k, v := range items {
		if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S(k), "exp": v}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.PutItem(engine.PutRequest{Table: "t", Item: attr.Item{"pk": attr.S("none")}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var removed []string
	defer e.ChangeLog().Subscribe(func(cs []engine.Change) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			env, _ := event.Decode(c.Data)
			if strings.Contains(string(env.Data), `"userIdentity":{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}`) {
				removed = append(removed, env.Header(event.HdrSubject))
			}
		}
	})()
	r := NewTTLReaper(e, nil, clock, 0)
	n, err := r.Pass()
	if err != nil || n != 3 {
		t.Fatalf("first pass deleted %d, %v; want past, now, fractional", n, err)
	}
	for k := range items {
		res, err := e.GetItem(engine.GetRequest{Table: "t", Key: attr.Item{"pk": attr.S(k)}})
		if err != nil {
			t.Fatal(err)
		}
		gone := res.Item == nil
		if want := k == "past" || k == "now" || k == "fractional"; gone != want {
			t.Errorf("item %s: deleted %v, want %v", k, gone, want)
		}
	}
	mu.Lock()
	if len(removed) != 3 {
		t.Errorf("%d REMOVE records by the service, want 3: %q", len(removed), removed)
	}
	mu.Unlock()
	now = now.Add(20 * time.Second)
	if n, err := r.Pass(); err != nil || n != 1 {
		t.Fatalf("second pass deleted %d, %v; want future", n, err)
	}
}

func mustParse(t *testing.T, s string) attr.Number {
	n, err := attr.ParseNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
