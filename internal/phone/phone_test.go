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
		{"+1 (555) 010-9999", "+15550109999", nil},
		{"  +44 20 7946 0958 ", "+442079460958", nil},
		{"+358 40 1234567", "+358401234567", nil},
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"0170 1234567", "", ErrNoCountry},
		{"1701234567", "", ErrNoCountry},
		{"+49 170 CALL ME", "", ErrCharacters},
		{"49+1701234567", "", ErrCharacters},
		{"++491701234567", "", errDoubleLeader},
		{"+49 12", "", ErrLength},
		{"+4917012345678901234", "", ErrLength},
		{"+0491701234567", "", ErrCountryCode},
		{"000491701234567", "", ErrCountryCode},
		{"+28 1234567", "+281234567", nil}, // zone 2 three-digit block
		{"+35 1234567", "+351234567", nil}, // 35x: three-digit block (+351 is Portugal)
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

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+4917012345678", "0049 170", "+1 (555) 010-9999", "abc", "++", "00", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			if got != "" {
				t.Fatalf("error with a result %q", got)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || len(got) < 8 || len(got) > 16 {
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
