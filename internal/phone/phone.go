// Package phone turns telephone numbers typed by people into E.164, checked
// against the numbering plans of libphonenumber's metadata
// (github.com/nyaruka/phonenumbers).
package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// The errors say why input is not a usable number; their text is shown next
// to the field, so each reads after the field's name ("mobile is empty").
var (
	ErrEmpty       = errors.New("is empty")
	ErrCharacters  = errors.New("may contain only digits, spaces, dashes, dots, slashes, parentheses and a leading + or 00")
	ErrNoCountry   = errors.New("needs the country code, written as +CC or 00CC (for example +49 170 1234567)")
	ErrCountryCode = errors.New("does not start with an assigned country code")
	ErrTooShort    = errors.New("is too short for a number")
	ErrTooLong     = errors.New("is too long for a number")
	ErrInvalid     = errors.New("is not a number in the numbering plan")
	ErrNotMobile   = errors.New("is not a mobile number")
)

// planError names the country code whose plan refused the number.
type planError struct {
	err     error
	country int32
}

func (e planError) Error() string { return fmt.Sprintf("%s of +%d", e.err, e.country) }
func (e planError) Unwrap() error { return e.err }

// maxDigits bounds the parser's input: E.164 has at most 15 digits, and a
// trunk prefix, the 00 and typing slips leave room for a few more.
const maxDigits = 20

// Normalize returns s as an E.164 number ("+" and digits) if it is a valid
// number of any kind in its country's numbering plan. It accepts the forms
// people type: "+49 170 123 4567", "0049-170-1234567", "+44 (0)20 7946 0958"
// (the national trunk prefix after the country code is dropped).
func Normalize(s string) (string, error) {
	n, err := parse(s)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NormalizeMobile is Normalize for numbers that must receive SMS: the plan
// must say the number is a mobile one, or one that may be (in the USA and
// Canada the two cannot be told apart).
func NormalizeMobile(s string) (string, error) {
	n, err := parse(s)
	if err != nil {
		return "", err
	}
	switch t := phonenumbers.GetNumberType(n); t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return phonenumbers.Format(n, phonenumbers.E164), nil
	default:
		return "", fmt.Errorf("%w: the numbering plan of +%d makes it %s, which cannot receive text messages",
			ErrNotMobile, n.GetCountryCode(), typeName(t))
	}
}

func parse(s string) (*phonenumbers.PhoneNumber, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrEmpty
	}
	// libphonenumber would read letters as a keypad and cut extensions
	// off; neither belongs in a stored number, so only these characters pass.
	var digits strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		default:
			return nil, ErrCharacters
		}
	}
	d := digits.String()
	switch {
	case s[0] == '+':
	case strings.HasPrefix(d, "00"):
		// 00 is the international prefix of most of the world; without a
		// country to dial from, nothing else can be read as one.
		d = d[2:]
	default:
		return nil, ErrNoCountry
	}
	if d == "" || d[0] == '0' {
		return nil, ErrCountryCode
	}
	if len(d) > maxDigits {
		return nil, ErrTooLong
	}
	// The separators are dropped before parsing, so "(0)" reaches
	// libphonenumber as the trunk prefix it strips.
	n, err := phonenumbers.Parse("+"+d, "ZZ")
	if err != nil {
		if errors.Is(err, phonenumbers.ErrInvalidCountryCode) {
			return nil, ErrCountryCode
		}
		return nil, ErrTooShort
	}
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return nil, ErrCountryCode
	case phonenumbers.TOO_SHORT:
		return nil, planError{ErrTooShort, n.GetCountryCode()}
	case phonenumbers.TOO_LONG:
		return nil, planError{ErrTooLong, n.GetCountryCode()}
	}
	if !phonenumbers.IsValidNumber(n) {
		return nil, planError{ErrInvalid, n.GetCountryCode()}
	}
	// Some plans (Germany's) allow more digits than E.164's 15.
	if len(phonenumbers.Format(n, phonenumbers.E164)) > 1+15 {
		return nil, planError{ErrTooLong, n.GetCountryCode()}
	}
	return n, nil
}

func typeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "a fixed-line number"
	case phonenumbers.TOLL_FREE:
		return "a toll-free number"
	case phonenumbers.PREMIUM_RATE:
		return "a premium-rate number"
	case phonenumbers.SHARED_COST:
		return "a shared-cost number"
	case phonenumbers.VOIP:
		return "a VoIP number"
	case phonenumbers.PERSONAL_NUMBER:
		return "a personal (forwarding) number"
	case phonenumbers.PAGER:
		return "a pager number"
	case phonenumbers.UAN:
		return "a company (universal access) number"
	case phonenumbers.VOICEMAIL:
		return "a voicemail access number"
	}
	return "a number of unknown kind"
}
