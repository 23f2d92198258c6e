// Package api is the REST front door: it parses requests, calls the core
// (internal/roster) and renders JSON or problem+json. No rule lives here.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/roster"
)

//go:embed openapi.json
var openAPIDocument []byte

// Server serves /api/v1.
type Server struct {
	svc     *roster.Service
	log     *slog.Logger
	proxies *clientip.Proxies
}

// Options configure the REST front door.
type Options struct {
	// Proxies are the reverse proxies whose X-Forwarded-For, Forwarded and
	// X-Forwarded-Proto are believed; nil trusts nobody.
	Proxies *clientip.Proxies
}

// New returns the REST front door over svc, configured by the first of opts
// (none: the defaults).
func New(svc *roster.Service, log *slog.Logger, opts ...Options) *Server {
	s := &Server{svc: svc, log: log}
	if len(opts) > 0 {
		s.proxies = opts[0].Proxies
	}
	return s
}

// handlerFunc is an endpoint that runs for an authenticated actor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a *roster.Actor)

// route is one entry of the route table; the OpenAPI test walks the same table.
type route struct {
	method, path string
	h            handlerFunc
}

// Routes lists every authenticated endpoint as "METHOD /path".
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

func (s *Server) routes() []route {
	var all []route
	all = append(all, s.directoryRoutes()...)
	all = append(all, s.lifecycleRoutes()...)
	all = append(all, s.agentsRoutes()...)
	all = append(all, s.contactCentreRoutes()...)
	all = append(all, s.tenantRoutes()...)
	all = append(all, s.ssoRoutes()...)
	return all
}

func (s *Server) directoryRoutes() []route {
	return []route{
		{"GET", "/api/v1/users", s.listUsers},
		{"POST", "/api/v1/users", s.createUser},
		{"GET", "/api/v1/users/{id}", s.getUser},
		{"PATCH", "/api/v1/users/{id}", s.updateUser},
		{"DELETE", "/api/v1/users/{id}", s.deleteUser},
		{"POST", "/api/v1/users/{id}/deactivate", s.deactivateUser},
		{"POST", "/api/v1/users/{id}/reactivate", s.reactivateUser},
		{"GET", "/api/v1/agent-numbers", s.agentNumbers},
		{"GET", "/api/v1/stats", s.stats},

		{"GET", "/api/v1/groups", s.listGroups},
		{"POST", "/api/v1/groups", s.createGroup},
		{"GET", "/api/v1/groups/{id}", s.getGroup},
		{"PATCH", "/api/v1/groups/{id}", s.updateGroup},
		{"DELETE", "/api/v1/groups/{id}", s.deleteGroup},

		{"GET", "/api/v1/roles", s.listRoles},
		{"POST", "/api/v1/roles", s.createRole},
		{"PATCH", "/api/v1/roles/{id}", s.updateRole},
		{"DELETE", "/api/v1/roles/{id}", s.deleteRole},
		{"GET", "/api/v1/permissions", s.permissions},
		{"GET", "/api/v1/tokens", s.listTokens},
		{"POST", "/api/v1/tokens", s.createToken},
		{"GET", "/api/v1/tokens/{id}", s.getToken},
		{"DELETE", "/api/v1/tokens/{id}", s.revokeToken},

		{"GET", "/api/v1/audit", s.listAudit},
	}
}

// Register adds the API's routes to mux, each behind apiHeaders.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		pattern := rt.method + " " + rt.path
		mux.Handle(pattern, apiHeaders(s.limitBody(bodyLimit(pattern), s.authenticated(rt.h)))) // body.go
	}
	s.registerLifecycle(mux) // public: sign-in and -out, codes, invitation links
	s.registerSSO(mux)       // public: sign-in buttons, the round trip through the IdP
	mux.Handle("GET /api/v1/openapi.json", apiHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})))
	// Anything else under /api/ is a JSON 404, not the console's HTML.
	mux.Handle("/api/", apiHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
	})))
}

// apiHeaders marks every API answer: it holds personal data or secrets, so
// nothing may keep it (Cache-Control: no-store), and its declared content
// type is the only one (nosniff).
func apiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// authenticated resolves the bearer token, or the session cookie, into an actor.
func (s *Server) authenticated(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if token := sessionToken(r); auth == "" && token != "" {
			s.withSession(w, r, token, h) // the console's cookie (lifecycle.go)
			return
		}
		secret, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
			s.problem(w, r, http.StatusUnauthorized, "sign in or send an API token as Authorization: Bearer TOKEN", nil)
			return
		}
		authenticate := s.svc.AuthenticateToken
		if roster.IsImpersonationSecret(secret) {
			authenticate = s.svc.AuthenticateImpersonation // "view as" (agents.go)
		}
		a, err := authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if roster.ErrorCode(err) == roster.EUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="roster", error="invalid_token"`)
			}
			s.error(w, r, err)
			return
		}
		a.IP = s.clientIP(r)
		a.UserAgent = r.UserAgent()
		h(w, r, a)
	})
}

// clientIP is the address of the client: the TCP peer, or behind a trusted
// proxy the address it forwarded (internal/clientip).
func (s *Server) clientIP(r *http.Request) string { return s.proxies.ClientIP(r) }

// statusOf maps the core's error codes to HTTP statuses, in one place.
func statusOf(code string) int {
	switch code {
	case roster.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case roster.EInvalid:
		return http.StatusBadRequest
	case roster.ENotFound:
		return http.StatusNotFound
	case roster.EConflict:
		return http.StatusConflict
	case roster.EUnauthorized:
		return http.StatusUnauthorized
	case roster.EForbidden:
		return http.StatusForbidden
	case roster.EGone:
		return http.StatusGone
	case roster.ELimited:
		return http.StatusTooManyRequests
	case roster.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// error renders err as problem+json, with Retry-After when waiting helps
// (429, 503). Internal errors and outages are logged and shown only as
// "internal error" and the outage message: their details may name hosts,
// users and databases.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := roster.ErrorCode(err)
	status := statusOf(code)
	switch status {
	case http.StatusInternalServerError:
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case http.StatusServiceUnavailable:
		s.log.Warn("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if d := roster.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)))
	}
	s.problem(w, r, status, roster.ErrorMessage(err), roster.ErrorFields(err))
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []roster.FieldError `json:"errors,omitempty"`
}

func (s *Server) problem(w http.ResponseWriter, _ *http.Request, status int, detail string, fields []roster.FieldError) {
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
	if len(fields) > 0 {
		p.Type = "https://roster.dev/problems/invalid-input"
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func bodyError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return roster.Errorf(roster.EInvalid, "the request body is empty; send a JSON object")
	case errors.As(err, &syn):
		return roster.Errorf(roster.EInvalid, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &roster.Error{Code: roster.EInvalid, Message: "the input is not valid",
			Fields: []roster.FieldError{{Field: field, Message: "must be " + jsonKind(typ.Type.String())}}}
	case errors.As(err, &tooBig):
		return tooLarge(tooBig.Limit) // body.go
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &roster.Error{Code: roster.EInvalid, Message: "the input is not valid",
			Fields: []roster.FieldError{{Field: field, Message: "is not a known field"}}}
	}
	return roster.Errorf(roster.EInvalid, "the body could not be read: %v", err)
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "int"):
		return "a whole number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	}
	return "of type " + goType
}

// pathID reads {id}. A malformed id is simply an id that does not exist.
func pathID(r *http.Request, kind string) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, roster.Errorf(roster.ENotFound, "no %s with id %q", kind, v)
	}
	return id, nil
}

// withID wraps a handler that needs {id}.
func (s *Server) withID(kind string, w http.ResponseWriter, r *http.Request, fn func(id int64) error) {
	id, err := pathID(r, kind)
	if err == nil {
		err = fn(id)
	}
	if err != nil {
		s.error(w, r, err)
	}
}

// Health serves /healthz and /readyz. /readyz tells its (anonymous) callers
// only "not ready" and logs why: the reason may name the database's host,
// user and name.
func Health(ready func(ctx context.Context) error, log *slog.Logger) (healthz, readyz http.HandlerFunc) {
	plain := func(w http.ResponseWriter) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
	}
	healthz = func(w http.ResponseWriter, _ *http.Request) {
		plain(w)
		fmt.Fprintln(w, "ok")
	}
	readyz = func(w http.ResponseWriter, r *http.Request) {
		plain(w)
		if err := ready(r.Context()); err != nil {
			log.Warn("not ready", "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(roster.RetryAfter(roster.Unavailable(err))/time.Second)))
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	}
	return healthz, readyz
}
