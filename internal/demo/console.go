package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Password is the password of the demo's sign-in users, printed at start.
const Password = "roster-demo-2026"

// logins are the demo users who can sign in to the console: one for each
// kind of page (administration, My Team, an agent's own page).
var logins = []struct{ username, role string }{
	{"alex.admin", "an admin"},
	{"tara.lead", "a team leader"},
	{"anna.agent", "an agent"},
}

// createUser creates a demo person. The sign-in users are invited and accept
// at once, which gives them their password the way a real person gets one.
func createUser(ctx context.Context, svc *roster.Service, sys *roster.Actor, in roster.UserInput) (*roster.User, error) {
	for _, l := range logins {
		if in.Username.V != l.username {
			continue
		}
		links, err := svc.InviteUsers(ctx, sys, []roster.UserInput{in})
		if err != nil {
			return nil, err
		}
		token := links[0].URL[strings.LastIndex(links[0].URL, "/")+1:]
		return svc.AcceptInvitation(ctx, token, Password, "", "roster demo")
	}
	return svc.CreateUser(ctx, sys, in)
}

// signInHowTo says how to sign in to the console as each kind of user.
func signInHowTo(baseURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Console: %s/signin with organisation %q and password %q, as\n", baseURL, Slug, Password)
	for _, l := range logins {
		fmt.Fprintf(&b, "  %-14s %s\n", l.role+":", l.username)
	}
	return b.String()
}
