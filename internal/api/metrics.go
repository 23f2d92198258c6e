package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the histogram bounds in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Metrics counts requests and their latencies by route pattern, and renders
// them in the Prometheus text format. Routes are the ServeMux patterns, so
// the label set stays small whatever the URLs.
type Metrics struct {
	mu     sync.Mutex
	counts map[metricKey]uint64
	hist   map[string]*histogram
}

type metricKey struct {
	route string
	code  int
}

type histogram struct {
	buckets []uint64
	count   uint64
	sum     float64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{counts: map[metricKey]uint64{}, hist: map[string]*histogram{}}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
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

// Unwrap lets http.ResponseController reach the real writer (flushing CSV).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware records every request and turns a panic into a logged 500.
func (m *Metrics) Middleware(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern // set by ServeMux on the request it routed
			if route == "" {
				route = "unmatched"
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			m.observe(route, sw.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

func (m *Metrics) observe(route string, code int, d time.Duration) {
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[metricKey{route, code}]++
	h := m.hist[route]
	if h == nil {
		h = &histogram{buckets: make([]uint64, len(latencyBuckets))}
		m.hist[route] = h
	}
	for i, b := range latencyBuckets {
		if sec <= b {
			h.buckets[i]++
		}
	}
	h.count++
	h.sum += sec
}

// ServeHTTP renders the Prometheus text exposition.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP roster_http_requests_total HTTP requests by route and status code.\n")
	b.WriteString("# TYPE roster_http_requests_total counter\n")
	keys := make([]metricKey, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "roster_http_requests_total{route=%s,code=\"%d\"} %d\n", strconv.Quote(k.route), k.code, m.counts[k])
	}
	b.WriteString("# HELP roster_http_request_duration_seconds HTTP request latency by route.\n")
	b.WriteString("# TYPE roster_http_request_duration_seconds histogram\n")
	routes := make([]string, 0, len(m.hist))
	for r := range m.hist {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		h := m.hist[r]
		q := strconv.Quote(r)
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "roster_http_request_duration_seconds_bucket{route=%s,le=\"%g\"} %d\n", q, le, h.buckets[i])
		}
		fmt.Fprintf(&b, "roster_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", q, h.count)
		fmt.Fprintf(&b, "roster_http_request_duration_seconds_sum{route=%s} %g\n", q, h.sum)
		fmt.Fprintf(&b, "roster_http_request_duration_seconds_count{route=%s} %d\n", q, h.count)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}
