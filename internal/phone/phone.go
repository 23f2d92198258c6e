// Package phone normalises telephone numbers typed by people to E.164.
package phone

import (
	"errors"
	"strings"
)

// ErrNotANumber explains why input is not an international phone number.
var (
	ErrEmpty        = errors.New("is empty")
	ErrCharacters   = errors.New("may contain only digits, spaces, dashes, dots, parentheses and a leading + or 00")
	ErrNoCountry    = errors.New("needs the country code, written as +CC or 00CC (for example +4917012345678)")
	ErrLength       = errors.New("must have between 7 and 15 digits including the country code")
	ErrCountryCode  = errors.New("does not start with a valid country code")
	errDoubleLeader = errors.New("has more than one + sign")
)

// twoDigitCodes are the ITU country codes of two digits; anything else in
// those ranges (and 0) is not a country code.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true,
	"90": true, "91": true, "92": true, "93": true, "94": true, "95": true, "98": true,
}

// Normalize returns s in E.164 form (+ and digits). It accepts the forms
// people type: "+49 170 123 4567", "0049-170-1234567", "+1 (555) 010-9999".
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmpty
	}
	var digits strings.Builder
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+':
			if plus {
				return "", errDoubleLeader
			}
			if i != 0 {
				return "", ErrCharacters
			}
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		default:
			return "", ErrCharacters
		}
	}
	d := digits.String()
	if !plus {
		if !strings.HasPrefix(d, "00") {
			return "", ErrNoCountry
		}
		d = d[2:]
	}
	if len(d) < 7 || len(d) > 15 {
		return "", ErrLength
	}
	if !validCountryPrefix(d) {
		return "", ErrCountryCode
	}
	return "+" + d, nil
}

func validCountryPrefix(d string) bool {
	switch d[0] {
	case '0':
		return false
	case '1', '7':
		return true
	}
	if twoDigitCodes[d[:2]] {
		return true
	}
	// Three-digit codes: every code of zone 2 to 9 whose first two digits are
	// not a two-digit code. Spare codes in those blocks are let through; the
	// cost of a list that goes stale is higher than of a rare unassigned code.
	return d[0] >= '2'
}
