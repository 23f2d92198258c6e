package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"+4917012345678", "+4917012345678", nil},
		{"+49 170 1234 5678", "+4917012345678", nil},
		{"0049 170 12345678", "+4917012345678", nil},
		{"0049-(170)-1234.5678", "+4917012345678", nil},
		{"  +44 20 7946 0958 ", "+442079460958", nil},
		{"+358 40 1234567", "+358401234567", nil},
		{"+1 (202) 555-0143", "+12025550143", nil},
		{"+1\u00a0650/253/0000", "+16502530000", nil},
		// The national trunk prefix, written or bracketed after the country code.
		{"+44 (0)20 7946 0958", "+442079460958", nil},
		{"+44 020 7946 0958", "+442079460958", nil},
		{"0044 (0) 20 7946 0958", "+442079460958", nil},
		{"+33 06 12 34 56 78", "+33612345678", nil},
		{"+49 (0)30 1234567", "+49301234567", nil},
		// Italy keeps its leading 0 in international form.
		{"+39 06 6982 0000", "+390669820000", nil},
		// Fixed lines, toll-free and premium numbers are valid numbers.
		{"+49 30 1234567", "+49301234567", nil},
		{"+1 800 555 0199", "+18005550199", nil},
		{"+49 900 1234567", "+499001234567", nil},
		{"+800 1234 5678", "+80012345678", nil},

		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"0170 1234567", "", ErrNoCountry},
		{"1701234567", "", ErrNoCountry},
		{"+49 170 CALL ME", "", ErrCharacters},
		{"+1 800 FLOWERS", "", ErrCharacters},
		{"+44 20 7946 0958 ext. 12", "", ErrCharacters},
		{"49+1701234567", "", ErrCharacters},
		{"++491701234567", "", ErrCharacters},
		{"+", "", ErrCountryCode},
		{"00", "", ErrCountryCode},
		{"+0491701234567", "", ErrCountryCode},
		{"000491701234567", "", ErrCountryCode},
		{"+999 1234567", "", ErrCountryCode},
		{"+28 1234567", "", ErrCountryCode},
		{"+44 9 0", "", ErrTooShort},
		{"+4917012345678901234", "", ErrTooLong},
		{"+49170123456789012345678", "", ErrTooLong},
		{"+4921000000000000", "", ErrTooLong}, // valid in Germany's plan, but 16 digits

		// Valid-looking lengths that the plan does not know.
		{"+1 123 456 7890", "", ErrInvalid}, // no area code starts with 1
		{"+1 (555) 010-9999", "", ErrInvalid},
		{"+44 12345", "", ErrInvalid},
		{"+49 1234", "", ErrInvalid},
		{"+44 7700 900123", "", ErrInvalid}, // Ofcom's drama range is not allocated
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("Normalize(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeMobile(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
		says string // part of the message
	}{
		{"+49 170 1234567", "+491701234567", nil, ""},
		{"0049 170 5550001", "+491705550001", nil, ""},
		{"+33 06 12 34 56 78", "+33612345678", nil, ""},
		{"+44 7911 123456", "+447911123456", nil, ""},
		{"+39 312 345 6789", "+393123456789", nil, ""},
		{"+81 90 1234 5678", "+819012345678", nil, ""},
		// Fixed-line-or-mobile: in the USA the plan cannot tell, so it passes.
		{"+1 202 555 0143", "+12025550143", nil, ""},

		{"+44 (0)20 7946 0958", "", ErrNotMobile, "the numbering plan of +44 makes it a fixed-line number"},
		{"+49 30 1234567", "", ErrNotMobile, "fixed-line"},
		{"+1 800 555 0199", "", ErrNotMobile, "toll-free"},
		{"+49 900 1234567", "", ErrNotMobile, "premium-rate"},
		{"+800 1234 5678", "", ErrNotMobile, "toll-free"},
		// Invalid numbers say why before the kind is looked at.
		{"+44 12345", "", ErrInvalid, "numbering plan of +44"},
		{"+999 1234567", "", ErrCountryCode, "country code"},
		{"0170 1234567", "", ErrNoCountry, "+CC"},
	}
	for _, tt := range tests {
		got, err := NormalizeMobile(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("NormalizeMobile(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tt.says) {
			t.Errorf("NormalizeMobile(%q) says %q, want it to mention %q", tt.in, err, tt.says)
		}
		if got != tt.want {
			t.Errorf("NormalizeMobile(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+4917012345678", "0049 170", "+1 (202) 555-0143", "+44 (0)20 7946 0958",
		"+33 06 12 34 56 78", "abc", "++", "00", "+", "+800 1234 5678", "+39 06 6982 0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		mobile, mobileErr := NormalizeMobile(s)
		if err != nil {
			if got != "" || mobile != "" || mobileErr == nil {
				t.Fatalf("Normalize(%q) failed (%v) but gave %q, mobile %q, %v", s, err, got, mobile, mobileErr)
			}
			return
		}
		if mobileErr == nil && mobile != got {
			t.Fatalf("NormalizeMobile(%q) = %q, Normalize = %q", s, mobile, got)
		}
		if !strings.HasPrefix(got, "+") || len(got) < 4 || len(got) > 16 {
			t.Fatalf("Normalize(%q) = %q: not E.164", s, got)
		}
		for _, r := range got[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("Normalize(%q) = %q: non-digit", s, got)
			}
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
