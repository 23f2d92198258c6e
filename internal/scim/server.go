// Package scim is Roster's SCIM 2.0 front door (RFC 7643, RFC 7644) at
// /scim/v2: identity providers such as Okta and Microsoft Entra ID create,
// update, deactivate and group users with the API's bearer tokens. Handlers
// parse, call the core (internal/roster), render; every rule lives there.
package scim

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/accesslog"
	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/roster"
)

// Base is where the SCIM service is mounted.
const Base = "/scim/v2"

// Schema URNs.
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaRoster     = "urn:roster:params:scim:schemas:extension:roster:2.0:User"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaSearch     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	schemaSPConfig   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResType    = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// maxBody bounds a request body; a SCIM write carries one resource.
const maxBody = 1 << 20

// Server serves SCIM over the core.
type Server struct {
	svc     *roster.Service
	log     *slog.Logger
	proxies *clientip.Proxies
}

// Options configure the SCIM front door.
type Options struct {
	// Proxies are the reverse proxies whose forwarded client address is
	// believed (the audit's IP); nil trusts nobody.
	Proxies *clientip.Proxies
}

// New returns the SCIM front door.
func New(svc *roster.Service, log *slog.Logger, opts Options) *Server {
	return &Server{svc: svc, log: log, proxies: opts.Proxies}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, a *roster.Actor)

// queryFunc answers a list request whose parameters are read already.
type queryFunc func(w http.ResponseWriter, r *http.Request, a *roster.Actor, p listParams)

// fromQuery answers GET of a list: its parameters are in the query string.
func fromQuery(query queryFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
		p, err := paramsFromQuery(r)
		if err != nil {
			writeError(w, err)
			return
		}
		query(w, r, a, p)
	}
}

// fromSearch answers POST .../.search: the parameters are in the body
// (RFC 7644 §3.4.3).
func fromSearch(query queryFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
		body, err := readBody(r)
		if err != nil {
			writeError(w, err)
			return
		}
		p, err := paramsFromSearch(body)
		if err != nil {
			writeError(w, err)
			return
		}
		query(w, r, a, p)
	}
}

// route is one entry of the route table.
type route struct {
	pattern string
	h       handlerFunc
}

// routes is the one route table of the SCIM door.
func (s *Server) routes() []route {
	return []route{
		{"GET /ServiceProviderConfig", s.serviceProviderConfig},
		{"GET /ResourceTypes", s.resourceTypes},
		{"GET /ResourceTypes/{id}", s.resourceType},
		{"GET /Schemas", s.schemas},
		{"GET /Schemas/{id}", s.schema},

		{"GET /Users", fromQuery(s.queryUsers)},
		{"POST /Users/.search", fromSearch(s.queryUsers)},
		{"POST /Users", s.createUser},
		{"GET /Users/{id}", s.getUser},
		{"PUT /Users/{id}", s.replaceUser},
		{"PATCH /Users/{id}", s.patchUser},
		{"DELETE /Users/{id}", s.deleteUser},

		{"GET /Groups", fromQuery(s.queryGroups)},
		{"POST /Groups/.search", fromSearch(s.queryGroups)},
		{"POST /Groups", s.createGroup},
		{"GET /Groups/{id}", s.getGroup},
		{"PUT /Groups/{id}", s.replaceGroup},
		{"PATCH /Groups/{id}", s.patchGroup},
		{"DELETE /Groups/{id}", s.deleteGroup},

		{"POST /Bulk", s.bulk}, // not supported: 501 (RFC 7644 §3.7)
	}
}

// Register mounts the routes under Base on mux. Each path dispatches on the
// method itself, so that a method it does not have answers 405 with Allow
// and a SCIM error body.
func (s *Server) Register(mux *http.ServeMux) {
	byPath := map[string]map[string]http.Handler{}
	var paths []string
	for _, rt := range s.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if byPath[path] == nil {
			byPath[path] = map[string]http.Handler{}
			paths = append(paths, path)
		}
		byPath[path][method] = s.authenticated(rt.h)
	}
	for _, path := range paths {
		methods := byPath[path]
		var allow []string
		for m := range methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		mux.Handle(Base+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h, ok := methods[r.Method]; ok {
				// The mux matched the path alone; name the route as the
				// other doors do ("GET /scim/v2/Users"), for the access
				// log and the metrics.
				r.Pattern = r.Method + " " + r.Pattern
				h.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, &scimError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not allowed here; use " + strings.Join(allow, ", ")})
		}))
	}
	mux.Handle(Base+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFound("no such endpoint: "+r.Method+" "+r.URL.Path))
	}))
}

// authenticated turns the bearer token into an actor. SCIM takes API tokens
// only (never the console's cookie), so it needs no cross-origin checks; a
// token without users.manage may not provision at all.
func (s *Server) authenticated(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" { // the scheme is case-insensitive (RFC 9110 §11.1)
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
			writeError(w, &scimError{status: http.StatusUnauthorized, detail: "send an API token as Authorization: Bearer TOKEN"})
			return
		}
		a, err := s.svc.AuthenticateToken(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if roster.ErrorCode(err) == roster.EUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim", error="invalid_token"`)
			}
			s.fail(w, r, err)
			return
		}
		if !a.Can(roster.PermUsersManage) {
			writeError(w, &scimError{status: http.StatusForbidden, detail: `SCIM provisioning needs a token whose role holds the permission "users.manage"`})
			return
		}
		a.IP = s.proxies.ClientIP(r)
		a.UserAgent = r.UserAgent()
		accesslog.NoteActor(r.Context(), a)
		h(w, r, a)
	})
}

// writeProjected answers a resource as application/scim+json, the
// attributes of it that p asks for; the ETag and Location are those of the
// whole resource.
func writeProjected(w http.ResponseWriter, status int, doc map[string]any, p listParams) {
	resourceHeaders(w, status, doc)
	writeJSON(w, status, project(doc, p.attributes, p.excluded))
}

func resourceHeaders(w http.ResponseWriter, status int, doc map[string]any) {
	if meta, ok := doc["meta"].(map[string]any); ok {
		if v, ok := meta["version"].(string); ok {
			w.Header().Set("ETag", v)
		}
		if loc, ok := meta["location"].(string); ok && status == http.StatusCreated {
			w.Header().Set("Location", loc)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// listResponse is RFC 7644 §3.4.2's answer to a query.
func listResponse(total, startIndex int, items []map[string]any) map[string]any {
	if items == nil {
		items = []map[string]any{}
	}
	return map[string]any{
		"schemas":      []string{schemaList},
		"totalResults": total,
		"startIndex":   startIndex,
		"itemsPerPage": len(items),
		"Resources":    items,
	}
}

// readBody reads a JSON body (application/scim+json or application/json)
// into a generic document, bounded in size.
func readBody(r *http.Request) (map[string]any, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "" && ct != "application/scim+json" && ct != "application/json" {
		return nil, &scimError{status: http.StatusUnsupportedMediaType, detail: "send application/scim+json or application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &scimError{status: http.StatusRequestEntityTooLarge, detail: "the request body is larger than 1 MiB"}
	}
	if err != nil {
		return nil, errInvalidSyntax("the request body could not be read")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, errInvalidSyntax("the request body is not a JSON object")
	}
	if dec.More() {
		return nil, errInvalidSyntax("the request body holds more than one JSON value")
	}
	return doc, nil
}
