// Package telemetry holds Nightjar's own Prometheus metrics: how many pings
// arrive and how fast they are made durable, check states, and how deep the
// notification outbox is. Every stage records into one Metrics value, which
// /metrics exposes.
package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Source answers the questions the metrics ask of the areas at scrape
// time, so gauges are never stale.
type Source struct {
	// Checks counts checks by status.
	Checks interface {
		CountByStatus(ctx context.Context) (map[string]int64, error)
	}
	// Outbox counts the messages waiting for delivery.
	Outbox interface {
		Depth(ctx context.Context) (int64, error)
	}
}

// Metrics is the set of Nightjar's metrics.
type Metrics struct {
	reg           *prometheus.Registry
	pings         *prometheus.CounterVec
	pingsRejected *prometheus.CounterVec
	ingestLatency prometheus.Histogram
	batchSize     prometheus.Histogram
	notifications *prometheus.CounterVec
	moduleRuns    *prometheus.CounterVec
}

// New registers the metrics; src may be empty in tests that need no
// gauges, and needs both of its parts otherwise.
func New(src Source, log *slog.Logger) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.pings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nightjar_pings_total", Help: "Pings recorded, by kind.",
	}, []string{"kind"})
	m.pingsRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nightjar_pings_rejected_total", Help: "Ping requests answered with an error, by reason.",
	}, []string{"reason"})
	m.ingestLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "nightjar_ping_ingest_seconds",
		Help:    "Time from receiving a ping to its durable commit.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
	})
	m.batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nightjar_ping_batch_size", Help: "Pings committed per transaction (group commit).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10),
	})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nightjar_notifications_total", Help: "Notification delivery attempts, by channel kind and result.",
	}, []string{"kind", "result"})
	m.moduleRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nightjar_engine_module_runs_total", Help: "Engine module steps, by module and result.",
	}, []string{"module", "result"})
	m.reg.MustRegister(m.pings, m.pingsRejected, m.ingestLatency, m.batchSize, m.notifications, m.moduleRuns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.Checks != nil && src.Outbox != nil {
		m.reg.MustRegister(&dbCollector{src: src, log: log, cacheFor: 10 * time.Second})
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// PingRecorded counts a durable ping and how long it took.
func (m *Metrics) PingRecorded(kind string, d time.Duration) {
	m.pings.WithLabelValues(kind).Inc()
	m.ingestLatency.Observe(d.Seconds())
}

// PingRejected counts a ping request refused for reason.
func (m *Metrics) PingRejected(reason string) { m.pingsRejected.WithLabelValues(reason).Inc() }

// BatchCommitted records the size of one group commit.
func (m *Metrics) BatchCommitted(n int) { m.batchSize.Observe(float64(n)) }

// Notification counts one delivery attempt.
func (m *Metrics) Notification(kind, result string) {
	m.notifications.WithLabelValues(kind, result).Inc()
}

// ModuleRun counts one engine module step.
func (m *Metrics) ModuleRun(module string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.moduleRuns.WithLabelValues(module, result).Inc()
}

type dbCollector struct {
	src Source
	log *slog.Logger
	// The counts cost a scan of every check, so scrapes within cacheFor
	// of each other share one.
	mu       sync.Mutex
	at       time.Time
	counts   map[string]int64
	depth    int64
	cacheFor time.Duration
}

var (
	checksDesc = prometheus.NewDesc("nightjar_checks", "Checks by status.", []string{"status"}, nil)
	outboxDesc = prometheus.NewDesc("nightjar_outbox_pending", "Notifications waiting for delivery.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- checksDesc
	ch <- outboxDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || time.Since(c.at) >= c.cacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		counts, err := c.src.Checks.CountByStatus(ctx)
		if err != nil {
			c.log.Warn("collect check counts", "err", err)
		}
		depth, err := c.src.Outbox.Depth(ctx)
		if err != nil {
			c.log.Warn("collect outbox depth", "err", err)
		}
		c.counts, c.depth, c.at = counts, depth, time.Now()
	}
	counts, depth := c.counts, c.depth
	for _, s := range []string{"new", "up", "started", "late", "down", "paused"} {
		ch <- prometheus.MustNewConstMetric(checksDesc, prometheus.GaugeValue, float64(counts[s]), s)
	}
	ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(depth))
}
