package api

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roster-dev/roster/internal/roster"
)

// Metrics count requests and their latencies by route pattern. Routes are
// the ServeMux patterns, so the label set stays small whatever the URLs.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests by route pattern and status code (\"aborted\": the connection was cut mid-answer).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// RegisterRuntime adds the Go runtime, process and connection-pool
// (sql.DBStats) collectors and Roster's own gauges (outbox, decision index).
func RegisterRuntime(reg prometheus.Registerer, db *sql.DB, dialect string, svc *roster.Service, log *slog.Logger) {
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, dialect),
		&serviceCollector{svc: svc, log: log},
	)
}

// MetricsHandler serves the Prometheus exposition of reg. A collector that
// fails (the database away) drops its own metrics, not the others.
func MetricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg, // promhttp_metric_handler_errors_total
	})
}

var (
	outboxPendingDesc = prometheus.NewDesc("roster_outbox_pending_messages",
		"Messages waiting in the outbox for delivery, all tenants.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("roster_outbox_oldest_pending_age_seconds",
		"Age of the oldest message waiting in the outbox; 0 when none waits.", nil, nil)
	indexSizeDesc = prometheus.NewDesc("roster_decision_index_entries",
		"What this process's decision index holds, by kind.", []string{"kind"}, nil)
	indexLagDesc = prometheus.NewDesc("roster_decision_index_lag_seconds",
		"Time since the decision index last finished reading the change log (how stale it may be).", nil, nil)
)

// serviceCollector reads the outbox and the decision index at scrape time.
type serviceCollector struct {
	svc *roster.Service
	log *slog.Logger
}

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxAgeDesc
	ch <- indexSizeDesc
	ch <- indexLagDesc
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.DecisionIndexStats()
	for kind, n := range map[string]int{"tenants": st.Tenants, "users": st.Users, "groups": st.Groups,
		"roles": st.Roles, "agents": st.Agents, "tokens": st.Tokens} {
		ch <- prometheus.MustNewConstMetric(indexSizeDesc, prometheus.GaugeValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(indexLagDesc, prometheus.GaugeValue, st.Lag.Seconds())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := c.svc.OutboxBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPendingDesc, err)
		return
	}
	age := 0.0
	if b.Oldest != nil {
		age = max(0, time.Since(*b.Oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}

// statusWriter remembers the status sent. It hides nothing: Unwrap lets
// http.ResponseController reach the connection's writer, and Flush is there
// for handlers that look for http.Flusher.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx answers are not the status
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware records every request. A panic before anything was sent is
// logged and answered 500; once the answer has begun, the connection is cut
// (panic(http.ErrAbortHandler) again), so a client never takes half an
// answer, a half CSV file, for a whole one.
func (m *Metrics) Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			code := strconv.Itoa(sw.status)
			switch {
			case p == nil && sw.status == 0:
				code = "200" // a handler that writes nothing answers 200
			case p != nil && p != http.ErrAbortHandler && sw.status == 0:
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				http.Error(sw, "internal error", http.StatusInternalServerError)
				code, p = "500", nil
			case p != nil:
				if p != http.ErrAbortHandler {
					log.ErrorContext(r.Context(), "panic serving request after the answer began; connection cut",
						"method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				}
				code = "aborted"
			}
			route := r.Pattern // set by ServeMux on the request it routed
			if route == "" {
				route = "unmatched"
			}
			m.requests.WithLabelValues(route, code).Inc()
			m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if p != nil {
				panic(http.ErrAbortHandler) // net/http cuts the connection and logs nothing more
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
