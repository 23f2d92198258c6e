package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestEveryAnswerIsUncacheable: every API route, the public ones and the
// catch-all included, answers with Cache-Control: no-store and nosniff,
// and carries a request id, whatever its status.
func TestEveryAnswerIsUncacheable(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	srv := api.New(roster.NewService(testdb.SQLite(t), roster.Options{Logger: log}), log)
	mux := http.NewServeMux()
	srv.Register(mux)
	paths := append(srv.Routes(), "GET /api/v1/openapi.json", "GET /api/v1/no-such-thing",
		"POST /api/v1/sessions", "POST /api/v1/password/forgot", "POST /api/v1/invitations/accept")
	for _, route := range paths {
		method, path, _ := strings.Cut(route, " ")
		path = strings.ReplaceAll(path, "{id}", "1")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		h := rec.Header()
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" || len(h.Get("X-Request-Id")) != 32 {
			t.Errorf("%s: %d with headers %v; want Cache-Control: no-store, nosniff and an X-Request-Id", route, rec.Code, h)
		}
	}
}

// TestReadyzSaysNothingMore: a failing readiness check answers 503 "not
// ready" with Retry-After, and gives the reason only to the log.
func TestReadyzSaysNothingMore(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	reason := errors.New("failed to connect to `user=postgres database=roster`")
	var fail error
	_, readyz := api.Health(func(context.Context) error { return fail }, log)

	rec := httptest.NewRecorder()
	readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || rec.Body.String() != "ready\n" {
		t.Fatalf("ready: %d %q", rec.Code, rec.Body)
	}
	fail = reason
	rec = httptest.NewRecorder()
	readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 || rec.Body.String() != "not ready\n" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("not ready: %d %q %v; want 503 \"not ready\" with Retry-After", rec.Code, rec.Body, rec.Header())
	}
	if !strings.Contains(logged.String(), "database=roster") {
		t.Fatalf("the reason was not logged: %q", logged.String())
	}
}
