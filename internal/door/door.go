// Package door holds what every HTTP front door (the REST API, the console,
// SCIM) does the same way: the HTTP status of a core error code and the
// {id} of a path. It knows HTTP and the core's error codes, no rule.
package door

import (
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/roster"
)

// StatusOf maps the core's error codes to HTTP statuses.
func StatusOf(code string) int {
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
	case roster.EStale:
		return http.StatusPreconditionFailed
	case roster.EReused:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// PathID reads {id}. A malformed id is simply an id that does not exist.
func PathID(r *http.Request, kind string) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, roster.Errorf(roster.ENotFound, "no %s with id %q", kind, v)
	}
	return id, nil
}
