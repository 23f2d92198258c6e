package roster_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/phone"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// FuzzUserSearch feeds arbitrary search text to the user list on SQLite: the
// text reaches an FTS5 MATCH or a LIKE pattern, and no input may turn into a
// query error or match a user whose fields do not contain it (or, for a phone number,
// whose mobile number is not it).
func FuzzUserSearch(f *testing.F) {
	for _, s := range []string{"anna", `"`, `""`, "a*", "NEAR(a b)", "a OR b", "%", "_", `\`, "ann'a", "(", "-x", "^a", "ä", "a\x00b", "  "} {
		f.Add(s)
	}
	db := testdb.SQLite(f)
	fx := newFixture(f, db, "fuzz")
	for _, name := range []string{"anna", "bert", "carla"} {
		if _, err := fx.svc.CreateUser(fx.ctx, fx.admin, fx.userInput(name)); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := fx.svc.ListUsers(fx.ctx, fx.admin, roster.UserQuery{Q: q})
		if err != nil {
			if roster.ErrorCode(err) == roster.EInternal {
				t.Fatalf("search %q: %v", q, err)
			}
			return
		}
		needle := strings.ToLower(strings.TrimSpace(q))
		for _, u := range p.Items {
			hay := strings.ToLower(u.Name + " " + u.Username + " " + u.Email + " " + u.Mobile)
			// A phone number in another typed form finds its user exactly.
			if n, err := phone.NormalizeMobile(strings.TrimSpace(q)); err == nil && n == u.Mobile {
				continue
			}
			if !strings.Contains(hay, needle) {
				t.Fatalf("search %q matched %q", q, hay)
			}
		}
	})
}
