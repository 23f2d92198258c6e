package auth

import (
	_ "embed"
	"strconv"
	"strings"
	"unicode/utf8"
)

//go:embed common-passwords.txt
var commonPasswordList string

// MaxPasswordLength bounds what is hashed, so a huge input cannot tie up a
// CPU. NIST asks for at least 64; pass phrases fit comfortably.
const MaxPasswordLength = 256

// Policy is the password rule of a tenant.
type Policy struct {
	MinLength int
	common    map[string]bool
}

// NewPolicy returns the policy with the given minimum length (in characters)
// and the embedded list of common passwords.
func NewPolicy(minLength int) *Policy {
	if minLength < 1 {
		minLength = 1
	}
	return &Policy{MinLength: minLength, common: commonPasswords()}
}

func commonPasswords() map[string]bool {
	m := make(map[string]bool, 1024)
	for _, line := range strings.Split(commonPasswordList, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}

// IsCommon reports whether pw is on the list of common passwords.
func (p *Policy) IsCommon(pw string) bool { return p.common[strings.ToLower(pw)] }

// Check returns why pw is not acceptable, or "" when it is. personal are
// words the password must not equal (username, email, name).
func (p *Policy) Check(pw string, personal ...string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return "must be valid text"
	case n < p.MinLength:
		return "must be at least " + strconv.Itoa(p.MinLength) + " characters long"
	case len(pw) > MaxPasswordLength:
		return "must be at most " + strconv.Itoa(MaxPasswordLength) + " bytes long"
	case strings.TrimSpace(pw) == "":
		return "must not be only spaces"
	case p.IsCommon(pw):
		return "is one of the most common passwords; choose another"
	}
	lower := strings.ToLower(pw)
	for _, w := range personal {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if lower == w {
			return "must not be your username, name or email address"
		}
		if local, _, ok := strings.Cut(w, "@"); ok && local != "" && lower == local {
			return "must not be your username, name or email address"
		}
	}
	return ""
}
