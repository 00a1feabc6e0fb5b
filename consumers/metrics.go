package consumers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// triggerCollector exports each trigger's counters at each scrape.
type triggerCollector struct {
	t                                                                    *Runtime
	invocations, errors, delivered, filtered, deadLettered, iterAge, lag *prometheus.Desc
}

// Collector returns the triggers' Prometheus metrics: per trigger, its
// invocations, failed invocations, records delivered, filtered out and
// dead-lettered (counters since the server started), the iterator age of
// its last invocation and its lag (records not done yet).
func (t *Runtime) Collector() prometheus.Collector {
	l := []string{"trigger", "table"}
	return &triggerCollector{
		t:            t,
		invocations:  prometheus.NewDesc("sluice_trigger_invocations_total", "Function invocations made by a trigger.", l, nil),
		errors:       prometheus.NewDesc("sluice_trigger_errors_total", "Invocations that failed (function error, bad answer, or no answer).", l, nil),
		delivered:    prometheus.NewDesc("sluice_trigger_records_delivered_total", "Records a trigger delivered.", l, nil),
		filtered:     prometheus.NewDesc("sluice_trigger_records_filtered_total", "Records a trigger's filters dropped.", l, nil),
		deadLettered: prometheus.NewDesc("sluice_trigger_records_dead_lettered_total", "Records a trigger gave up on (sent to its on-failure destination, or skipped without one).", l, nil),
		iterAge:      prometheus.NewDesc("sluice_trigger_iterator_age_seconds", "Age of the last record of a trigger's last invocation when it was invoked (Lambda's IteratorAge).", l, nil),
		lag:          prometheus.NewDesc("sluice_trigger_lag_records", "Records of the table's stream a trigger has not done yet.", l, nil),
	}
}

func (c *triggerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.invocations, c.errors, c.delivered, c.filtered, c.deadLettered, c.iterAge, c.lag} {
		ch <- d
	}
}

func (c *triggerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := c.t.List(ctx, "")
	if err != nil {
		return
	}
	for i := range all {
		in := &all[i]
		s := in.Stats
		lv := []string{in.Name, in.Table}
		ch <- prometheus.MustNewConstMetric(c.invocations, prometheus.CounterValue, float64(s.Invocations), lv...)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(s.Errors), lv...)
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(s.Delivered), lv...)
		ch <- prometheus.MustNewConstMetric(c.filtered, prometheus.CounterValue, float64(s.Filtered), lv...)
		ch <- prometheus.MustNewConstMetric(c.deadLettered, prometheus.CounterValue, float64(s.DeadLettered), lv...)
		ch <- prometheus.MustNewConstMetric(c.iterAge, prometheus.GaugeValue, float64(s.IteratorAgeMs)/1000, lv...)
		if s.Lag != nil {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(*s.Lag), lv...)
		}
	}
}

// ttlCollector exports the TTL reaper's state at each scrape.
type ttlCollector struct {
	r                     *TTLReaper
	lag, deleted, overdue *prometheus.Desc
}

// Collector returns the TTL reaper's Prometheus metrics, per table with
// TTL enabled: the records its expiry index has not applied yet, the items
// deleted since the server started, and how long the oldest item the
// index holds as due has been due (0 when none is).
func (r *TTLReaper) Collector() prometheus.Collector {
	l := []string{"table"}
	return &ttlCollector{
		r:       r,
		lag:     prometheus.NewDesc("sluice_ttl_lag_records", "Committed changes of a table its expiry index has not applied yet.", l, nil),
		deleted: prometheus.NewDesc("sluice_ttl_deleted_items_total", "Expired items the TTL reaper deleted.", l, nil),
		overdue: prometheus.NewDesc("sluice_ttl_oldest_overdue_seconds", "How long ago the oldest item still due per the expiry index expired (0: none).", l, nil),
	}
}

func (c *ttlCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lag, c.deleted, c.overdue} {
		ch <- d
	}
}

func (c *ttlCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.r.now()
	lags, err := c.r.e.TTLLags(now)
	if err != nil {
		return
	}
	c.r.mu.Lock()
	deleted := make([]int64, len(lags))
	for i, l := range lags {
		deleted[i] = c.r.mu.deleted[l.ID]
	}
	c.r.mu.Unlock()
	for i, l := range lags {
		overdue := 0.0
		if !l.OldestDue.IsZero() {
			overdue = max(0, now.Sub(l.OldestDue).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(l.Behind), l.Table)
		ch <- prometheus.MustNewConstMetric(c.deleted, prometheus.CounterValue, float64(deleted[i]), l.Table)
		ch <- prometheus.MustNewConstMetric(c.overdue, prometheus.GaugeValue, overdue, l.Table)
	}
}
