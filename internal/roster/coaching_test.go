package roster_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// team is a tenant with three teams, an agent in each (two in Team A: one in
// its subteam), a team leader over Team A and Team B, and an admin, each
// signed in as themself.
type team struct {
	*fixture
	teamB, teamC                   *roster.Group
	agentA, agentA1, agentB, agent *roster.User // agent: in Team C
	lead, adminUser                *roster.User
	asAgentA, asLead, asAdmin      *roster.Actor
}

func newTeam(t *testing.T, db *store.DB) *team {
	t.Helper()
	f := newFixture(t, db, "acme")
	tm := &team{fixture: f}
	tm.teamB = mustGroup(t, f, "Team B", &f.root.ID)
	tm.teamC = mustGroup(t, f, "Team C", &f.root.ID)
	user := func(username string, group int64, roles []string, access ...int64) *roster.User {
		t.Helper()
		in := f.userInput(username)
		in.GroupID = roster.Some(group)
		in.Roles = roster.Some(roles)
		if len(access) > 0 {
			in.GroupAccess = roster.Some(access)
		}
		u, err := f.svc.CreateUser(f.ctx, f.admin, in)
		must(t, err)
		return u
	}
	agent := []string{roster.RoleAgent}
	tm.agentA = user("ada", f.team.ID, agent)
	tm.agentA1 = user("abe", f.subteam.ID, agent)
	tm.agentB = user("bob", tm.teamB.ID, agent)
	tm.agent = user("cyd", tm.teamC.ID, agent)
	tm.lead = user("lea", f.team.ID, []string{roster.RoleTeamLeader}, f.team.ID, tm.teamB.ID)
	tm.adminUser = user("root", f.root.ID, []string{roster.RoleAdmin})
	signIn := func(u *roster.User) *roster.Actor {
		t.Helper()
		a, err := f.svc.ActorForUser(f.ctx, f.tenant.ID, u.ID)
		must(t, err)
		return a
	}
	tm.asAgentA, tm.asLead, tm.asAdmin = signIn(tm.agentA), signIn(tm.lead), signIn(tm.adminUser)
	return tm
}

func planAgents(p *roster.Page[roster.CoachingPlan]) []int64 {
	var ids []int64
	for _, pl := range p.Items {
		ids = append(ids, pl.AgentUserID)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func TestCoachingPlanScopes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		tm := newTeam(t, db)
		ctx, svc := tm.ctx, tm.svc

		// An agent creates their own plan; agent_user_id defaults to them.
		own, err := svc.CreateCoachingPlan(ctx, tm.asAgentA, roster.CoachingPlanInput{Title: roster.Some("Shorter wrap-up"),
			Goals: roster.Some("Wrap-up under 45 s"), DueDate: roster.Some("2026-12-31"), Note: roster.Some("Agreed with Lea")})
		must(t, err)
		if own.AgentUserID != tm.agentA.ID || own.Status != roster.PlanOpen || *own.DueDate != "2026-12-31" ||
			len(own.Notes) != 1 || !own.Notes[0].CreatedAt.Equal(*tm.clock) || own.CreatedByName != "ada" {
			t.Fatalf("own plan = %+v", own)
		}
		// ... but not one for somebody else.
		_, err = svc.CreateCoachingPlan(ctx, tm.asAgentA, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentB.ID), Title: roster.Some("x")})
		wantCode(t, err, roster.EInvalid)
		wantField(t, err, "agent_user_id")

		// The team leader manages the agents of both their teams (subteams
		// included), not those of Team C.
		forB, err := svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentB.ID), Title: roster.Some("Upselling")})
		must(t, err)
		forA1, err := svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentA1.ID), Title: roster.Some("Empathy"),
			Status: roster.Some(roster.PlanInProgress)})
		must(t, err)
		_, err = svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agent.ID), Title: roster.Some("x")})
		wantField(t, err, "agent_user_id")
		// An admin (signed in or by token) manages everyone's.
		forC, err := svc.CreateCoachingPlan(ctx, tm.asAdmin, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agent.ID), Title: roster.Some("Product training")})
		must(t, err)
		_, err = svc.CreateCoachingPlan(ctx, tm.admin, roster.CoachingPlanInput{Title: roster.Some("no agent")})
		wantField(t, err, "agent_user_id")

		// Lists show only what each may see.
		list := func(a *roster.Actor, q roster.CoachingPlanQuery) *roster.Page[roster.CoachingPlan] {
			t.Helper()
			p, err := svc.ListCoachingPlans(ctx, a, q)
			must(t, err)
			return p
		}
		if got := planAgents(list(tm.asAgentA, roster.CoachingPlanQuery{})); !slices.Equal(got, []int64{tm.agentA.ID}) {
			t.Fatalf("the agent sees the plans of %v", got)
		}
		if got := planAgents(list(tm.asLead, roster.CoachingPlanQuery{})); !slices.Equal(got, sortedIDs(tm.agentA.ID, tm.agentA1.ID, tm.agentB.ID)) {
			t.Fatalf("the team leader sees the plans of %v", got)
		}
		for _, a := range []*roster.Actor{tm.asAdmin, tm.admin} {
			if got := list(a, roster.CoachingPlanQuery{}); got.Total != 4 {
				t.Fatalf("an admin sees %d plans, want 4", got.Total)
			}
		}
		if got := list(tm.asLead, roster.CoachingPlanQuery{Status: "in_progress"}); got.Total != 1 || got.Items[0].ID != forA1.ID {
			t.Fatalf("in-progress plans of the team leader = %+v", got.Items)
		}
		if got := list(tm.asAdmin, roster.CoachingPlanQuery{AgentUserID: fmt.Sprint(tm.agent.ID)}); got.Total != 1 || got.Items[0].ID != forC.ID {
			t.Fatalf("plans of agent C = %+v", got.Items)
		}
		if got := list(tm.asLead, roster.CoachingPlanQuery{AgentUserID: fmt.Sprint(tm.agent.ID)}); got.Total != 0 {
			t.Fatalf("the team leader sees %d plans of agent C", got.Total)
		}

		// Single reads and edits out of scope are "not found".
		_, err = svc.CoachingPlan(ctx, tm.asLead, forC.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = svc.UpdateCoachingPlan(ctx, tm.asLead, forC.ID, roster.CoachingPlanInput{Status: roster.Some(roster.PlanDone)})
		wantCode(t, err, roster.ENotFound)
		_, err = svc.CoachingPlan(ctx, tm.asAgentA, forB.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = svc.AddCoachingNote(ctx, tm.asAgentA, forB.ID, "peek")
		wantCode(t, err, roster.ENotFound)

		// The team leader edits their agents' plans; notes pile up with times.
		*tm.clock = tm.clock.Add(time.Hour)
		upd, err := svc.UpdateCoachingPlan(ctx, tm.asLead, own.ID, roster.CoachingPlanInput{Status: roster.Some(roster.PlanInProgress),
			Note: roster.Some("First review: 52 s on average")})
		must(t, err)
		if upd.Status != roster.PlanInProgress || len(upd.Notes) != 2 || upd.Notes[1].AuthorName != "lea" || !upd.Notes[1].CreatedAt.Equal(*tm.clock) {
			t.Fatalf("updated plan = %+v", upd)
		}
		// The agent tracks their own plan to the end.
		done, err := svc.UpdateCoachingPlan(ctx, tm.asAgentA, own.ID, roster.CoachingPlanInput{Status: roster.Some(roster.PlanDone), DueDate: roster.Opt[string]{Set: true, Null: true}})
		must(t, err)
		if done.Status != roster.PlanDone || done.DueDate != nil {
			t.Fatalf("finished plan = %+v", done)
		}
		got, err := svc.CoachingPlan(ctx, tm.asAgentA, own.ID)
		must(t, err)
		if got.Status != roster.PlanDone || len(got.Notes) != 2 || got.Notes[0].Text != "Agreed with Lea" {
			t.Fatalf("plan read back = %+v", got)
		}

		// Bad input names the fields and changes nothing.
		before := tm.auditCount(t)
		_, err = svc.UpdateCoachingPlan(ctx, tm.asLead, forB.ID, roster.CoachingPlanInput{Status: roster.Some("finished"),
			DueDate: roster.Some("31.12.2026"), Title: roster.Some(" "), AgentUserID: roster.Some(tm.agentA.ID)})
		wantCode(t, err, roster.EInvalid)
		for _, field := range []string{"status", "due_date", "title", "agent_user_id"} {
			wantField(t, err, field)
		}
		_, err = svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentB.ID)})
		wantField(t, err, "title")
		_, err = svc.ListCoachingPlans(ctx, tm.asLead, roster.CoachingPlanQuery{Status: "later", Sort: "title"})
		wantField(t, err, "status")
		wantField(t, err, "sort")
		if tm.auditCount(t) != before {
			t.Fatal("refused input wrote an audit event")
		}
		if p, _ := svc.CoachingPlan(ctx, tm.asLead, forB.ID); p.Status != roster.PlanOpen || p.Title != "Upselling" {
			t.Fatalf("a refused change changed the plan: %+v", p)
		}

		// Without a coaching permission there are no plans at all.
		_, err = svc.ListCoachingPlans(ctx, tm.readOnly, roster.CoachingPlanQuery{})
		wantCode(t, err, roster.EForbidden)
		// Every change is audited.
		p, err := svc.ListAudit(ctx, tm.admin, roster.AuditFilter{Target: fmt.Sprintf("coaching_plan:%d", own.ID), PerPage: 10})
		must(t, err)
		if p.Total != 3 || p.Items[2].Action != "coaching_plan.create" || p.Items[0].ActorName != "ada" {
			t.Fatalf("audit of the plan = %+v", p.Items)
		}
	})
}

func TestMyTeam(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		tm := newTeam(t, db)
		ctx, svc := tm.ctx, tm.svc

		// Interactions: Ada has two agent IDs (voice and chat), Bob and Cyd one.
		day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
		var rows []json.RawMessage
		add := func(src, agent string, at time.Time) {
			rows = append(rows, json.RawMessage(fmt.Sprintf(`{"source": %q, "external_id": "x%d", "agent_external_id": %q, "started_at": %q, "duration_s": 60}`,
				src, len(rows), agent, at.Format(time.RFC3339))))
		}
		add("voice", "4711", day(2, 9))
		add("voice", "4711", day(10, 9))
		add("chat", "ada.k", day(20, 15))
		add("voice", "4711", day(22, 8))
		add("voice", "4711", day(3, 9)) // before the period asked for below
		add("voice", "4712", day(12, 10))
		add("voice", "4799", day(12, 11))
		_, err := svc.IngestInteractions(ctx, tm.admin, rows)
		must(t, err)
		assign := func(u *roster.User, refs ...string) {
			t.Helper()
			var rs []roster.AgentRef
			for _, r := range refs {
				rs = append(rs, roster.ParseAgentRef(r))
			}
			_, err := svc.SetUserAgents(ctx, tm.admin, u.ID, rs)
			must(t, err)
		}
		assign(tm.agentA, "voice:4711", "chat:ada.k")
		assign(tm.agentB, "voice:4712")
		assign(tm.agent, "voice:4799")
		_, err = svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentA.ID), Title: roster.Some("Open one")})
		must(t, err)
		done, err := svc.CreateCoachingPlan(ctx, tm.asLead, roster.CoachingPlanInput{AgentUserID: roster.Some(tm.agentA.ID), Title: roster.Some("Done one"), Status: roster.Some(roster.PlanDone)})
		must(t, err)

		// A fellow team leader in the same team is no agent of the team.
		fellow := tm.fixture.userInput("tia")
		fellow.Roles = roster.Some([]string{roster.RoleTeamLeader})
		fellow.GroupAccess = roster.Some([]int64{tm.fixture.team.ID})
		_, err = svc.CreateUser(ctx, tm.admin, fellow)
		must(t, err)

		// The team leader over two teams: their agents, not Team C's, not
		// themself, not the fellow team leader.
		mt, err := svc.MyTeam(ctx, tm.asLead, roster.MyTeamQuery{From: "2026-11-04", To: "2026-11-23"})
		must(t, err)
		var names []string
		byName := map[string]roster.TeamMember{}
		for _, m := range mt.Items {
			names = append(names, m.User.Username)
			byName[m.User.Username] = m
		}
		if want := []string{"abe", "ada", "bob"}; !slices.Equal(names, want) || mt.Total != 3 {
			t.Fatalf("the team leader's team = %v (total %d), want %v", names, mt.Total, want)
		}
		ada := byName["ada"]
		if ada.Interactions != 3 || ada.LastActivityAt == nil || !ada.LastActivityAt.Equal(day(22, 8)) || len(ada.AgentIDs) != 2 {
			t.Fatalf("ada on My Team = %+v", ada)
		}
		if len(ada.OpenPlans) != 1 || ada.OpenPlans[0].Title != "Open one" || ada.OpenPlans[0].ID == done.ID {
			t.Fatalf("ada's open plans = %+v", ada.OpenPlans)
		}
		if b := byName["bob"]; b.Interactions != 1 || len(b.AgentIDs) != 1 || b.AgentIDs[0].ExternalID != "4712" || len(b.OpenPlans) != 0 {
			t.Fatalf("bob on My Team = %+v", b)
		}
		if a := byName["abe"]; a.Interactions != 0 || a.LastActivityAt != nil || len(a.AgentIDs) != 0 {
			t.Fatalf("abe on My Team = %+v", a)
		}
		// Without a period: the last 30 days up to now.
		mt, err = svc.MyTeam(ctx, tm.asLead, roster.MyTeamQuery{})
		must(t, err)
		if !mt.To.Equal(*tm.clock) || !mt.From.Equal(tm.clock.Add(-30*24*time.Hour)) {
			t.Fatalf("default period = %s .. %s", mt.From, mt.To)
		}
		for _, m := range mt.Items {
			if m.User.Username == "ada" && m.Interactions != 5 {
				t.Fatalf("ada over 30 days: %d interactions, want 5", m.Interactions)
			}
		}

		// An admin's team is every agent; an agent has no team page.
		mt, err = svc.MyTeam(ctx, tm.asAdmin, roster.MyTeamQuery{})
		must(t, err)
		if mt.Total != 4 {
			t.Fatalf("the admin's team has %d users, want the 4 agents", mt.Total)
		}
		_, err = svc.MyTeam(ctx, tm.asAgentA, roster.MyTeamQuery{})
		wantCode(t, err, roster.EForbidden)
		// Bad periods are field errors.
		_, err = svc.MyTeam(ctx, tm.asLead, roster.MyTeamQuery{From: "2026-11-23", To: "2026-11-01"})
		wantField(t, err, "to")
		_, err = svc.MyTeam(ctx, tm.asLead, roster.MyTeamQuery{From: "yesterday", PerPage: "7"})
		wantField(t, err, "from")
		wantField(t, err, "per_page")
	})
}
