package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicedb/sluice/consumers"
	"github.com/sluicedb/sluice/engine"
)

// metricsPath serves the Prometheus metrics on the API's port.
const metricsPath = "/metrics"

// engineCollector reads the engine's gauges at each scrape.
type engineCollector struct {
	e                       *engine.Engine
	items, bytes, gsiBehind *prometheus.Desc
}

func newEngineCollector(e *engine.Engine) *engineCollector {
	return &engineCollector{
		e:     e,
		items: prometheus.NewDesc("sluice_table_items", "Items in a table.", []string{"table"}, nil),
		bytes: prometheus.NewDesc("sluice_table_bytes", "DynamoDB size of a table's items, in bytes.", []string{"table"}, nil),
		gsiBehind: prometheus.NewDesc("sluice_gsi_lag_changes",
			"Committed changes a global secondary index has not applied yet.", []string{"table", "index", "backfilling"}, nil),
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.items
	ch <- c.bytes
	ch <- c.gsiBehind
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, name := range c.e.ListTables() {
		in, err := c.e.DescribeTable(name)
		if err != nil {
			continue // dropped meanwhile
		}
		ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(in.ItemCount), name)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(in.SizeBytes), name)
	}
	lags, err := c.e.GSILags()
	if err != nil {
		return
	}
	for _, l := range lags {
		backfilling := "false"
		if l.Backfilling {
			backfilling = "true"
		}
		ch <- prometheus.MustNewConstMetric(c.gsiBehind, prometheus.GaugeValue, float64(l.Behind), l.Table, l.Index, backfilling)
	}
}

// withMetrics serves metricsPath from a registry of the engine's gauges,
// the Go runtime's and the given components', and everything else with
// api.
func withMetrics(api http.Handler, e *engine.Engine, t *consumers.Runtime, more ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newEngineCollector(e), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(more...)
	if t != nil {
		reg.MustRegister(t.Collector())
	}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	// Not an http.ServeMux: it would redirect unclean paths that the API
	// answers as DynamoDB does.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == metricsPath {
			metrics.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
