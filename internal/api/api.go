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
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

//go:embed openapi.json
var openAPIDocument []byte

// Server serves /api/v1.
type Server struct {
	svc *roster.Service
	log *slog.Logger
}

// New returns the REST front door over svc.
func New(svc *roster.Service, log *slog.Logger) *Server {
	return &Server{svc: svc, log: log}
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
		{"POST", "/api/v1/tokens", s.createToken},

		{"GET", "/api/v1/audit", s.listAudit},
	}
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.authenticated(rt.h))
	}
	s.registerLifecycle(mux) // public: sign-in and -out, codes, invitation links
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	// Anything else under /api/ is a JSON 404, not the console's HTML.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
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
		a.IP = clientIP(r)
		a.UserAgent = r.UserAgent()
		h(w, r, a)
	})
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusOf maps the core's error codes to HTTP statuses, in one place.
func statusOf(code string) int {
	switch code {
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
	}
	return http.StatusInternalServerError
}

// error renders err as problem+json. Internal errors are logged and shown
// only as "internal error".
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := roster.ErrorCode(err)
	status := statusOf(code)
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if secs := roster.RetryAfterSeconds(err); secs > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
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

// maxBody bounds request bodies; bulk endpoints raise it.
const maxBody = 1 << 20

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors that name what is wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return roster.Errorf(roster.EInvalid, "the body must hold exactly one JSON value")
	}
	return nil
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
		return roster.Errorf(roster.EInvalid, "the body is larger than %d bytes", tooBig.Limit)
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

// Health serves /healthz and /readyz.
func Health(ready func(ctx context.Context) error) (healthz, readyz http.HandlerFunc) {
	healthz = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	}
	readyz = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if err := ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	}
	return healthz, readyz
}
