package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// Request body limits. The limit is a property of the route: bodyLimits
// names the routes that take more or less than defaultBodyLimit, by their
// pattern in the route table. A body past its route's limit is answered with
// 413 before it is read (by its Content-Length) or as soon as reading passes
// the limit; the core's own bounds hold within it.
const (
	defaultBodyLimit = 64 << 10 // a user, group, role, property, profile, plan ...
	smallBodyLimit   = 16 << 10 // a few fields: sign-in, codes, passwords, tokens, decisions
	batchBodyLimit   = 1 << 20  // an invitation batch of up to 500 rows
	ingestBodyLimit  = 16 << 20 // an interaction batch of up to 10,000 rows
)

var bodyLimits = map[string]int64{
	"POST /api/v1/invitations":        batchBodyLimit,
	"POST /api/v1/interactions/batch": ingestBodyLimit,
	"POST /api/v1/users/import":       importBodyLimit,
	"POST /api/v1/users/bulk":         batchBodyLimit, // up to roster.MaxBulkUsers ids

	"POST /api/v1/sessions":               smallBodyLimit,
	"POST /api/v1/sessions/second-factor": smallBodyLimit,
	"DELETE /api/v1/sessions/current":     smallBodyLimit,
	"POST /api/v1/password/forgot":        smallBodyLimit,
	"POST /api/v1/password/reset":         smallBodyLimit,
	"POST /api/v1/password/change":        smallBodyLimit,
	"POST /api/v1/invitations/accept":     smallBodyLimit,
	"POST /api/v1/invitations/inspect":    smallBodyLimit,
	"POST /api/v1/tokens":                 smallBodyLimit,
	"POST /api/v1/authz/check":            smallBodyLimit,
	"POST /api/v1/impersonation":          smallBodyLimit,
}

// bodyLimit is the body limit of the route with pattern "METHOD /path".
func bodyLimit(pattern string) int64 {
	if n, ok := bodyLimits[pattern]; ok {
		return n
	}
	return defaultBodyLimit
}

// BodyLimit is the body limit of a route, for tests and documentation.
func BodyLimit(pattern string) int64 { return bodyLimit(pattern) }

// limitBody refuses a body larger than limit: at once when its length is
// announced, else when reading passes the limit (decode turns that into the
// same answer). Nothing else runs first, not even authentication, so an
// oversized request costs no database work.
func (s *Server) limitBody(limit int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close") // the rest of the body is not read
			s.error(w, r, tooLarge(limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

func tooLarge(limit int64) error {
	return roster.Errorf(roster.ETooLarge, "the request body is larger than this endpoint takes (at most %s)", sizeLabel(limit))
}

// sizeLabel writes a limit the way the documentation does: 64 KiB, 1 MiB.
func sizeLabel(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors that name what is wrong. The body is limited by its route
// (limitBody).
func decode(_ http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if tooBig, ok := err.(*http.MaxBytesError); ok {
			return tooLarge(tooBig.Limit)
		}
		return roster.Errorf(roster.EInvalid, "the body must hold exactly one JSON value")
	}
	return nil
}
