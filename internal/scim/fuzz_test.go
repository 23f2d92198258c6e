package scim_test

import (
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/roster-dev/roster/internal/testdb"
)

// FuzzUserFilter sends arbitrary filters through the whole path (parser,
// translation, SQL) on both databases with the same users: every answer is
// 200 or a 400 SCIM error (never a 500, so no filter makes invalid SQL),
// and both dialects answer alike.
func FuzzUserFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "u01"`, `userName co "0"`, `emails[type eq "work" and value ew ".org"]`, `not (externalId pr)`,
		`meta.created gt "2020-01-01T00:00:00Z" or active eq false`, `displayName sw "Person 1" and id ne "3"`,
		`phoneNumbers[type eq "mobile"]`, `urn:roster:params:scim:schemas:extension:roster:2.0:User:roles eq "user"`,
		`userName co "%_\"`, `externalId ew "-0"`, `emails.primary eq true`, `userName gt "u05"`, `userName eq "ü"`,
		`(userName eq "a" or (userName eq "b" and not (active eq true)))`, `id gt 3`, `groups.value eq "1"`,
	} {
		f.Add(s)
	}
	lite := newEnv(f, testdb.SQLite(f))
	var pg *env
	if os.Getenv("ROSTER_TEST_SKIP_POSTGRES") != "1" {
		pg = newEnv(f, testdb.Postgres(f))
	}
	seeded := false
	f.Fuzz(func(t *testing.T, text string) {
		envs := []*env{lite}
		if pg != nil {
			envs = append(envs, pg)
		}
		if !seeded {
			for _, e := range envs {
				e.t = t
				seedUsers(t, e, 8)
			}
			seeded = true
		}
		var answers [][]string
		var statuses []int
		for _, e := range envs {
			e.t = t
			r := e.call("GET", "/Users?count=100&filter="+escape(text), nil)
			switch r.status {
			case http.StatusOK:
			case http.StatusBadRequest:
				if r.body["scimType"] == nil {
					t.Fatalf("%q: 400 without scimType: %s", text, r.raw)
				}
			default:
				t.Fatalf("%q: %d %s", text, r.status, r.raw)
			}
			statuses = append(statuses, r.status)
			var names []string
			list, _ := r.body["Resources"].([]any)
			for _, el := range list {
				names = append(names, el.(map[string]any)["userName"].(string))
			}
			answers = append(answers, names)
		}
		if len(envs) == 2 && (statuses[0] != statuses[1] || !slices.Equal(answers[0], answers[1])) {
			t.Fatalf("%q: SQLite %d %v, PostgreSQL %d %v", text, statuses[0], answers[0], statuses[1], answers[1])
		}
	})
}
