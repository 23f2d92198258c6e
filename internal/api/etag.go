package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// ETags. A single resource's ETag is "VERSION-DIGEST": VERSION is the
// resource's version (roster.Version: the millisecond of its last change),
// DIGEST a hash of the answer's bytes, so inherited values that change the
// answer without changing the resource also change the ETag. If-None-Match
// on a GET compares the whole ETag (304 when it matches); If-Match on a
// change compares the VERSION, inside the core's transaction (412 when
// someone else changed the resource since).

// versionOf is the version of a single resource the API answers with.
func versionOf(v any) (int64, bool) {
	switch x := v.(type) {
	case *roster.User:
		return roster.Version(x.UpdatedAt), true
	case *roster.Group:
		return roster.Version(x.UpdatedAt), true
	case *roster.GroupDetails:
		return roster.Version(x.UpdatedAt), true
	case *roster.Role:
		return roster.Version(x.UpdatedAt), true
	case *roster.Property:
		return roster.Version(x.UpdatedAt), true
	case *roster.Skill:
		return roster.Version(x.UpdatedAt), true
	case *roster.Profile:
		return roster.Version(x.UpdatedAt), true
	case *roster.CoachingPlan:
		return roster.Version(x.UpdatedAt), true
	case *roster.Invitation:
		return roster.Version(x.UpdatedAt), true
	case *roster.Webhook:
		return roster.Version(x.UpdatedAt), true
	case webhookWithSecret:
		return roster.Version(x.UpdatedAt), true
	case *roster.APIToken:
		if x.RevokedAt != nil {
			return roster.Version(*x.RevokedAt), true
		}
		return roster.Version(x.CreatedAt), true
	}
	return 0, false
}

// locationOf is the URL of a single resource, for the Location of a 201.
func locationOf(v any) string {
	id := func(prefix string, n int64) string { return "/api/v1/" + prefix + "/" + strconv.FormatInt(n, 10) }
	switch x := v.(type) {
	case *roster.User:
		return id("users", x.ID)
	case *roster.Group:
		return id("groups", x.ID)
	case *roster.Role:
		return id("roles", x.ID)
	case *roster.Property:
		return "/api/v1/properties/" + url.PathEscape(x.Key)
	case *roster.Skill:
		return id("skills", x.ID)
	case *roster.Profile:
		return id("profiles", x.ID)
	case *roster.CoachingPlan:
		return id("coaching-plans", x.ID)
	case *roster.Invitation:
		return id("invitations", x.ID)
	case *roster.APIToken:
		return id("tokens", x.ID)
	case *roster.Webhook:
		return id("webhooks", x.ID)
	case webhookWithSecret:
		return id("webhooks", x.ID)
	}
	return ""
}

// etag is the ETag of an answer with body about a resource at version.
func etag(version int64, body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + strconv.FormatInt(version, 10) + "-" + hex.EncodeToString(sum[:6]) + `"`
}

// resource renders one resource with its ETag; a GET whose If-None-Match
// names that ETag is answered 304 without a body.
func (s *Server) resource(w http.ResponseWriter, r *http.Request, status int, v any) {
	version, ok := versionOf(v)
	if !ok {
		writeJSON(w, status, v)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		s.error(w, r, err)
		return
	}
	tag := etag(version, body)
	w.Header().Set("ETag", tag)
	if loc := locationOf(v); status == http.StatusCreated && loc != "" && w.Header().Get("Location") == "" {
		w.Header().Set("Location", loc)
	}
	if r.Method == http.MethodGet && noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// noneMatch reports whether an If-None-Match header names tag (weak
// comparison, RFC 9110 13.1.2) or is "*".
func noneMatch(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// ifMatch passes the version named by an If-Match header on to the core
// (roster.IfVersion), which checks it inside the change's transaction. "*"
// and no header ask for nothing. A weak ETag (a proxy that compressed the
// answer may have weakened it) names the same version. Anything else, or
// more than one ETag, cannot match and is answered 412 at once.
func (s *Server) ifMatch(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := strings.TrimSpace(r.Header.Get("If-Match"))
		if header == "" || header == "*" {
			h.ServeHTTP(w, r)
			return
		}
		version, ok := parseETagVersion(header)
		if !ok {
			s.error(w, r, &roster.Error{Code: roster.EStale, Reason: roster.ReasonStale,
				Message: "If-Match must be one ETag this API gave (\"VERSION-DIGEST\"), or *"})
			return
		}
		h.ServeHTTP(w, r.WithContext(roster.IfVersion(r.Context(), version)))
	})
}

// parseETagVersion reads VERSION from "VERSION-DIGEST" or W/"VERSION-DIGEST".
func parseETagVersion(tag string) (int64, bool) {
	tag = strings.TrimPrefix(tag, "W/")
	inner, ok := strings.CutPrefix(tag, `"`)
	if !ok {
		return 0, false
	}
	inner, ok = strings.CutSuffix(inner, `"`)
	if !ok {
		return 0, false
	}
	v, _, _ := strings.Cut(inner, "-")
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// takesIfMatch: the routes that change or delete one resource.
func takesIfMatch(method, path string) bool {
	switch method {
	case http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		return strings.Contains(path, "{")
	}
	return false
}
