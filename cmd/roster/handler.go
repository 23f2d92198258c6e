package main

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/i18n"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/store"
)

// handlers is what serve serves, built once here so that tests serve the
// same chain as the binary.
type handlers struct {
	mux     *http.ServeMux // the console, the API, SCIM and the health checks
	root    http.Handler   // mux behind the metrics middleware: the server's handler
	metrics http.Handler   // the Prometheus exposition of reg
}

// newHandlers wires the front doors over svc and registers every metric on
// reg. /metrics is on mux unless separateMetrics (--metrics-addr): then the
// caller serves h.metrics on its own listener.
func newHandlers(cfg Config, db *store.DB, svc *roster.Service, log *slog.Logger, reg *prometheus.Registry, separateMetrics bool) handlers {
	metrics := api.NewMetrics(reg)
	api.RegisterRuntime(reg, db.SQL(), string(db.Dialect()), svc, log)
	h := handlers{mux: http.NewServeMux(), metrics: api.MetricsHandler(reg, log)}
	api.New(svc, log, api.Options{Proxies: cfg.TrustedProxies}).Register(h.mux)
	scim.New(svc, log, scim.Options{Proxies: cfg.TrustedProxies}).Register(h.mux)
	console.New(svc, log, console.Options{PublicURL: cfg.PublicURL, Proxies: cfg.TrustedProxies, Catalogue: i18n.MustLoad()}).Register(h.mux)
	healthz, readyz := api.Health(svc.Ready, log)
	h.mux.HandleFunc("GET /healthz", healthz)
	h.mux.HandleFunc("GET /readyz", readyz)
	if !separateMetrics {
		h.mux.Handle("GET /metrics", h.metrics)
	}
	h.root = api.RequestLog(log, cfg.TrustedProxies, metrics.Middleware(log, h.mux))
	return h
}
