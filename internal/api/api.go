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

	"github.com/roster-dev/roster/internal/accesslog"
	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/door"
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
	if _, ok := log.Handler().(requestIDHandler); !ok {
		log = slog.New(RequestIDLogHandler(log.Handler())) // request ids in every line
	}
	s := &Server{svc: svc, log: log}
	if len(opts) > 0 {
		s.proxies = opts[0].Proxies
	}
	return s
}

// apiHeaders marks every API answer: it holds personal data or secrets, so
// nothing may keep it (Cache-Control: no-store), and its declared content
// type is the only one (nosniff). It carries X-Request-Id.
func (s *Server) apiHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, withRequestID(w, r, s.proxies))
	})
}

// authenticated resolves the bearer token, or the session cookie, into an actor.
func (s *Server) authenticated(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if token := sessionToken(r); auth == "" && token != "" {
			s.withSession(w, r, token, h) // the console's cookie
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
			authenticate = s.svc.AuthenticateImpersonation // "view as"
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
		accesslog.NoteActor(r.Context(), a)
		h(w, r, a)
	})
}

// clientIP is the address of the client: the TCP peer, or behind a trusted
// proxy the address it forwarded (internal/clientip).
func (s *Server) clientIP(r *http.Request) string { return s.proxies.ClientIP(r) }

// error renders err as problem+json, with Retry-After when waiting helps
// (429, 503). Internal errors and outages are logged and shown only as
// "internal error" and the outage message: their details may name hosts,
// users and databases.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := roster.ErrorCode(err)
	status := door.StatusOf(code)
	switch status {
	case http.StatusInternalServerError:
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case http.StatusServiceUnavailable:
		s.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if d := roster.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)))
	}
	reason := roster.ErrorReason(err)
	if status == http.StatusInternalServerError {
		reason = "internal"
	}
	s.problemCode(w, r, status, reason, roster.ErrorMessage(err), roster.ErrorFields(err))
}

// Problem is an RFC 9457 problem document. Type names the kind of problem
// (problemTypes), Code the refusal within it, stably (roster.Reason*).
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Code   string              `json:"code"`
	Detail string              `json:"detail"`
	Errors []roster.FieldError `json:"errors,omitempty"`
}

func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, detail string, fields []roster.FieldError) {
	s.problemCode(w, r, status, "", detail, fields)
}

// problemCode renders a problem; an empty code is the one of its status.
func (s *Server) problemCode(w http.ResponseWriter, _ *http.Request, status int, code, detail string, fields []roster.FieldError) {
	kind := problemKind(status)
	if code == "" {
		code = strings.ReplaceAll(kind, "-", "_")
	}
	p := Problem{Type: problemTypeBase + kind, Title: http.StatusText(status), Status: status, Code: code, Detail: detail, Errors: fields}
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
		return tooLarge(tooBig.Limit)
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

// withID wraps a handler that needs {id}.
func (s *Server) withID(kind string, w http.ResponseWriter, r *http.Request, fn func(id int64) error) {
	id, err := door.PathID(r, kind)
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
