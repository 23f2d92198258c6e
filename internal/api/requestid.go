package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/accesslog"
	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/roster"
)

// Request ids and the access log. Every answer carries X-Request-Id: the
// one a trusted proxy sent (clientip decides whom to trust), else a new one.
// The id rides on the request's context (roster.WithRequestID), so the core
// writes it into audit events and RequestIDLogHandler into every log line
// logged with that context.

const requestIDHeader = "X-Request-Id"

// newRequestID is 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// acceptableRequestID: a forwarded id is kept when it is short and plain
// (letters, digits and - _ . : /), so it is safe in headers, logs and the
// audit table.
func acceptableRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '/'
		if !ok {
			return false
		}
	}
	return true
}

// withRequestID gives r its request id, once: an id already on the context
// (an outer RequestLog) is kept.
func withRequestID(w http.ResponseWriter, r *http.Request, proxies *clientip.Proxies) *http.Request {
	if id := roster.RequestID(r.Context()); id != "" {
		return r
	}
	id := r.Header.Get(requestIDHeader)
	if !proxies.FromTrusted(r) || !acceptableRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set(requestIDHeader, id)
	return r.WithContext(roster.WithRequestID(r.Context(), id))
}

// RequestLog gives every request its id (X-Request-Id, from a trusted proxy
// in proxies or new) and writes one access log line per request: method,
// route pattern, status, duration, tenant and actor (noted by whichever
// door authenticated the request: accesslog.NoteActor), at level Info. It
// wraps every door, so the API's, the console's and SCIM's lines are alike.
func RequestLog(log *slog.Logger, proxies *clientip.Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outer := r
		r = withRequestID(w, r, proxies)
		ctx, entry := accesslog.With(r.Context())
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			route := r.Pattern // set by ServeMux on the request it routed
			// The request handed on is a copy (it carries the id): tell the
			// route to whoever wraps this (the metrics middleware) too.
			outer.Pattern = route
			if route == "" {
				route = "unmatched"
			}
			attrs := []slog.Attr{slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)}
			if entry.Actor != "" {
				attrs = append(attrs, slog.Int64("tenant", entry.Tenant), slog.String("actor", entry.Actor))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// RequestIDLogHandler adds request_id to every record logged with a context
// that carries one (log.InfoContext(ctx, ...)).
func RequestIDLogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := roster.RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
