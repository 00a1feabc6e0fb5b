package consumers

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/sluicedb/sluice/cdc/event"
	"github.com/sluicedb/sluice/engine"
	"github.com/sluicedb/sluice/engine/attr"
	"github.com/sluicedb/sluice/engine/expr"
)

// TTLReaper deletes the expired items of the tables with TTL enabled: those
// whose TTL attribute is a number of epoch seconds now past, and not more
// than five years past (DynamoDB ignores those, and values that are not
// numbers). Each deletion goes through the normal write path, conditional
// on the TTL attribute being unchanged since the item was read, and its
// change record carries DynamoDB's service userIdentity.
//
// Every Interval the reaper scans each such table through its TTL attribute
// (a filtered Scan). An expiry index kept from the change stream, which
// would find expired items without a scan, is the planned successor.
type TTLReaper struct {
	e        *engine.Engine
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
}

// DefaultTTLInterval is how often the reaper looks for expired items.
const DefaultTTLInterval = time.Second

// maxTTLAge is how far in the past a TTL value may be and still count.
const maxTTLAge = 5 * 365 * 24 * time.Hour

// NewTTLReaper returns a reaper of e's tables. now is the clock (nil:
// time.Now); interval 0 means DefaultTTLInterval.
func NewTTLReaper(e *engine.Engine, log *slog.Logger, now func() time.Time, interval time.Duration) *TTLReaper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	if interval <= 0 {
		interval = DefaultTTLInterval
	}
	return &TTLReaper{e: e, log: log, now: now, interval: interval}
}

// Run reaps every interval until ctx ends.
func (r *TTLReaper) Run(ctx context.Context) error {
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if _, err := r.Pass(); err != nil && !errors.Is(err, engine.ErrClosed) {
			r.log.Warn("TTL pass failed", "err", err)
		}
	}
}

// Pass reaps every table with TTL enabled once and returns how many items
// it deleted.
func (r *TTLReaper) Pass() (int, error) {
	deleted := 0
	for _, name := range r.e.ListTables() {
		def, ok := r.e.TableDef(name)
		if !ok || !def.TTL.Enabled {
			continue
		}
		n, err := r.reap(name, def.TTL.Attribute)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// reap deletes a table's expired items.
func (r *TTLReaper) reap(table, attrName string) (int, error) {
	now := r.now()
	names := expr.Names{"#t": attrName}
	values := expr.Values{
		":min": attr.N(mustNumber(now.Add(-maxTTLAge).Unix())),
		":now": attr.N(mustNumber(now.Unix())),
	}
	filter, err := expr.ParseCondition(expr.KindFilter, "#t BETWEEN :min AND :now", names, values)
	if err != nil {
		return 0, err
	}
	def, ok := r.e.TableDef(table)
	if !ok {
		return 0, nil
	}
	deleted := 0
	var start attr.Item
	for {
		page, err := r.e.Scan(engine.ScanRequest{Table: table, ExclusiveStart: start, Filter: filter, Limit: 1000})
		if err != nil {
			return deleted, err
		}
		for _, js := range page.Items {
			var item attr.Item
			if err := item.UnmarshalJSON(js); err != nil {
				return deleted, err
			}
			key := attr.Item{}
			for _, k := range def.KeySchema {
				key[k.Name] = item[k.Name]
			}
			unchanged, err := expr.ParseCondition(expr.KindCondition, "#t = :v", names, expr.Values{":v": item[attrName]})
			if err != nil {
				return deleted, err
			}
			_, err = r.e.DeleteItem(engine.DeleteRequest{
				Table: table, Key: key, Cond: unchanged,
				Who: event.Identity{Service: true},
			})
			switch {
			case errors.Is(err, engine.ErrConditionFailed):
				// Changed since it was read: its new value decides.
			case err != nil:
				return deleted, err
			default:
				deleted++
			}
		}
		if page.LastKey == nil {
			return deleted, nil
		}
		start = page.LastKey
	}
}

func mustNumber(n int64) attr.Number {
	v, err := attr.ParseNumber(strconv.FormatInt(n, 10))
	if err != nil {
		panic(err)
	}
	return v
}
