package roster

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes. Front doors map them to their own status codes in one place
// (api.statusOf), so the core never speaks HTTP.
const (
	EInvalid      = "invalid"      // bad input; nothing was changed
	ENotFound     = "not_found"    // no such thing in the caller's tenant
	EConflict     = "conflict"     // a uniqueness rule or a state forbids it
	EUnauthorized = "unauthorized" // no valid credentials
	EForbidden    = "forbidden"    // credentials valid, permission missing
	EGone         = "gone"         // it existed but is over for good (an expired invitation link)
	ELimited      = "rate_limited" // too many attempts; try again later
	EInternal     = "internal"     // a bug or an outage; details are logged, never shown
)

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the core's error: a code, a message safe to show to the caller and,
// for invalid input, one entry per offending field.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// RetryAfter is how long a throttled caller should wait (ELimited).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EInternal for anything that is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the caller-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the per-field errors of err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// RetryAfterSeconds is how many whole seconds the caller should wait before
// trying again (0: not said), for the Retry-After header.
func RetryAfterSeconds(err error) int {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return int((e.RetryAfter + time.Second - 1) / time.Second)
	}
	return 0
}

// Validation collects field errors; Err returns nil when there are none.
type Validation struct {
	fields []FieldError
}

// Add records a problem with field.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Merge adds the field errors of err under prefix (e.g. "invitations[2].").
func (v *Validation) Merge(prefix string, err error) {
	for _, f := range ErrorFields(err) {
		v.fields = append(v.fields, FieldError{Field: prefix + f.Field, Message: f.Message})
	}
}

// OK reports whether no problem was recorded.
func (v *Validation) OK() bool { return len(v.fields) == 0 }

// Err returns an EInvalid error listing every field problem, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Message: "the input is not valid", Fields: v.fields}
}

// conflictField is a conflict on one field (a duplicate), which front doors
// render like a field error but with the conflict status.
func conflictField(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EConflict, Message: msg, Fields: []FieldError{{Field: field, Message: msg}}}
}
