package roster_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// wantValue checks one effective property value and its source.
func wantValue(t *testing.T, props map[string]roster.EffectiveValue, key, value, source string) {
	t.Helper()
	ev, ok := props[key]
	if !ok {
		t.Fatalf("no effective value for %q in %v", key, props)
	}
	if string(ev.Value) != value || ev.Source != source {
		t.Fatalf("%s = %s from %s, want %s from %s", key, ev.Value, ev.Source, value, source)
	}
}

func src(g *roster.Group) string { return roster.SourceGroup(g.ID) }

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// profileNames lists "name:kind:on|off" of a user's profiles.
func profileNames(u *roster.User) []string {
	var out []string
	for _, p := range u.Profiles {
		state := "off"
		if p.Enabled {
			state = "on"
		}
		out = append(out, p.Name+":"+p.Kind+":"+state)
	}
	return out
}

func TestPropertiesInheritOverrideAndMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx

		// New tenants have the built-in examples.
		props, err := f.svc.ListProperties(ctx, f.admin)
		must(t, err)
		var keys []string
		for _, p := range props {
			keys = append(keys, p.Key+"="+string(p.Default))
		}
		if want := []string{`resource_filter=""`, "wrapup_timeout_chat=30", "wrapup_timeout_phone=60"}; !slices.Equal(keys, want) {
			t.Fatalf("built-in properties = %v, want %v", keys, want)
		}

		// A user in the level-3 group sees the defaults, on every single read.
		in := f.userInput("anna")
		in.GroupID = roster.Some(f.subteam.ID)
		anna, err := f.svc.CreateUser(ctx, f.admin, in)
		must(t, err)
		wantValue(t, anna.Properties, "wrapup_timeout_phone", "60", "default")
		wantValue(t, anna.Properties, "resource_filter", `""`, "default")

		// Values set on the three levels: the nearest group wins.
		_, err = f.svc.SetGroupProperty(ctx, f.admin, f.root.ID, "wrapup_timeout_phone", raw(`90`))
		must(t, err)
		_, err = f.svc.SetGroupProperty(ctx, f.admin, f.root.ID, "wrapup_timeout_chat", raw(`"2m"`))
		must(t, err)
		get := func() *roster.User {
			t.Helper()
			u, err := f.svc.User(ctx, f.admin, anna.ID)
			must(t, err)
			return u
		}
		wantValue(t, get().Properties, "wrapup_timeout_phone", "90", src(f.root))
		wantValue(t, get().Properties, "wrapup_timeout_chat", "120", src(f.root))
		team, err := f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "wrapup_timeout_phone", raw(`45`))
		must(t, err)
		wantValue(t, team.Properties, "wrapup_timeout_phone", "45", src(f.team))
		wantValue(t, team.Properties, "wrapup_timeout_chat", "120", src(f.root))
		wantValue(t, get().Properties, "wrapup_timeout_phone", "45", src(f.team))
		_, err = f.svc.SetGroupProperty(ctx, f.admin, f.subteam.ID, "wrapup_timeout_phone", raw(`30`))
		must(t, err)
		wantValue(t, get().Properties, "wrapup_timeout_phone", "30", src(f.subteam))
		sub, err := f.svc.GroupProperties(ctx, f.admin, f.subteam.ID)
		must(t, err)
		wantValue(t, sub.Properties, "wrapup_timeout_phone", "30", src(f.subteam))
		wantValue(t, sub.Properties, "resource_filter", `""`, "default")

		// The user's own override wins; removing it falls back to the group.
		u, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone", raw(`20`))
		must(t, err)
		wantValue(t, u.Properties, "wrapup_timeout_phone", "20", "user")
		_, err = f.svc.SetUserProperty(ctx, f.admin, anna.ID, "resource_filter", raw(`"queue:vip"`))
		must(t, err)
		_, err = f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "resource_filter", raw(`"queue:sales"`))
		must(t, err)
		wantValue(t, get().Properties, "resource_filter", `"queue:vip"`, "user")
		u, err = f.svc.ClearUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone")
		must(t, err)
		wantValue(t, u.Properties, "wrapup_timeout_phone", "30", src(f.subteam))
		// Removing the subteam's value falls back one more level.
		_, err = f.svc.ClearGroupProperty(ctx, f.admin, f.subteam.ID, "wrapup_timeout_phone")
		must(t, err)
		wantValue(t, get().Properties, "wrapup_timeout_phone", "45", src(f.team))
		// Clearing what is not set changes nothing and is not an error.
		before := f.auditCount(t)
		_, err = f.svc.ClearUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone")
		must(t, err)
		if f.auditCount(t) != before {
			t.Fatal("a no-op clear wrote an audit event")
		}
		u, err = f.svc.SetUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone", raw(`15`))
		must(t, err)
		wantValue(t, u.Properties, "wrapup_timeout_phone", "15", "user")

		// Profiles: one on the root (everyone), one on Team A, one on Team B.
		sales, err := f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("Sales")})
		must(t, err)
		basics, err := f.svc.CreateGroupProfile(ctx, f.admin, f.root.ID, roster.ProfileInput{Name: roster.Some("Basics"),
			Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 10}})})
		must(t, err)
		teamA, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("Team A calls"),
			Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 80}})})
		must(t, err)
		teamB := mustGroup(t, f, "Team B", &f.root.ID)
		teamBProfile, err := f.svc.CreateGroupProfile(ctx, f.admin, teamB.ID, roster.ProfileInput{Name: roster.Some("Team B chats")})
		must(t, err)
		_, err = f.svc.SetGroupProperty(ctx, f.admin, teamB.ID, "wrapup_timeout_phone", raw(`75`))
		must(t, err)
		_, err = f.svc.SetGroupProperty(ctx, f.admin, teamB.ID, "wrapup_timeout_chat", raw(`10`))
		must(t, err)
		if got := profileNames(get()); !slices.Equal(got, []string{"Basics:group:on", "Team A calls:group:on"}) {
			t.Fatalf("anna's profiles = %v", got)
		}

		// The move keeps anna's overrides, and everything else follows the
		// new group: inherited values and the available profiles.
		moved, change := f.moveUser(t, anna.ID, teamB.ID)
		wantValue(t, moved.Properties, "wrapup_timeout_phone", "15", "user")
		wantValue(t, moved.Properties, "resource_filter", `"queue:vip"`, "user")
		wantValue(t, moved.Properties, "wrapup_timeout_chat", "10", src(teamB))
		if got := profileNames(moved); !slices.Equal(got, []string{"Basics:group:on", "Team B chats:group:on"}) {
			t.Fatalf("profiles after the move = %v", got)
		}
		if change == nil || len(change.Gained) != 1 || change.Gained[0].ID != teamBProfile.ID ||
			len(change.Lost) != 1 || change.Lost[0].ID != teamA.ID {
			t.Fatalf("profile change of the move = %+v", change)
		}
		if moved.Profiles[0].ID != basics.ID {
			t.Fatalf("the root's profile is not first: %+v", moved.Profiles)
		}
		// The answer warns, and the user is told through the outbox.
		if len(moved.Warnings) != 1 || !strings.Contains(moved.Warnings[0], `now also "Team B chats"; no longer "Team A calls"`) {
			t.Fatalf("warnings of the move = %q", moved.Warnings)
		}
		out, err := f.svc.ListOutbox(ctx, f.admin, roster.OutboxQuery{})
		must(t, err)
		if out.Total != 1 || out.Items[0].Kind != "profiles_changed" || out.Items[0].Recipient != "anna@example.com" ||
			!strings.Contains(out.Items[0].Text, "Team B chats") {
			t.Fatalf("outbox after the move = %+v", out.Items)
		}
		// A move that changes no profiles says nothing.
		teamB2 := mustGroup(t, f, "Team B2", &teamB.ID)
		moved, change = f.moveUser(t, anna.ID, teamB2.ID)
		if len(moved.Warnings) != 0 || change.Changed() {
			t.Fatalf("a move within Team B warned: %q", moved.Warnings)
		}
		wantValue(t, moved.Properties, "wrapup_timeout_chat", "10", src(teamB))
		// Removing the override now falls back to the new group.
		u, err = f.svc.ClearUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone")
		must(t, err)
		wantValue(t, u.Properties, "wrapup_timeout_phone", "75", src(teamB))

		// Every change is audited on its target.
		p, err := f.svc.ListAudit(ctx, f.admin, roster.AuditFilter{Target: fmt.Sprintf("user:%d", anna.ID), Action: "user.property.", PerPage: 50})
		must(t, err)
		if p.Total != 5 {
			t.Fatalf("user property audit events = %d, want 5", p.Total)
		}
		p, err = f.svc.ListAudit(ctx, f.admin, roster.AuditFilter{Target: fmt.Sprintf("group:%d", f.subteam.ID), PerPage: 50})
		must(t, err)
		if p.Total < 2 || p.Items[0].Action != "group.property.clear" {
			t.Fatalf("subteam audit = %+v", p.Items)
		}
	})
}

// moveUser moves a user through the core's move (POST /users/{id}/move)
// and returns the answer and what ProfilesChangedByMove says about it.
func (f *fixture) moveUser(t *testing.T, userID, groupID int64) (*roster.User, *roster.ProfileChange) {
	t.Helper()
	var change *roster.ProfileChange
	before, err := f.svc.User(f.ctx, f.admin, userID)
	must(t, err)
	must(t, f.db.InTx(f.ctx, func(tx roster.Tx) error {
		var err error
		change, err = f.svc.ProfilesChangedByMove(f.ctx, tx, before, before.GroupID, groupID)
		return err
	}))
	u, err := f.svc.MoveUser(f.ctx, f.admin, userID, roster.MoveInput{GroupID: groupID})
	must(t, err)
	return u, change
}

func TestPropertyDefinitions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		for _, c := range []struct {
			name   string
			in     roster.PropertyInput
			fields []string
		}{
			{"bad key and type", roster.PropertyInput{Key: roster.Some("Bad Key"), Type: roster.Some("float")}, []string{"key", "type"}},
			{"choice without choices", roster.PropertyInput{Key: roster.Some("tier"), Type: roster.Some("choice")}, []string{"choices"}},
			{"choices on text", roster.PropertyInput{Key: roster.Some("note"), Type: roster.Some("text"), Choices: roster.Some([]string{"a"})}, []string{"choices"}},
			{"default of the wrong type", roster.PropertyInput{Key: roster.Some("max_chats"), Type: roster.Some("integer"), Default: roster.Some(raw(`"three"`))}, []string{"default"}},
			{"default not a choice", roster.PropertyInput{Key: roster.Some("tier"), Type: roster.Some("choice"), Choices: roster.Some([]string{"gold", "silver"}), Default: roster.Some(raw(`"bronze"`))}, []string{"default"}},
			{"empty label", roster.PropertyInput{Key: roster.Some("x1"), Type: roster.Some("text"), Label: roster.Some(" ")}, []string{"label"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.CreateProperty(ctx, f.admin, c.in)
				wantCode(t, err, roster.EInvalid)
				for _, field := range c.fields {
					wantField(t, err, field)
				}
			})
		}
		tier, err := f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("tier"), Label: roster.Some("Tier"),
			Type: roster.Some("choice"), Choices: roster.Some([]string{"gold", "silver"})})
		must(t, err)
		if string(tier.Default) != `"gold"` || tier.Builtin {
			t.Fatalf("tier = %+v", tier)
		}
		_, err = f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("tier"), Type: roster.Some("text")})
		wantCode(t, err, roster.EConflict)
		wantField(t, err, "key")
		maxChats, err := f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("max_chats"), Type: roster.Some("integer"), Default: roster.Some(raw(`3`))})
		must(t, err)
		if maxChats.Label != "max_chats" || string(maxChats.Default) != "3" {
			t.Fatalf("max_chats = %+v", maxChats)
		}
		_, err = f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("recording"), Type: roster.Some("boolean"), Default: roster.Some(raw(`true`))})
		must(t, err)

		// A choice still used somewhere cannot be taken away.
		_, err = f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "tier", raw(`"silver"`))
		must(t, err)
		_, err = f.svc.UpdateProperty(ctx, f.admin, "tier", roster.PropertyInput{Choices: roster.Some([]string{"gold", "bronze"})})
		wantField(t, err, "choices")
		upd, err := f.svc.UpdateProperty(ctx, f.admin, "tier", roster.PropertyInput{Choices: roster.Some([]string{"gold", "silver", "bronze"}),
			Default: roster.Some(raw(`"bronze"`)), Label: roster.Some("Service tier")})
		must(t, err)
		if upd.Label != "Service tier" || string(upd.Default) != `"bronze"` || len(upd.Choices) != 3 {
			t.Fatalf("updated tier = %+v", upd)
		}
		_, err = f.svc.UpdateProperty(ctx, f.admin, "tier", roster.PropertyInput{Type: roster.Some("text")})
		wantField(t, err, "type")

		// Built-in properties stay; custom ones go with their values.
		wantCode(t, f.svc.DeleteProperty(ctx, f.admin, "wrapup_timeout_phone"), roster.EConflict)
		must(t, f.svc.DeleteProperty(ctx, f.admin, "tier"))
		g, err := f.svc.GroupProperties(ctx, f.admin, f.team.ID)
		must(t, err)
		if _, ok := g.Properties["tier"]; ok {
			t.Fatal("a deleted property still has a value")
		}
		_, err = f.svc.Property(ctx, f.admin, "tier")
		wantCode(t, err, roster.ENotFound)

		// Permissions: reading needs a directory permission, writing groups.manage.
		_, err = f.svc.ListProperties(ctx, f.readOnly)
		must(t, err)
		_, err = f.svc.CreateProperty(ctx, f.readOnly, roster.PropertyInput{Key: roster.Some("zz"), Type: roster.Some("text")})
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.SetGroupProperty(ctx, f.readOnly, f.team.ID, "max_chats", raw(`4`))
		wantCode(t, err, roster.EForbidden)
		agent := f.tokenActor(t, "agent")
		_, err = f.svc.ListProperties(ctx, agent)
		wantCode(t, err, roster.EForbidden)
	})
}

func TestContactCentreBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		other := newFixture(t, db, "other")
		ctx := f.ctx
		anna, err := f.svc.CreateUser(ctx, f.admin, f.userInput("anna"))
		must(t, err)
		_, err = f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("tier"), Type: roster.Some("choice"), Choices: roster.Some([]string{"gold", "silver"})})
		must(t, err)
		_, err = f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("recording"), Type: roster.Some("boolean")})
		must(t, err)
		_, err = f.svc.CreateProperty(ctx, f.admin, roster.PropertyInput{Key: roster.Some("max_chats"), Type: roster.Some("integer")})
		must(t, err)
		sales, err := f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("Sales")})
		must(t, err)
		foreign, err := other.svc.CreateSkill(ctx, other.admin, roster.SkillInput{Name: roster.Some("Foreign")})
		must(t, err)

		before := f.auditCount(t)
		userBefore, err := f.svc.User(ctx, f.admin, anna.ID)
		must(t, err)
		groupBefore, err := f.svc.GroupProperties(ctx, f.admin, f.team.ID)
		must(t, err)

		cases := []struct {
			name  string
			call  func() error
			field string
		}{
			{"unknown property on a user", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "no_such_thing", raw(`1`))
				return err
			}, "key"},
			{"unknown property on a group", func() error {
				_, err := f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "no_such_thing", raw(`1`))
				return err
			}, "key"},
			{"clearing an unknown property", func() error {
				_, err := f.svc.ClearUserProperty(ctx, f.admin, anna.ID, "no_such_thing")
				return err
			}, "key"},
			{"text for a duration", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_phone", raw(`"soon"`))
				return err
			}, "value"},
			{"negative duration", func() error {
				_, err := f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "wrapup_timeout_phone", raw(`-5`))
				return err
			}, "value"},
			{"fraction for an integer", func() error {
				_, err := f.svc.SetGroupProperty(ctx, f.admin, f.team.ID, "max_chats", raw(`1.5`))
				return err
			}, "value"},
			{"number for a boolean", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "recording", raw(`1`))
				return err
			}, "value"},
			{"number for text", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "resource_filter", raw(`42`))
				return err
			}, "value"},
			{"value not among the choices", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "tier", raw(`"platinum"`))
				return err
			}, "value"},
			{"null value", func() error {
				_, err := f.svc.SetUserProperty(ctx, f.admin, anna.ID, "tier", raw(`null`))
				return err
			}, "value"},
			{"level 0", func() error {
				_, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("P"),
					Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 0}})})
				return err
			}, "skills[0].level"},
			{"level 101", func() error {
				_, err := f.svc.CreateUserProfile(ctx, f.admin, anna.ID, roster.ProfileInput{Name: roster.Some("P"),
					Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 101}})})
				return err
			}, "skills[0].level"},
			{"skill of another tenant", func() error {
				_, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("P"),
					Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 50}, {SkillID: foreign.ID, Level: 50}})})
				return err
			}, "skills[1].skill_id"},
			{"skill listed twice", func() error {
				_, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("P"),
					Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 50}, {SkillID: sales.ID, Level: 60}})})
				return err
			}, "skills[1].skill_id"},
			{"profile without a name", func() error {
				_, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{})
				return err
			}, "name"},
			{"skill without a name", func() error {
				_, err := f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("  ")})
				return err
			}, "name"},
			{"enabling a profile that is not available", func() error {
				p, err := other.svc.CreateGroupProfile(ctx, other.admin, other.team.ID, roster.ProfileInput{Name: roster.Some("Theirs")})
				must(t, err)
				_, err = f.svc.SetUserGroupProfiles(ctx, f.admin, anna.ID, []int64{p.ID})
				return err
			}, "enabled"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := c.call()
				wantCode(t, err, roster.EInvalid)
				wantField(t, err, c.field)
			})
		}

		// Nothing changed: no audit event, the same values, no profile.
		if f.auditCount(t) != before {
			t.Fatal("refused input wrote an audit event")
		}
		userAfter, err := f.svc.User(ctx, f.admin, anna.ID)
		must(t, err)
		groupAfter, err := f.svc.GroupProperties(ctx, f.admin, f.team.ID)
		must(t, err)
		if fmt.Sprint(userAfter.Properties) != fmt.Sprint(userBefore.Properties) || len(userAfter.Profiles) != 0 ||
			fmt.Sprint(groupAfter.Properties) != fmt.Sprint(groupBefore.Properties) {
			t.Fatalf("refused input changed something: %v / %v", userAfter.Properties, groupAfter.Properties)
		}
		ps, err := f.svc.GroupProfiles(ctx, f.admin, f.team.ID)
		must(t, err)
		if len(ps) != 0 {
			t.Fatalf("a refused profile exists: %+v", ps)
		}

		// Another tenant's user, group or profile is not found.
		_, err = other.svc.SetUserProperty(ctx, other.admin, anna.ID, "tier", raw(`"gold"`))
		wantCode(t, err, roster.ENotFound)
		_, err = other.svc.SetGroupProperty(ctx, other.admin, f.team.ID, "wrapup_timeout_phone", raw(`5`))
		wantCode(t, err, roster.ENotFound)
		_, err = other.svc.CreateGroupProfile(ctx, other.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("X")})
		wantCode(t, err, roster.ENotFound)
	})
}

func TestSkillsAndProfiles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		sales, err := f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("Sales")})
		must(t, err)
		english, err := f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("English")})
		must(t, err)
		_, err = f.svc.CreateSkill(ctx, f.admin, roster.SkillInput{Name: roster.Some("sales")})
		wantCode(t, err, roster.EConflict)
		wantField(t, err, "name")
		skills, err := f.svc.ListSkills(ctx, f.teamLeader)
		must(t, err)
		if len(skills) != 2 || skills[0].Name != "English" {
			t.Fatalf("skills = %+v", skills)
		}

		in := f.userInput("anna")
		in.GroupID = roster.Some(f.subteam.ID)
		anna, err := f.svc.CreateUser(ctx, f.admin, in)
		must(t, err)
		if anna.Profiles == nil || len(anna.Profiles) != 0 {
			t.Fatalf("a new user's profiles = %#v, want an empty list", anna.Profiles)
		}
		basics, err := f.svc.CreateGroupProfile(ctx, f.admin, f.root.ID, roster.ProfileInput{Name: roster.Some("Basics"),
			Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 20}})})
		must(t, err)
		pro, err := f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("Sales pro"),
			Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 90}, {SkillID: english.ID, Level: 70}})})
		must(t, err)
		if pro.Kind != roster.ProfileGroup || *pro.GroupID != f.team.ID || len(pro.Skills) != 2 || pro.Skills[0].Name != "English" || pro.Skills[1].Level != 90 {
			t.Fatalf("profile = %+v", pro)
		}
		_, err = f.svc.CreateGroupProfile(ctx, f.admin, f.team.ID, roster.ProfileInput{Name: roster.Some("SALES PRO")})
		wantCode(t, err, roster.EConflict)
		mentor, err := f.svc.CreateUserProfile(ctx, f.admin, anna.ID, roster.ProfileInput{Name: roster.Some("Mentor"),
			Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: english.ID, Level: 100}})})
		must(t, err)
		if mentor.Kind != roster.ProfilePersonal || *mentor.UserID != anna.ID {
			t.Fatalf("personal profile = %+v", mentor)
		}
		// A profile of the level-2 group that is not anna's ancestor is not hers.
		teamB := mustGroup(t, f, "Team B", &f.root.ID)
		_, err = f.svc.CreateGroupProfile(ctx, f.admin, teamB.ID, roster.ProfileInput{Name: roster.Some("Elsewhere")})
		must(t, err)

		u, err := f.svc.User(ctx, f.admin, anna.ID)
		must(t, err)
		if got := profileNames(u); !slices.Equal(got, []string{"Basics:group:on", "Sales pro:group:on", "Mentor:personal:on"}) {
			t.Fatalf("profiles = %v", got)
		}

		// Switching group profiles off and on; personal ones are not switched.
		u, err = f.svc.SetUserGroupProfiles(ctx, f.admin, anna.ID, []int64{pro.ID})
		must(t, err)
		if got := profileNames(u); !slices.Equal(got, []string{"Basics:group:off", "Sales pro:group:on", "Mentor:personal:on"}) {
			t.Fatalf("profiles after switching = %v", got)
		}
		_, err = f.svc.SetUserGroupProfiles(ctx, f.admin, anna.ID, []int64{mentor.ID})
		wantField(t, err, "enabled")

		// Computed, not copied: a change to a group profile reaches her at once,
		// and a new group profile is on for her.
		_, err = f.svc.UpdateProfile(ctx, f.admin, pro.ID, roster.ProfileInput{Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: sales.ID, Level: 55}})})
		must(t, err)
		_, err = f.svc.CreateGroupProfile(ctx, f.admin, f.subteam.ID, roster.ProfileInput{Name: roster.Some("Night shift")})
		must(t, err)
		u, err = f.svc.User(ctx, f.admin, anna.ID)
		must(t, err)
		if got := profileNames(u); !slices.Equal(got, []string{"Basics:group:off", "Sales pro:group:on", "Night shift:group:on", "Mentor:personal:on"}) {
			t.Fatalf("profiles after changes = %v", got)
		}
		if s := u.Profiles[1].Skills; len(s) != 1 || s[0].Level != 55 {
			t.Fatalf("skills of the changed profile as anna has it = %+v", s)
		}
		// Deleting a profile takes it away; a skill in use cannot be deleted.
		must(t, f.svc.DeleteProfile(ctx, f.admin, basics.ID))
		wantCode(t, f.svc.DeleteSkill(ctx, f.admin, sales.ID), roster.EConflict)
		if n, err := f.svc.SkillUsage(ctx, f.admin, sales.ID); err != nil || n == 0 {
			t.Fatalf("usage of a skill in use = %d, %v", n, err)
		}
		_, err = f.svc.SkillUsage(ctx, f.admin, -1)
		wantCode(t, err, roster.ENotFound)
		renamed, err := f.svc.UpdateSkill(ctx, f.admin, sales.ID, roster.SkillInput{Name: roster.Some("Sales (B2B)")})
		must(t, err)
		if renamed.Name != "Sales (B2B)" {
			t.Fatal(renamed.Name)
		}
		got, err := f.svc.Profile(ctx, f.admin, pro.ID)
		must(t, err)
		if got.Skills[0].Name != "Sales (B2B)" {
			t.Fatalf("profile after the rename = %+v", got)
		}

		// Permissions: group profiles need groups.manage, personal ones users.manage.
		hr, err := f.svc.CreateRole(ctx, f.admin, roster.RoleInput{Key: roster.Some("hr"), Name: roster.Some("HR"),
			Permissions: roster.Some([]string{"users.view", "users.manage"}), AssignableRoles: roster.Some([]string{"agent"})})
		must(t, err)
		hrActor := f.tokenActor(t, hr.Key)
		_, err = f.svc.CreateUserProfile(ctx, hrActor, anna.ID, roster.ProfileInput{Name: roster.Some("Coach")})
		must(t, err)
		_, err = f.svc.CreateGroupProfile(ctx, hrActor, f.team.ID, roster.ProfileInput{Name: roster.Some("Nope")})
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.UpdateProfile(ctx, hrActor, pro.ID, roster.ProfileInput{Name: roster.Some("Nope")})
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.SetUserGroupProfiles(ctx, f.readOnly, anna.ID, nil)
		wantCode(t, err, roster.EForbidden)
		_, err = f.svc.CreateSkill(ctx, hrActor, roster.SkillInput{Name: roster.Some("Nope")})
		wantCode(t, err, roster.EForbidden)

		// A user's own values, personal profiles, switches and plans go with
		// the user; a group's values and profiles with the group.
		_, err = f.svc.SetUserProperty(ctx, f.admin, anna.ID, "wrapup_timeout_chat", raw(`5`))
		must(t, err)
		_, err = f.svc.CreateCoachingPlan(ctx, f.admin, roster.CoachingPlanInput{AgentUserID: roster.Some(anna.ID), Title: roster.Some("Plan"), Note: roster.Some("n")})
		must(t, err)
		must(t, f.svc.DeleteUser(ctx, f.admin, anna.ID))
		_, err = f.svc.SetGroupProperty(ctx, f.admin, teamB.ID, "wrapup_timeout_chat", raw(`5`))
		must(t, err)
		must(t, f.svc.DeleteGroup(ctx, f.admin, teamB.ID))
		plans, err := f.svc.ListCoachingPlans(ctx, f.admin, roster.CoachingPlanQuery{})
		must(t, err)
		if plans.Total != 0 {
			t.Fatalf("plans of a deleted user: %d", plans.Total)
		}
	})
}

// A manager whose role is scoped to groups reaches only the groups and users
// of their group access; the tenant-wide catalogues need the tenant scope.
func TestContactCentreScopedManager(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		tm := newTeam(t, db)
		ctx, svc := tm.ctx, tm.svc
		_, err := svc.CreateRole(ctx, tm.admin, roster.RoleInput{Key: roster.Some("site_admin"), Name: roster.Some("Site admin"),
			Scope: roster.Some(roster.ScopeGroups), Permissions: roster.Some([]string{"users.view", "users.manage", "groups.manage"}),
			AssignableRoles: roster.Some([]string{"agent"})})
		must(t, err)
		in := tm.userInput("sam")
		in.GroupID = roster.Some(tm.teamB.ID)
		in.Roles = roster.Some([]string{"site_admin"})
		in.GroupAccess = roster.Some([]int64{tm.teamB.ID})
		sam, err := svc.CreateUser(ctx, tm.admin, in)
		must(t, err)
		as, err := svc.ActorForUser(ctx, tm.tenant.ID, sam.ID)
		must(t, err)

		_, err = svc.SetGroupProperty(ctx, as, tm.teamB.ID, "wrapup_timeout_phone", raw(`40`))
		must(t, err)
		_, err = svc.SetGroupProperty(ctx, as, tm.team.ID, "wrapup_timeout_phone", raw(`40`))
		wantCode(t, err, roster.ENotFound)
		_, err = svc.SetUserProperty(ctx, as, tm.agentB.ID, "wrapup_timeout_phone", raw(`41`))
		must(t, err)
		_, err = svc.SetUserProperty(ctx, as, tm.agentA.ID, "wrapup_timeout_phone", raw(`41`))
		wantCode(t, err, roster.ENotFound)
		_, err = svc.CreateUserProfile(ctx, as, tm.agentA.ID, roster.ProfileInput{Name: roster.Some("X")})
		wantCode(t, err, roster.ENotFound)
		theirs, err := svc.CreateGroupProfile(ctx, tm.admin, tm.team.ID, roster.ProfileInput{Name: roster.Some("Team A only")})
		must(t, err)
		_, err = svc.Profile(ctx, as, theirs.ID)
		wantCode(t, err, roster.ENotFound)
		wantCode(t, svc.DeleteProfile(ctx, as, theirs.ID), roster.ENotFound)
		_, err = svc.CreateGroupProfile(ctx, as, tm.teamB.ID, roster.ProfileInput{Name: roster.Some("Team B own")})
		must(t, err)
		_, err = svc.CreateProperty(ctx, as, roster.PropertyInput{Key: roster.Some("site_only"), Type: roster.Some("text")})
		wantCode(t, err, roster.EForbidden)
		_, err = svc.CreateSkill(ctx, as, roster.SkillInput{Name: roster.Some("Local")})
		wantCode(t, err, roster.EForbidden)
	})
}
