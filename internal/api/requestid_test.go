package api

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// lockedBuffer is a log sink the server's goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A request id from a trusted proxy is kept, anyone else's replaced; it is
// on the answer, the access log line and the audit event of the request.
func TestRequestIDAndAccessLog(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		var logs lockedBuffer
		log := slog.New(RequestIDLogHandler(slog.NewJSONHandler(&logs, nil)))
		svc := roster.NewService(testdb.SQLite(t), roster.Options{Logger: log})
		proxies, _ := clientip.Parse("")
		if trusted {
			proxies, _ = clientip.Parse("127.0.0.1")
		}
		mux := http.NewServeMux()
		New(svc, log, Options{Proxies: proxies}).Register(mux)
		srv := httptest.NewServer(RequestLog(log, proxies, mux))
		t.Cleanup(srv.Close)
		tn, err := svc.CreateTenant(context.Background(), "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		tok, secret, err := svc.CreateToken(context.Background(), roster.SystemActor(tn.ID), roster.TokenInput{Name: "admin", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}

		resp, body := exchange(t, "POST", srv.URL+"/api/v1/groups", secret, map[string]any{"name": "Team", "parent_id": 1}, "X-Request-Id", "lb-4711")
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != 201 || (trusted && id != "lb-4711") || (!trusted && (id == "lb-4711" || len(id) != 32)) {
			t.Fatalf("trusted %v: %d %s with X-Request-Id %q", trusted, resp.StatusCode, body, id)
		}
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/api/v1/groups/") {
			t.Fatalf("201 without the group's Location: %q", loc)
		}
		var access map[string]any
		for _, l := range logs.lines() {
			if l["msg"] == "request" && l["request_id"] == id {
				access = l
			}
		}
		want := map[string]any{"method": "POST", "route": "POST /api/v1/groups", "status": 201.0, "tenant": float64(tn.ID), "actor": "token:" + itoa(tok.ID)}
		for k, v := range want {
			if access[k] != v {
				t.Errorf("trusted %v: access log %s = %v, want %v (line %v)", trusted, k, access[k], v, access)
			}
		}
		if _, ok := access["duration_ms"]; !ok {
			t.Errorf("access log without duration: %v", access)
		}
		_, body = exchange(t, "GET", srv.URL+"/api/v1/audit?action=group.create&actor=token:"+itoa(tok.ID), secret, nil)
		var audit roster.Page[roster.AuditEvent]
		if json.Unmarshal(body, &audit) != nil || len(audit.Items) != 1 || audit.Items[0].RequestID != id {
			t.Fatalf("audit event without the request id %q: %s", id, body)
		}
		// An id that is not plain text is never taken, even from a proxy.
		resp, _ = exchange(t, "GET", srv.URL+"/api/v1/groups", secret, nil, "X-Request-Id", "bad id\u00e9")
		if got := resp.Header.Get("X-Request-Id"); len(got) != 32 {
			t.Errorf("a malformed forwarded id was kept: %q", got)
		}
	}
}

// Log lines written with the request's context carry its id.
func TestRequestIDInLogLines(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(RequestIDLogHandler(slog.NewJSONHandler(&logs, nil))).With("component", "x")
	log.InfoContext(roster.WithRequestID(context.Background(), "r-1"), "something")
	if l := logs.lines(); len(l) != 1 || l[0]["request_id"] != "r-1" || l[0]["component"] != "x" {
		t.Fatalf("log line = %v", l)
	}
}

// A known path with a method it does not take answers 405 with Allow; an
// unknown path 404, both problem+json.
func TestMethodNotAllowed(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	New(roster.NewService(testdb.SQLite(t), roster.Options{Logger: log}), log).Register(mux)
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", "/api/v1/users", "GET, HEAD, POST"},
		{"POST", "/api/v1/users/7", "GET, HEAD, PATCH, DELETE"},
		{"GET", "/api/v1/authz/check", "POST"},
		{"PATCH", "/api/v1/sessions/current", "GET, HEAD, DELETE"},
		{"GET", "/api/v1/no-such-thing", ""},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		want := http.StatusMethodNotAllowed
		if c.allow == "" {
			want = http.StatusNotFound
		}
		var p Problem
		if rec.Code != want || rec.Header().Get("Allow") != c.allow || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
			rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d Allow %q %s; want %d Allow %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"), rec.Body, want, c.allow)
		}
	}
}

// The metrics see the route whichever of the two middlewares is outside.
func TestRequestLogKeepsTheRouteForMetrics(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	New(roster.NewService(testdb.SQLite(t), roster.Options{Logger: log}), log).Register(mux)
	for name, wrap := range map[string]func(m *Metrics) http.Handler{
		"metrics outside": func(m *Metrics) http.Handler { return m.Middleware(log, RequestLog(log, nil, mux)) },
		"metrics inside":  func(m *Metrics) http.Handler { return RequestLog(log, nil, m.Middleware(log, mux)) },
	} {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg)
		wrap(m).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/groups", nil))
		rec := httptest.NewRecorder()
		MetricsHandler(reg, log).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `roster_http_requests_total{code="401",route="GET /api/v1/groups"}`) {
			t.Errorf("%s: metrics without the route:\n%s", name, rec.Body)
		}
	}
}
