package roster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// txCounter counts the write transactions a service begins.
type txCounter struct {
	roster.Store
	n atomic.Int64
}

func (c *txCounter) InTx(ctx context.Context, fn func(tx roster.Tx) error) error {
	c.n.Add(1)
	return c.Store.InTx(ctx, fn)
}

// many returns n strings made by format from 0..n-1.
func many(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func manyIDs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// TestBoundsBeforeWork sends every input type of the core past each of its
// bounds: each is refused as invalid naming the field, at once (however
// large the input), without a write transaction, and nothing changes.
func TestBoundsBeforeWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "bounds")
		ctx := f.ctx
		counter := &txCounter{Store: db}
		svc := roster.NewService(counter, roster.Options{})
		a := f.admin

		agent, err := f.svc.CreateUser(ctx, a, f.userInput("agent"))
		must(t, err)
		choice, err := f.svc.CreateProperty(ctx, a, roster.PropertyInput{Key: roster.Some("queue"), Type: roster.Some(roster.PropChoice),
			Choices: roster.Some([]string{"a", "b"})})
		must(t, err)
		skill, err := f.svc.CreateSkill(ctx, a, roster.SkillInput{Name: roster.Some("French")})
		must(t, err)
		profile, err := f.svc.CreateGroupProfile(ctx, a, f.team.ID, roster.ProfileInput{Name: roster.Some("Sales")})
		must(t, err)
		plan, err := f.svc.CreateCoachingPlan(ctx, a, roster.CoachingPlanInput{AgentUserID: roster.Some(agent.ID), Title: roster.Some("Plan")})
		must(t, err)
		role, err := f.svc.CreateRole(ctx, a, roster.RoleInput{Key: roster.Some("custom"), Name: roster.Some("Custom"),
			Permissions: roster.Some([]string{roster.PermInsightsView}), Scope: roster.Some(roster.ScopeGroups)})
		must(t, err)

		user := func(change func(in *roster.UserInput)) roster.UserInput {
			in := f.userInput("new.user")
			change(&in)
			return in
		}
		createUser := func(change func(in *roster.UserInput)) func() error {
			return func() error { _, err := svc.CreateUser(ctx, a, user(change)); return err }
		}
		patchUser := func(in roster.UserInput) func() error {
			return func() error { _, err := svc.UpdateUser(ctx, a, agent.ID, in); return err }
		}
		skills := func(n int) []roster.ProfileSkillInput {
			out := make([]roster.ProfileSkillInput, n)
			for i := range out {
				out[i] = roster.ProfileSkillInput{SkillID: skill.ID, Level: 50}
			}
			return out
		}
		long := func(n int) string { return strings.Repeat("x", n) }
		bigValue := json.RawMessage(`"` + long(roster.MaxValueBytes) + `"`)

		cases := []struct {
			name   string
			call   func() error
			fields []string
		}{
			{"100,000 nicknames", createUser(func(in *roster.UserInput) { in.Nicknames = roster.Some(many(100_000, "nick%d")) }), []string{"nicknames"}},
			{"21 nicknames", createUser(func(in *roster.UserInput) { in.Nicknames = roster.Some(many(21, "n%d")) }), []string{"nicknames"}},
			{"a nickname of 65 characters", createUser(func(in *roster.UserInput) { in.Nicknames = roster.Some([]string{long(65)}) }), []string{"nicknames"}},
			{"a nickname twice, in another case", createUser(func(in *roster.UserInput) { in.Nicknames = roster.Some([]string{"Anna", "ANNA"}) }), []string{"nicknames"}},
			{"100,000 group_access ids", createUser(func(in *roster.UserInput) { in.GroupAccess = roster.Some(manyIDs(100_000)) }), []string{"group_access"}},
			{"1001 group_access ids", createUser(func(in *roster.UserInput) { in.GroupAccess = roster.Some(manyIDs(1001)) }), []string{"group_access"}},
			{"51 roles", createUser(func(in *roster.UserInput) { in.Roles = roster.Some(many(51, "r%d")) }), []string{"roles"}},
			{"a role key of 1 MB", createUser(func(in *roster.UserInput) { in.Roles = roster.Some([]string{long(1 << 20)}) }), []string{"roles"}},
			{"101 agent IDs", createUser(func(in *roster.UserInput) { in.AgentIDs = roster.Some(roster.AgentIDRefs(manyIDs(101)...)) }), []string{"agent_ids"}},
			{"an agent ID of 1 MB", createUser(func(in *roster.UserInput) {
				in.AgentIDs = roster.Some([]roster.AgentRef{roster.ParseAgentRef("voice:" + long(1<<20))})
			}), []string{"agent_ids"}},
			{"a username of 65 characters", createUser(func(in *roster.UserInput) { in.Username = roster.Some(long(65)) }), []string{"username"}},
			{"a name of 201 characters", createUser(func(in *roster.UserInput) { in.Name = roster.Some(long(201)) }), []string{"name"}},
			{"an email of 1 MB", createUser(func(in *roster.UserInput) { in.Email = roster.Some(long(1<<20) + "@example.com") }), []string{"email"}},
			{"a mobile of 1 MB", createUser(func(in *roster.UserInput) { in.Mobile = roster.Some("+49 " + strings.Repeat("1", 1<<20)) }), []string{"mobile"}},
			{"a ring-to number of 41 characters", createUser(func(in *roster.UserInput) { in.RingTo = roster.Some("+49 " + strings.Repeat("1 ", 20)) }), []string{"ring_to"}},
			{"a language of 1 MB", createUser(func(in *roster.UserInput) { in.Language = roster.Some(long(1 << 20)) }), []string{"language"}},
			{"every bad field at once, lookups included", createUser(func(in *roster.UserInput) {
				in.Email = roster.Some("not an address")
				in.GroupID = roster.Some(int64(999_999))
				in.Roles = roster.Some([]string{"no_such_role"})
			}), []string{"email", "group_id", "roles"}},
			{"PATCH with 100,000 nicknames", patchUser(roster.UserInput{Nicknames: roster.Some(many(100_000, "nick%d"))}), []string{"nicknames"}},
			{"PATCH with 100,000 group_access ids", patchUser(roster.UserInput{GroupAccess: roster.Some(manyIDs(100_000))}), []string{"group_access"}},
			{"PUT agents with 101 agent IDs", func() error {
				_, err := svc.SetUserAgents(ctx, a, agent.ID, roster.AgentIDRefs(manyIDs(101)...))
				return err
			}, []string{"agent_ids"}},
			{"501 invitations", func() error {
				rows := make([]roster.UserInput, 501)
				for i := range rows {
					rows[i] = f.userInput(fmt.Sprintf("inv%d", i))
				}
				_, err := svc.InviteUsers(ctx, a, rows)
				return err
			}, []string{"invitations"}},
			{"invitation rows with 100,000 nicknames each", func() error {
				rows := make([]roster.UserInput, 100)
				nicks := many(100_000, "nick%d")
				for i := range rows {
					rows[i] = f.userInput(fmt.Sprintf("inv%d", i))
					rows[i].Nicknames = roster.Some(nicks)
				}
				_, err := svc.InviteUsers(ctx, a, rows)
				return err
			}, []string{"invitations[0].nicknames", "invitations[99].nicknames"}},
			{"a property with 100,000 choices", func() error {
				_, err := svc.CreateProperty(ctx, a, roster.PropertyInput{Key: roster.Some("many"), Type: roster.Some(roster.PropChoice),
					Choices: roster.Some(many(100_000, "c%d"))})
				return err
			}, []string{"choices"}},
			{"a property changed to 100,000 choices", func() error {
				_, err := svc.UpdateProperty(ctx, a, choice.Key, roster.PropertyInput{Choices: roster.Some(many(100_000, "c%d"))})
				return err
			}, []string{"choices"}},
			{"101 choices", func() error {
				_, err := svc.UpdateProperty(ctx, a, choice.Key, roster.PropertyInput{Choices: roster.Some(many(101, "c%d"))})
				return err
			}, []string{"choices"}},
			{"a choice of 101 characters", func() error {
				_, err := svc.UpdateProperty(ctx, a, choice.Key, roster.PropertyInput{Choices: roster.Some([]string{long(101)})})
				return err
			}, []string{"choices"}},
			{"a choice twice", func() error {
				_, err := svc.UpdateProperty(ctx, a, choice.Key, roster.PropertyInput{Choices: roster.Some([]string{"a", "a"})})
				return err
			}, []string{"choices"}},
			{"a property label of 101 characters", func() error {
				_, err := svc.UpdateProperty(ctx, a, choice.Key, roster.PropertyInput{Label: roster.Some(long(101))})
				return err
			}, []string{"label"}},
			{"a default past 16 KiB", func() error {
				_, err := svc.UpdateProperty(ctx, a, "resource_filter", roster.PropertyInput{Default: roster.Some(bigValue)})
				return err
			}, []string{"default"}},
			{"a group value past 16 KiB", func() error {
				_, err := svc.SetGroupProperty(ctx, a, f.team.ID, "resource_filter", bigValue)
				return err
			}, []string{"value"}},
			{"a user value past 16 KiB", func() error {
				_, err := svc.SetUserProperty(ctx, a, agent.ID, "resource_filter", bigValue)
				return err
			}, []string{"value"}},
			{"a skill name of 101 characters", func() error {
				_, err := svc.CreateSkill(ctx, a, roster.SkillInput{Name: roster.Some(long(101))})
				return err
			}, []string{"name"}},
			{"a skill renamed to 1 MB", func() error {
				_, err := svc.UpdateSkill(ctx, a, skill.ID, roster.SkillInput{Name: roster.Some(long(1 << 20))})
				return err
			}, []string{"name"}},
			{"a profile with 100,000 skills", func() error {
				_, err := svc.CreateGroupProfile(ctx, a, f.team.ID, roster.ProfileInput{Name: roster.Some("Big"), Skills: roster.Some(skills(100_000))})
				return err
			}, []string{"skills"}},
			{"a profile changed to 201 skills", func() error {
				_, err := svc.UpdateProfile(ctx, a, profile.ID, roster.ProfileInput{Skills: roster.Some(skills(201))})
				return err
			}, []string{"skills"}},
			{"a personal profile name of 101 characters", func() error {
				_, err := svc.CreateUserProfile(ctx, a, agent.ID, roster.ProfileInput{Name: roster.Some(long(101))})
				return err
			}, []string{"name"}},
			{"100,000 group profiles switched on", func() error {
				_, err := svc.SetUserGroupProfiles(ctx, a, agent.ID, manyIDs(100_000))
				return err
			}, []string{"enabled"}},
			{"a plan title of 201 characters", func() error {
				_, err := svc.CreateCoachingPlan(ctx, a, roster.CoachingPlanInput{AgentUserID: roster.Some(agent.ID), Title: roster.Some(long(201))})
				return err
			}, []string{"title"}},
			{"plan goals of 4001 characters", func() error {
				_, err := svc.UpdateCoachingPlan(ctx, a, plan.ID, roster.CoachingPlanInput{Goals: roster.Some(long(4001))})
				return err
			}, []string{"goals"}},
			{"a note of 1 MB", func() error {
				_, err := svc.AddCoachingNote(ctx, a, plan.ID, long(1<<20))
				return err
			}, []string{"note"}},
			{"a group name of 101 characters", func() error {
				_, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some(long(101)), ParentID: roster.Some(f.root.ID)})
				return err
			}, []string{"name"}},
			{"a group renamed to 1 MB", func() error {
				_, err := svc.UpdateGroup(ctx, a, f.team.ID, roster.GroupInput{Name: roster.Some(long(1 << 20))})
				return err
			}, []string{"name"}},
			{"a role with 100,000 permissions", func() error {
				_, err := svc.CreateRole(ctx, a, roster.RoleInput{Key: roster.Some("big"), Name: roster.Some("Big"), Permissions: roster.Some(many(100_000, "p%d"))})
				return err
			}, []string{"permissions"}},
			{"a role renamed to 101 characters and a description of 501", func() error {
				_, err := svc.UpdateRole(ctx, a, role.ID, roster.RoleInput{Name: roster.Some(long(101)), Description: roster.Some(long(501))})
				return err
			}, []string{"name", "description"}},
		}
		audit := f.auditCount(t)
		for _, c := range cases {
			before := counter.n.Load()
			start := time.Now()
			err := c.call()
			took := time.Since(start)
			if roster.ErrorCode(err) != roster.EInvalid {
				t.Errorf("%s: error = %v, want invalid input", c.name, err)
				continue
			}
			for _, field := range c.fields {
				if !names(err, field) {
					t.Errorf("%s: error %v does not name %q", c.name, err, field)
				}
			}
			if n := len(roster.ErrorFields(err)); n > 100 {
				t.Errorf("%s: %d field errors; at most 100 are listed", c.name, n)
			}
			if counter.n.Load() != before {
				t.Errorf("%s: refused only inside a write transaction", c.name)
			}
			// Generous for a shared machine; the refusals take microseconds
			// to a few milliseconds (a lookup on a plain read at most).
			if took > time.Second {
				t.Errorf("%s: refused after %v", c.name, took)
			}
		}
		if got := f.auditCount(t); got != audit {
			t.Errorf("audit events %d -> %d: a refused input changed something", audit, got)
		}
	})
}

func names(err error, field string) bool {
	for _, fe := range roster.ErrorFields(err) {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// TestFieldErrorsCapped: an answer lists at most 100 problems and counts the
// rest, however many bad items a batch holds.
func TestFieldErrorsCapped(t *testing.T) {
	var v roster.Validation
	for i := range 1000 {
		v.Add("nicknames", "item %d: bad", i)
	}
	err := v.Err()
	if n := len(roster.ErrorFields(err)); n != 100 {
		t.Fatalf("%d field errors listed, want 100", n)
	}
	if !strings.Contains(roster.ErrorMessage(err), "900 more") {
		t.Fatalf("message %q does not count the 900 left out", roster.ErrorMessage(err))
	}
}
