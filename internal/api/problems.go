package api

import "net/http"

// problemTypeBase prefixes every problem type; the types are documented in
// docs/api.md and openapi.json (components/schemas/Problem).
const problemTypeBase = "https://roster.dev/problems/"

// problemKind is the kind of problem an answer's status stands for: one type
// per kind, so a client can tell a conflict from invalid input without
// reading the status.
func problemKind(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid-input"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusGone:
		return "gone"
	case http.StatusPreconditionFailed:
		return "stale"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnprocessableEntity:
		return "idempotency-key-reused" // the only 422
	case http.StatusTooManyRequests:
		return "too-many-requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}
