package roster_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// A complete email address or mobile number (any typed form) finds its user
// exactly; anything else is the substring search as before.
func TestSearchExactTerms(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "exact")
		mk := func(username, name, email, mobile string) {
			in := f.userInput(username)
			in.Name = roster.Some(name)
			in.Email = roster.Some(email)
			if email == "" {
				in.Email = roster.Opt[string]{}
			}
			if mobile != "" {
				in.Mobile = roster.Some(mobile)
			}
			_, err := f.svc.CreateUser(f.ctx, f.admin, in)
			must(t, err)
		}
		mk("julia.h7", "Julia Hoffmann", "julia.h7@example.com", "+4915112345678")
		mk("julia.h71", "Julia Hahn", "julia.h71@example.com", "")
		mk("ajulia.h7", "Anna Julia", "", "+4915212345678")
		// Another tenant's user with the same email is never found.
		other := newFixture(t, db, "exact-other")
		oin := other.userInput("julia.h7")
		oin.Email = roster.Some("julia.h7@example.com")
		_, err := other.svc.CreateUser(other.ctx, other.admin, oin)
		must(t, err)

		for _, tc := range []struct {
			q    string
			want []string // usernames, in name order
		}{
			{"julia.h7@example.com", []string{"julia.h7"}},
			{"JULIA.H7@Example.com", []string{"julia.h7"}},
			{"julia.h7", []string{"ajulia.h7", "julia.h71", "julia.h7"}}, // a username is a substring search: every one containing it
			{"Julia.H71", []string{"julia.h71"}},                         // case-insensitively
			{"+4915112345678", []string{"julia.h7"}},                     // E.164 as stored
			{"+49 151 12345678", []string{"julia.h7"}},                   // typed forms of the same number
			{"0049 151 1234 5678", []string{"julia.h7"}},
			{"+49 (151) 123-45678", []string{"julia.h7"}},
			{"julia.h", []string{"ajulia.h7", "julia.h71", "julia.h7"}}, // no exact match: substring
			{"h7@example", []string{"julia.h7"}},                        // not a complete address: substring
			{"nobody@example.com", nil},
			{"+49 151 99999999", nil},                       // a valid number nobody has: substring, none
			{"12345678", []string{"ajulia.h7", "julia.h7"}}, // digits alone are no number: substring of the mobiles
		} {
			p, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{Q: tc.q})
			must(t, err)
			var got []string
			for _, u := range p.Items {
				got = append(got, u.Username)
			}
			if len(got) != len(tc.want) || p.Total != len(tc.want) {
				t.Errorf("q=%q: got %v (total %d), want %v", tc.q, got, p.Total, tc.want)
				continue
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("q=%q: got %v, want %v", tc.q, got, tc.want)
					break
				}
			}
		}
		// The other filters still apply to an exact match.
		p, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{Q: "julia.h7", Status: roster.StatusDeactivated})
		must(t, err)
		if p.Total != 0 || len(p.Items) != 0 {
			t.Errorf("exact match under status=deactivated: %d users, total %d", len(p.Items), p.Total)
		}
	})
}
