package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// idKind makes and deletes one kind of row with an id.
type idKind struct {
	name   string
	create func(t *testing.T, i int) int64
	remove func(t *testing.T, id int64)
}

// TestIdsNeverReused makes rows of every kind with an id, deletes the one
// with the highest id again and again, and checks that no id ever comes
// back: on SQLite an INTEGER PRIMARY KEY without AUTOINCREMENT would hand
// out the deleted id again.
func TestIdsNeverReused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		for _, k := range idKinds(t, db, "ids") {
			t.Run(k.name, func(t *testing.T) {
				seen := map[int64]bool{}
				var live []int64
				add := func(i int) {
					id := k.create(t, i)
					if seen[id] {
						t.Fatalf("%s id %d given out again (ids so far %v)", k.name, id, keys(seen))
					}
					seen[id] = true
					live = append(live, id)
				}
				for i := range 3 {
					add(i)
				}
				for i := 3; i < 8; i++ {
					top := 0
					for j, id := range live {
						if id > live[top] {
							top = j
						}
					}
					k.remove(t, live[top])
					live = append(live[:top], live[top+1:]...)
					add(i)
				}
			})
		}
	})
}

// idKinds are the kinds of row with an id, made through the core; deleted
// through it where it deletes them, otherwise by their row.
func idKinds(t *testing.T, db *store.DB, slug string) []idKind {
	ctx := context.Background()
	svc := roster.NewService(db, roster.Options{})
	a, top := newTenant(t, svc, slug)
	run := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	deleteRow := func(table string) func(t *testing.T, id int64) {
		return func(t *testing.T, id int64) {
			t.Helper()
			res, err := db.SQL().ExecContext(ctx, "DELETE FROM "+table+" WHERE id = "+strconv.FormatInt(id, 10))
			run(t, err)
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("deleted %d rows of %s with id %d", n, table, id)
			}
		}
	}
	mkUser := func(t *testing.T, name string) *roster.User {
		t.Helper()
		u, err := svc.CreateUser(ctx, a, roster.UserInput{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(top), Roles: roster.Some([]string{roster.RoleAgent})})
		run(t, err)
		return u
	}
	owner := mkUser(t, "owner") // holds what the kinds below hang on
	now := time.Now()
	return []idKind{
		{"users", func(t *testing.T, i int) int64 { return mkUser(t, fmt.Sprintf("user%d", i)).ID },
			func(t *testing.T, id int64) { run(t, svc.DeleteUser(ctx, a, id)) }},
		{"groups", func(t *testing.T, i int) int64 {
			g, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some(fmt.Sprintf("Team %d", i)), ParentID: roster.Some(top)})
			run(t, err)
			return g.ID
		}, func(t *testing.T, id int64) { run(t, svc.DeleteGroup(ctx, a, id)) }},
		{"roles", func(t *testing.T, i int) int64 {
			r, err := svc.CreateRole(ctx, a, roster.RoleInput{Key: roster.Some(fmt.Sprintf("custom%d", i)), Name: roster.Some(fmt.Sprintf("Custom %d", i)),
				Permissions: roster.Some([]string{roster.PermUsersView}), Scope: roster.Some("tenant")})
			run(t, err)
			return r.ID
		}, func(t *testing.T, id int64) { run(t, svc.DeleteRole(ctx, a, id)) }},
		{"invitations", func(t *testing.T, i int) int64 {
			name := fmt.Sprintf("invitee%d", i)
			links, err := svc.InviteUsers(ctx, a, []roster.UserInput{{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
				Language: roster.Some("en"), GroupID: roster.Some(top)}})
			run(t, err)
			return links[0].Invitation.ID
		}, func(t *testing.T, id int64) {
			run(t, svc.CancelInvitation(ctx, a, id)) // deletes the invited user; the row stays as the record
			deleteRow("invitations")(t, id)
		}},
		{"api_tokens", func(t *testing.T, i int) int64 {
			tok, _, err := svc.CreateToken(ctx, a, roster.TokenInput{Name: fmt.Sprintf("token %d", i), Role: roster.RoleAgent})
			run(t, err)
			return tok.ID
		}, deleteRow("api_tokens")},
		{"sso_providers", func(t *testing.T, i int) int64 {
			p, err := svc.CreateSSOProvider(ctx, a, roster.SSOProviderInput{Kind: roster.Some("oidc"), Name: roster.Some(fmt.Sprintf("IdP %d", i)),
				Issuer: roster.Some("https://idp.example"), ClientID: roster.Some("c")})
			run(t, err)
			return p.ID
		}, func(t *testing.T, id int64) { run(t, svc.DeleteSSOProvider(ctx, a, id)) }},
		{"skills", func(t *testing.T, i int) int64 {
			s, err := svc.CreateSkill(ctx, a, roster.SkillInput{Name: roster.Some(fmt.Sprintf("Skill %d", i))})
			run(t, err)
			return s.ID
		}, func(t *testing.T, id int64) { run(t, svc.DeleteSkill(ctx, a, id)) }},
		{"profiles", func(t *testing.T, i int) int64 {
			p, err := svc.CreateGroupProfile(ctx, a, top, roster.ProfileInput{Name: roster.Some(fmt.Sprintf("Profile %d", i))})
			run(t, err)
			return p.ID
		}, func(t *testing.T, id int64) { run(t, svc.DeleteProfile(ctx, a, id)) }},
		{"properties", func(t *testing.T, i int) int64 {
			p, err := svc.CreateProperty(ctx, a, roster.PropertyInput{Key: roster.Some(fmt.Sprintf("prop%d", i)), Label: roster.Some("Prop"),
				Type: roster.Some("integer"), Default: roster.Some(json.RawMessage(`1`))})
			run(t, err)
			return p.ID
		}, func(t *testing.T, id int64) {
			var key string
			run(t, db.SQL().QueryRowContext(ctx, "SELECT key FROM properties WHERE id = "+strconv.FormatInt(id, 10)).Scan(&key))
			run(t, svc.DeleteProperty(ctx, a, key))
		}},
		{"coaching_plans", func(t *testing.T, i int) int64 {
			p, err := svc.CreateCoachingPlan(ctx, a, roster.CoachingPlanInput{AgentUserID: roster.Some(owner.ID), Title: roster.Some(fmt.Sprintf("Plan %d", i))})
			run(t, err)
			return p.ID
		}, deleteRow("coaching_plans")},
		{"impersonations", func(t *testing.T, i int) int64 {
			im, _, err := svc.StartImpersonation(ctx, a, owner.ID)
			run(t, err)
			return im.ID
		}, deleteRow("impersonations")},
		{"sessions", func(t *testing.T, i int) int64 {
			at := now.Add(time.Duration(i) * time.Second)
			sess := &roster.Session{TenantID: a.TenantID, UserID: owner.ID, TokenHash: []byte(fmt.Sprintf("ids-session-%d", i)),
				CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
			e := &roster.AuditEvent{TenantID: a.TenantID, ActorKind: roster.ActorUser, ActorID: owner.ID, ActorName: "owner",
				Action: "session.create", TargetKind: "user", TargetID: owner.ID, After: []byte(`{}`), At: at}
			run(t, db.RecordSignIn(ctx, sess, e))
			return sess.ID
		}, deleteRow("sessions")},
		{"agent_ids", func(t *testing.T, i int) int64 {
			ext := fmt.Sprintf("ids-agent-%d", i)
			row, _ := json.Marshal(roster.InteractionInput{Source: "voice", ExternalID: ext + "-call", AgentExternalID: ext,
				StartedAt: now.Add(-time.Hour).UTC(), DurationS: 60})
			res, err := svc.IngestInteractions(ctx, a, []json.RawMessage{row})
			run(t, err)
			if res.Inserted != 1 {
				t.Fatalf("ingest: %+v", res)
			}
			var id int64
			run(t, db.SQL().QueryRowContext(ctx, "SELECT id FROM agent_ids WHERE external_id = '"+ext+"'").Scan(&id))
			return id
		}, func(t *testing.T, id int64) {
			_, err := db.SQL().ExecContext(ctx, "DELETE FROM interactions WHERE agent_id = "+strconv.FormatInt(id, 10))
			run(t, err)
			deleteRow("agent_ids")(t, id)
		}},
	}
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
