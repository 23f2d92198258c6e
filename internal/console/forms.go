package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Form size limits. The limit is a property of the route: formLimits names
// the routes that take more than defaultFormLimit, by their pattern. A form
// past its route's limit is refused with 413 before it is parsed; the core's
// own bounds hold within it.
const (
	defaultFormLimit = 64 << 10 // a user, group, role, property, profile, plan ...
	inviteFormLimit  = 1 << 20  // several invitation rows
)

var formLimits = map[string]int64{
	"POST /invite":       inviteFormLimit,
	"POST /users/import": importFormLimit,
}

func formLimit(pattern string) int64 {
	if n, ok := formLimits[pattern]; ok {
		return n
	}
	return defaultFormLimit
}

// limitForm bounds the body of a posted form before anything reads it;
// a body announced larger than the limit is refused without reading it.
func limitForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.Method != http.MethodPost {
		return nil
	}
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close") // the rest of the body is not read
		return formTooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return nil
}

// parseForm parses a limited form body, telling an oversized one apart.
func parseForm(r *http.Request) error {
	err := r.ParseForm()
	if err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// A file upload: its fields, the CSRF token among them,
		// are in the multipart body; files past 8 MiB wait on disk.
		err = r.ParseMultipartForm(8 << 20)
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return formTooLarge(tooBig.Limit)
	}
	return roster.Errorf(roster.EInvalid, "the form could not be read")
}

func formTooLarge(limit int64) error {
	return roster.Errorf(roster.ETooLarge, "the form is larger than this page takes (at most %d KiB); send fewer rows at once", limit>>10)
}
