package roster

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes. Front doors map them to their own status codes in one place
// (door.StatusOf), so the core never speaks HTTP.
const (
	EInvalid      = "invalid"      // bad input; nothing was changed
	ENotFound     = "not_found"    // no such thing in the caller's tenant
	EConflict     = "conflict"     // a uniqueness rule or a state forbids it
	EUnauthorized = "unauthorized" // no valid credentials
	EForbidden    = "forbidden"    // credentials valid, permission missing
	EGone         = "gone"         // it existed but is over for good (an expired invitation link)
	ELimited      = "rate_limited" // too many attempts; try again later
	ETooLarge     = "too_large"    // the request is larger than its endpoint takes
	EUnavailable  = "unavailable"  // the database cannot be reached now; nothing was changed, try again
	EStale        = "stale"        // the resource changed since the caller read it (IfVersion); nothing was changed
	EReused       = "reused"       // an idempotency key sent again with another request
	EInternal     = "internal"     // a bug or an outage; details are logged, never shown
)

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Key and Args are Message before it was filled in: the format is the
	// message's stable key, so a front door can say it in the reader's
	// language (the console's catalogue) without the core knowing words.
	Key  string `json:"-"`
	Args []any  `json:"-"`
}

// Error is the core's error: a code, a message safe to show to the caller and,
// for invalid input, one entry per offending field.
type Error struct {
	Code string
	// Reason is a stable machine-readable name of this refusal within its
	// code (ReasonUsernameTaken, ...), for callers that act on it; empty:
	// the code says all (front doors fall back to the code).
	Reason  string
	Message string
	// Key and Args are Message as a format and its arguments (FieldError).
	Key    string
	Args   []any
	Fields []FieldError
	// RetryAfter is how long the caller should wait before trying again
	// (ELimited, EUnavailable); zero: the code's default (RetryAfter).
	RetryAfter time.Duration
	// Cause is the underlying error of an outage, for the log only: it may
	// name hosts, users and databases, so front doors never show it.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil { // for the log: the code and what the driver said
		return e.Code + ": " + e.Cause.Error()
	}
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Unwrap returns the cause of an outage, so errors.Is sees through it.
func (e *Error) Unwrap() error { return e.Cause }

// Unavailable is the error of a database that cannot be reached: the
// message is safe to show, the cause goes to the log.
func Unavailable(cause error) *Error {
	return &Error{Code: EUnavailable, Message: UnavailableMessage, Cause: cause}
}

// UnavailableMessage is what callers are told during an outage.
const UnavailableMessage = "Roster cannot reach its database right now; try again in a minute"

// Defaults of RetryAfter when the error does not say.
const (
	retryUnavailable = 30 * time.Second
	retryLimited     = 60 * time.Second
)

// RetryAfter is how long the caller of a refused request should wait before
// trying again, rounded up to whole seconds: the error's own RetryAfter, else
// the default of its code; zero when trying again will not help.
func RetryAfter(err error) time.Duration {
	var e *Error
	if !errors.As(err, &e) {
		return 0
	}
	d := e.RetryAfter
	if d <= 0 {
		switch e.Code {
		case EUnavailable:
			d = retryUnavailable
		case ELimited:
			d = retryLimited
		default:
			return 0
		}
	}
	return ((d + time.Second - 1) / time.Second) * time.Second
}

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Key: format, Args: args}
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

// ErrorReason returns the stable reason of err, or its code when it names none.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Reason != "" {
		return e.Reason
	}
	return ErrorCode(err)
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

// Validation collects field errors; Err returns nil when there are none.
// It keeps the first maxFieldErrors problems and counts the rest, so an
// answer stays small however many bad items a request holds.
type Validation struct {
	fields  []FieldError
	dropped int
}

// Add records a problem with field.
func (v *Validation) Add(field, format string, args ...any) {
	v.add(FieldError{Field: field, Message: fmt.Sprintf(format, args...), Key: format, Args: args})
}

func (v *Validation) add(f FieldError) {
	if len(v.fields) >= maxFieldErrors {
		v.dropped++
		return
	}
	v.fields = append(v.fields, f)
}

// Merge adds the field errors of err under prefix (e.g. "invitations[2].").
func (v *Validation) Merge(prefix string, err error) {
	for _, f := range ErrorFields(err) {
		v.add(FieldError{Field: prefix + f.Field, Message: f.Message, Key: f.Key, Args: f.Args})
	}
}

// OK reports whether no problem was recorded.
func (v *Validation) OK() bool { return len(v.fields) == 0 }

// Err returns an EInvalid error listing every field problem, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	if v.dropped > 0 {
		format := "the input is not valid (%d more problems not listed)"
		return &Error{Code: EInvalid, Message: fmt.Sprintf(format, v.dropped), Key: format, Args: []any{v.dropped}, Fields: v.fields}
	}
	return &Error{Code: EInvalid, Message: "the input is not valid", Key: "the input is not valid", Fields: v.fields}
}

// conflictField is a conflict on one field (a duplicate), which front doors
// render like a field error but with the conflict status.
func conflictField(reason, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EConflict, Reason: reason, Message: msg, Key: format, Args: args,
		Fields: []FieldError{{Field: field, Message: msg, Key: format, Args: args}}}
}

// forbiddenBy is a refusal for want of rights, named by reason.
func forbiddenBy(reason, format string, args ...any) error {
	return &Error{Code: EForbidden, Reason: reason, Message: fmt.Sprintf(format, args...), Key: format, Args: args}
}

// conflict is a refusal because of the current state, named by reason.
func conflict(reason, format string, args ...any) error {
	return &Error{Code: EConflict, Reason: reason, Message: fmt.Sprintf(format, args...), Key: format, Args: args}
}
