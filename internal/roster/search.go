package roster

import (
	"net/mail"
	"strings"

	"github.com/roster-dev/roster/internal/phone"
)

// exactTerm reads a search term as a complete email address or mobile
// number, the values a person pastes to find one user. Such terms are
// looked up in the unique indexes first (docs/rules.md):
// as a substring search, every trigram of an address's domain is in most of
// the tenant's rows, so the trigram index would read them all.
func exactTerm(q string) ExactTerm {
	var t ExactTerm
	if len(q) < 3 {
		return t // one or two characters match the start of the name
	}
	// A username is not looked up exactly: numbered usernames (julia.h7,
	// julia.h71) are common, and q is a substring search by contract.
	if lower := strings.ToLower(q); strings.Contains(lower, "@") && len(lower) <= MaxEmailLen {
		if addr, err := mail.ParseAddress(lower); err == nil && addr.Address == lower {
			t.Email = lower
		}
	}
	// Only what could be a phone number is given to the (slower) parser.
	if strings.IndexFunc(q, func(r rune) bool { return !strings.ContainsRune("+0123456789 ()-./", r) }) < 0 &&
		strings.ContainsAny(q, "0123456789") {
		if n, err := phone.NormalizeMobile(q); err == nil {
			t.Mobile = n
		}
	}
	return t
}
