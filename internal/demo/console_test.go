package demo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/demo"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// The demo prints how to sign in to the console, and those sign-ins work:
// an admin, a team leader and an agent, each with the pages of their role.
func TestDemoSignIns(t *testing.T) {
	ctx := context.Background()
	svc := roster.NewService(testdb.SQLite(t), roster.Options{})
	info, err := demo.Load(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	howto := info.HowTo("http://127.0.0.1:8080")
	for username, perm := range map[string]string{"alex.admin": roster.PermUsersManage, "tara.lead": roster.PermTeamView, "anna.agent": roster.PermSelfView} {
		if !strings.Contains(howto, username) {
			t.Errorf("the demo's instructions do not name %s:\n%s", username, howto)
		}
		in, err := svc.SignIn(ctx, roster.SignInInput{Tenant: demo.Slug, Login: username, Password: demo.Password, IP: "127.0.0.1"})
		if err != nil {
			t.Fatalf("sign in as %s: %v", username, err)
		}
		a, _, err := svc.AuthenticateSession(ctx, in.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Can(perm) {
			t.Errorf("%s cannot %s", username, perm)
		}
	}
	if !strings.Contains(howto, demo.Password) {
		t.Errorf("the instructions do not give the password:\n%s", howto)
	}
}
