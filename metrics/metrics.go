package metrics

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/playlog/playlog/eventstore"
	"github.com/playlog/playlog/gateway"
	"github.com/playlog/playlog/hub"
	"github.com/playlog/playlog/play"
)

// Sources are what the metrics read at each scrape. Store is optional: a
// store that counts its live game subscriptions (both backends do).
type Sources struct {
	Gateway *gateway.Server
	Hub     *hub.Hub
	Store   interface{ LiveSubscriptions() int }
}

// Metrics is playlogd's registry. It is safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	appendDur prometheus.Histogram
	conflicts prometheus.Counter
	retries   prometheus.Counter
}

var _ play.Observer = (*Metrics)(nil)

// New returns a registry with the Go runtime's and the process's metrics
// and the command path's; Watch adds the rest.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		appendDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "playlog_append_seconds", Help: "Time the store took to append one command's events, conflicts included.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50µs .. 1.6s
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "playlog_append_conflicts_total", Help: "Appends that lost the race for a game's next seq (the command was then retried).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "playlog_command_retries_total", Help: "Appends that were a command's second or later attempt.",
		}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.appendDur, m.conflicts, m.retries)
	return m
}

// Appended implements play.Observer.
func (m *Metrics) Appended(d time.Duration, attempt int, err error) {
	m.appendDur.Observe(d.Seconds())
	if attempt > 0 {
		m.retries.Inc()
	}
	if errors.Is(err, eventstore.ErrConflict) {
		m.conflicts.Inc()
	}
}

// Watch registers the metrics read from src at each scrape. Call it once.
func (m *Metrics) Watch(src Sources) {
	m.reg.MustRegister(&scraped{src: src})
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// scraped turns the sources' Stats into metrics when scraped.
type scraped struct{ src Sources }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	dConnsOpen   = desc("playlog_connections_open", "Open WebSocket connections.")
	dConns       = desc("playlog_connections_total", "WebSocket connections accepted.")
	dJoins       = desc("playlog_joins_total", "join_game and spectate requests.")
	dJoinFails   = desc("playlog_join_failures_total", "Joins answered with an error.")
	dCommands    = desc("playlog_commands_total", "Actions and resignations by outcome: ok, or the error code answered.", "outcome")
	dQueued      = desc("playlog_send_queue_messages", "Messages waiting in connections' send queues (the fan-out queue depth).")
	dSlow        = desc("playlog_slow_consumer_cuts_total", "Connections cut (4001) because their send queue filled.")
	dRateCloses  = desc("playlog_rate_limit_closes_total", "Connections closed (1008) for abusing the rate limit.")
	dFeeds       = desc("playlog_hub_feeds", "Games with a live feed on this node.")
	dViewers     = desc("playlog_hub_viewers", "Viewers attached to this node's feeds.")
	dCatchUp     = desc("playlog_hub_catchup_events_total", "Events read from the store to catch joining viewers up.")
	dFeedFails   = desc("playlog_hub_viewer_failures_total", "Viewers dropped because their game's subscription or rendering failed.")
	dLiveStore   = desc("playlog_store_live_subscriptions", "Game subscriptions open in the store (one per game with viewers on this node).")
	scrapedDescs = []*prometheus.Desc{dConnsOpen, dConns, dJoins, dJoinFails, dCommands, dQueued, dSlow, dRateCloses,
		dFeeds, dViewers, dCatchUp, dFeedFails, dLiveStore}
)

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range scrapedDescs {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if g := s.src.Gateway; g != nil {
		st := g.Stats()
		gauge(dConnsOpen, float64(st.Open))
		counter(dConns, float64(st.Connections))
		counter(dJoins, float64(st.Joins))
		counter(dJoinFails, float64(st.JoinFailures))
		for code, n := range st.Commands {
			counter(dCommands, float64(n), code)
		}
		gauge(dQueued, float64(st.Queued))
		counter(dSlow, float64(st.SlowConsumers))
		counter(dRateCloses, float64(st.RateLimitCloses))
	}
	if h := s.src.Hub; h != nil {
		st := h.Stats()
		gauge(dFeeds, float64(st.Feeds))
		gauge(dViewers, float64(st.Viewers))
		counter(dCatchUp, float64(st.CaughtUp))
		counter(dFeedFails, float64(st.Failed))
	}
	if st := s.src.Store; st != nil {
		gauge(dLiveStore, float64(st.LiveSubscriptions()))
	}
}
