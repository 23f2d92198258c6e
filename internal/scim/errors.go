package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// scimError is an RFC 7644 §3.12 error: an HTTP status, a scimType for the
// 400s and 409s that have one, and a detail naming the attribute.
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func errInvalidSyntax(detail string) error {
	return &scimError{status: http.StatusBadRequest, scimType: "invalidSyntax", detail: detail}
}

func errInvalidValue(format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: "invalidValue", detail: fmt.Sprintf(format, args...)}
}

func errInvalidFilter(format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: "invalidFilter", detail: fmt.Sprintf(format, args...)}
}

func errInvalidPath(format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: "invalidPath", detail: fmt.Sprintf(format, args...)}
}

func errNoTarget(format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: "noTarget", detail: fmt.Sprintf(format, args...)}
}

func errMutability(format string, args ...any) error {
	return &scimError{status: http.StatusBadRequest, scimType: "mutability", detail: fmt.Sprintf(format, args...)}
}

func errNotFound(detail string) error {
	return &scimError{status: http.StatusNotFound, detail: detail}
}

// fieldNames maps the core's field names to SCIM attribute paths, so that a
// detail names what the client sent.
var fieldNames = map[string]string{
	"username":        "userName",
	"name":            "name.formatted",
	"email":           "emails[type eq \"work\"].value",
	"mobile":          "phoneNumbers[type eq \"mobile\"].value",
	"language":        "preferredLanguage",
	"group_id":        SchemaRoster + ":homeGroup",
	"roles":           SchemaRoster + ":roles",
	"agent_number":    SchemaRoster + ":agentNumber",
	"nicknames":       SchemaRoster + ":nicknames",
	"ring_to":         SchemaRoster + ":ringTo",
	"scoring_enabled": SchemaRoster + ":scoringEnabled",
	"roaming":         SchemaRoster + ":roaming",
	"group_access":    SchemaRoster + ":groupAccess",
	"agent_ids":       SchemaRoster + ":agentIds",
}

// fromCore turns a core error into a SCIM error.
func fromCore(err error, fieldMap map[string]string) *scimError {
	var se *scimError
	if errors.As(err, &se) {
		return se
	}
	var broad *roster.TooBroadError
	if errors.As(err, &broad) {
		return &scimError{status: http.StatusBadRequest, scimType: "tooMany", detail: broad.Detail}
	}
	msg := roster.ErrorMessage(err)
	var parts []string
	for _, f := range roster.ErrorFields(err) {
		name := f.Field
		if n, ok := fieldMap[f.Field]; ok {
			name = n
		}
		parts = append(parts, name+": "+f.Message)
	}
	if len(parts) > 0 {
		msg = strings.Join(parts, "; ")
	}
	switch roster.ErrorCode(err) {
	case roster.EInvalid:
		if fs := roster.ErrorFields(err); len(fs) == 1 && fs[0].Field == "filter" {
			return &scimError{status: http.StatusBadRequest, scimType: "invalidFilter", detail: msg}
		}
		return &scimError{status: http.StatusBadRequest, scimType: "invalidValue", detail: msg}
	case roster.ENotFound:
		return &scimError{status: http.StatusNotFound, detail: msg}
	case roster.EConflict:
		if len(roster.ErrorFields(err)) > 0 { // a taken username, email or agent number
			return &scimError{status: http.StatusConflict, scimType: "uniqueness", detail: msg}
		}
		return &scimError{status: http.StatusConflict, detail: msg}
	case roster.EUnauthorized:
		return &scimError{status: http.StatusUnauthorized, detail: msg}
	case roster.EForbidden:
		return &scimError{status: http.StatusForbidden, detail: msg}
	case roster.ELimited:
		return &scimError{status: http.StatusTooManyRequests, detail: msg}
	case roster.EStale: // changed since the If-Match's version was read
		return &scimError{status: http.StatusPreconditionFailed, detail: msg}
	}
	return &scimError{status: http.StatusInternalServerError, detail: "internal error"}
}

// fail answers err; internal errors are logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	se := fromCore(err, fieldNames)
	if se.status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, se)
}

func writeError(w http.ResponseWriter, err error) {
	se := fromCore(err, fieldNames)
	if se.status == http.StatusTooManyRequests || se.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60")
	}
	body := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(se.status), "detail": se.detail}
	if se.scimType != "" {
		body["scimType"] = se.scimType
	}
	writeJSON(w, se.status, body)
}
