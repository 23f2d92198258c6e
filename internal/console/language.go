package console

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/i18n"
	"github.com/roster-dev/roster/internal/roster"
)

// localizerFor picks the words of a request: the language given (a signed-in
// user's, an invitation's), else the browser's Accept-Language, matched
// against the shipped languages (i18n.Catalogue.Match).
func (s *Server) localizerFor(r *http.Request, lang string) *i18n.Localizer {
	return s.cat.For(s.cat.Match(lang, r.Header.Get("Accept-Language")))
}

// errorMessage is the core's message about a whole request in l's
// language: the core names it by its format (roster.Error.Key) and
// arguments; a format the catalogue does not hold is shown in English.
func errorMessage(l *i18n.Localizer, err error) string {
	var e *roster.Error
	if !errors.As(err, &e) {
		return l.T("Something went wrong.")
	}
	if e.Key == "" {
		return sentence(e.Message)
	}
	return sentence(l.Printf(e.Key, e.Args...))
}

// fieldMessage is one field's complaint in l's language.
func fieldMessage(l *i18n.Localizer, f roster.FieldError) string {
	if f.Key == "" {
		return f.Message
	}
	return l.Printf(f.Key, f.Args...)
}

// sentence starts a message shown on its own with a capital letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// statusLabel is a status as a person says it ("In progress", not
// in_progress).
func statusLabel(l *i18n.Localizer, status string) string {
	switch status {
	case roster.StatusActive:
		return l.T("Active")
	case roster.StatusInvited:
		return l.T("Invited")
	case roster.StatusDeactivated:
		return l.T("Deactivated")
	case roster.InvitationPending:
		return l.T("Pending")
	case roster.InvitationAccepted:
		return l.T("Accepted")
	case roster.InvitationCancelled:
		return l.T("Cancelled")
	case roster.InvitationExpired:
		return l.T("Expired")
	case roster.OutboxSent:
		return l.T("Sent")
	case roster.OutboxFailed:
		return l.T("Failed")
	case roster.OutboxLogged:
		return l.T("Logged")
	case roster.PlanOpen:
		return l.T("Open")
	case roster.PlanInProgress:
		return l.T("In progress")
	case roster.PlanDone:
		return l.T("Done")
	}
	return sentence(strings.ReplaceAll(status, "_", " "))
}

// msg marks a message ID kept in a table, translated where it is shown
// (the catalogue tests find the IDs by this mark).
func msg(id string) string { return id }
