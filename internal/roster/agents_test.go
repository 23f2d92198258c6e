package roster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// row is one ingest row.
type row map[string]any

func rows(rs ...row) []json.RawMessage {
	out := make([]json.RawMessage, len(rs))
	for i, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}

func call(source, ext, agent string, group int64, at time.Time) row {
	r := row{"source": source, "external_id": ext, "agent_external_id": agent, "agent_name": "Agent " + agent,
		"channel": source, "started_at": at.Format(time.RFC3339), "duration_s": 120}
	if group != 0 {
		r["group_id"] = group
	}
	return r
}

// scopeWorld is the fixture's three-level tree grown to two teams with
// subteams, agents in two sources, a team leader over two teams and a
// roaming agent:
//
//	root ── Team A ── Team A1
//	     └─ Team B ── Team B1
//
// lead (team leader): group access Team A1 and Team B (subtree: B, B1).
// anna (agent, home A1): voice:1 and chat:anna.   bert (agent, home B1): voice:2.
// rita (agent, roaming, home A, access Team B): voice:3.   carl (agent): none.
// voice:9 is unassigned, its latest interaction in root.
type scopeWorld struct {
	*fixture
	teamB, teamB1                  *roster.Group
	lead, anna, bert, rita, carl   *roster.User
	asLead, asAnna, asBert, asRita *roster.Actor
	asCarl                         *roster.Actor
	agents                         map[string]int64 // "voice:1" -> id
	calls                          map[string]int64 // "c1" -> interaction id
	ingestor                       *roster.Actor
	t0                             time.Time
}

func newScopeWorld(t *testing.T, db *store.DB) *scopeWorld {
	t.Helper()
	w := &scopeWorld{fixture: newFixture(t, db, "acme"), agents: map[string]int64{}, calls: map[string]int64{}}
	w.teamB = mustGroup(t, w.fixture, "Team B", &w.root.ID)
	w.teamB1 = mustGroup(t, w.fixture, "Team B1", &w.teamB.ID)
	w.ingestor = w.tokenActor(t, "admin")
	w.t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	res, err := w.svc.IngestInteractions(w.ctx, w.ingestor, rows(
		call("voice", "c1", "1", w.subteam.ID, w.t0),
		call("chat", "c2", "anna", w.subteam.ID, w.t0.Add(time.Minute)),
		call("voice", "c3", "2", w.teamB1.ID, w.t0.Add(2*time.Minute)),
		call("voice", "c4", "3", w.team.ID, w.t0.Add(3*time.Minute)),
		call("voice", "c5", "9", w.root.ID, w.t0.Add(4*time.Minute)),
		call("voice", "c6", "2", w.subteam.ID, w.t0.Add(5*time.Minute)),
	))
	must(t, err)
	if res.Inserted != 6 || res.Rejected != 0 {
		t.Fatalf("ingest = %+v", res)
	}
	agents, err := w.svc.ListAgents(w.ctx, w.admin, roster.AgentQuery{PerPage: "100"})
	must(t, err)
	for _, g := range agents.Items {
		w.agents[g.Source+":"+g.ExternalID] = g.ID
	}
	calls, err := w.svc.ListInteractions(w.ctx, w.admin, roster.InteractionQuery{PerPage: "100"})
	must(t, err)
	for _, c := range calls.Items {
		w.calls[c.ExternalID] = c.ID
	}

	mk := func(name string, home int64, roles []string, access []int64, roaming bool, agents ...string) *roster.User {
		in := w.userInput(name)
		in.GroupID = roster.Some(home)
		in.Roles = roster.Some(roles)
		in.GroupAccess = roster.Some(access)
		in.Roaming = roster.Some(roaming)
		var refs []roster.AgentRef
		for _, a := range agents {
			refs = append(refs, roster.ParseAgentRef(a))
		}
		in.AgentIDs = roster.Some(refs)
		u, err := w.svc.CreateUser(w.ctx, w.admin, in)
		must(t, err)
		return u
	}
	w.lead = mk("lead", w.team.ID, []string{"team_leader"}, []int64{w.subteam.ID, w.teamB.ID}, false)
	w.anna = mk("anna", w.subteam.ID, []string{"agent"}, nil, false, "voice:1", "chat:anna")
	w.bert = mk("bert", w.teamB1.ID, []string{"agent"}, nil, false, "voice:2")
	w.rita = mk("rita", w.team.ID, []string{"agent"}, []int64{w.teamB.ID}, true, "voice:3")
	w.carl = mk("carl", w.team.ID, []string{"agent"}, nil, false)
	w.asLead, w.asAnna, w.asBert = w.actor(t, w.lead), w.actor(t, w.anna), w.actor(t, w.bert)
	w.asRita, w.asCarl = w.actor(t, w.rita), w.actor(t, w.carl)
	return w
}

func (w *scopeWorld) actor(t *testing.T, u *roster.User) *roster.Actor {
	t.Helper()
	a, err := w.svc.ActorForUser(w.ctx, w.tenant.ID, u.ID)
	must(t, err)
	return a
}

func (w *scopeWorld) callsOf(t *testing.T, a *roster.Actor, q roster.InteractionQuery) []string {
	t.Helper()
	q.PerPage = "100"
	p, err := w.svc.ListInteractions(w.ctx, a, q)
	must(t, err)
	var out []string
	for _, c := range p.Items {
		out = append(out, c.ExternalID)
	}
	slices.Sort(out)
	if p.Total != len(out) {
		t.Fatalf("total %d for %d items", p.Total, len(out))
	}
	return out
}

func (w *scopeWorld) agentsOf(t *testing.T, a *roster.Actor, q roster.AgentQuery) []string {
	t.Helper()
	q.PerPage = "100"
	p, err := w.svc.ListAgents(w.ctx, a, q)
	must(t, err)
	var out []string
	for _, g := range p.Items {
		out = append(out, g.Source+":"+g.ExternalID)
	}
	slices.Sort(out)
	return out
}

func wantList(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestScopeRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newScopeWorld(t, db)
		// Interactions: admin all; team leader their two teams' groups
		// (subtrees); agents their own agent IDs in both sources; the roaming
		// agent also the groups of their group access.
		wantList(t, "admin", w.callsOf(t, w.admin, roster.InteractionQuery{}), "c1", "c2", "c3", "c4", "c5", "c6")
		wantList(t, "team leader", w.callsOf(t, w.asLead, roster.InteractionQuery{}), "c1", "c2", "c3", "c6")
		wantList(t, "anna", w.callsOf(t, w.asAnna, roster.InteractionQuery{}), "c1", "c2")
		wantList(t, "bert", w.callsOf(t, w.asBert, roster.InteractionQuery{}), "c3", "c6")
		wantList(t, "roaming rita", w.callsOf(t, w.asRita, roster.InteractionQuery{}), "c3", "c4")
		wantList(t, "carl", w.callsOf(t, w.asCarl, roster.InteractionQuery{}))
		// Filters narrow within the scope, never widen it.
		wantList(t, "leader group=root", w.callsOf(t, w.asLead, roster.InteractionQuery{Group: fmt.Sprint(w.root.ID)}), "c1", "c2", "c3", "c6")
		wantList(t, "leader group=B", w.callsOf(t, w.asLead, roster.InteractionQuery{Group: fmt.Sprint(w.teamB.ID)}), "c3")
		wantList(t, "anna agent=voice:2", w.callsOf(t, w.asAnna, roster.InteractionQuery{AgentID: fmt.Sprint(w.agents["voice:2"])}))
		wantList(t, "admin from", w.callsOf(t, w.admin, roster.InteractionQuery{From: w.t0.Add(4 * time.Minute).Format(time.RFC3339)}), "c5", "c6")

		// Agent IDs: by their group (holder's home, else latest interaction).
		wantList(t, "leader agents", w.agentsOf(t, w.asLead, roster.AgentQuery{}), "chat:anna", "voice:1", "voice:2")
		wantList(t, "admin unassigned", w.agentsOf(t, w.admin, roster.AgentQuery{Assigned: "false"}), "voice:9")
		wantList(t, "admin search", w.agentsOf(t, w.admin, roster.AgentQuery{Q: "ANNA"}), "chat:anna")
		wantList(t, "admin by source", w.agentsOf(t, w.admin, roster.AgentQuery{Source: "chat"}), "chat:anna")
		_, err := w.svc.ListAgents(w.ctx, w.asAnna, roster.AgentQuery{})
		wantCode(t, err, roster.EForbidden)

		// The decision API answers the same.
		check := func(u *roster.User, perm string, group, agent int64) bool {
			t.Helper()
			ok, err := w.svc.Check(w.ctx, w.admin, roster.CheckInput{UserID: u.ID, Permission: perm, GroupID: group, AgentID: agent})
			must(t, err)
			return ok
		}
		if !check(w.lead, "team.view", w.teamB1.ID, 0) || check(w.lead, "team.view", w.team.ID, 0) ||
			!check(w.lead, "team.view", 0, w.agents["voice:1"]) || check(w.lead, "team.view", 0, w.agents["voice:3"]) {
			t.Error("team leader checks")
		}
		if !check(w.anna, "self.view", 0, w.agents["chat:anna"]) || check(w.anna, "self.view", 0, w.agents["voice:2"]) ||
			check(w.anna, "insights.view", 0, 0) {
			t.Error("agent checks")
		}
		if !check(w.rita, "self.view", w.teamB1.ID, 0) || check(w.rita, "self.view", w.subteam.ID, 0) {
			t.Error("roaming agent checks")
		}
		vis, err := w.svc.Scope(w.ctx, w.admin, w.lead.ID, "")
		must(t, err)
		if vis.All || !slices.Equal(vis.GroupIDs, []int64{w.subteam.ID, w.teamB.ID, w.teamB1.ID}) || len(vis.AgentIDs) != 3 {
			t.Errorf("leader scope %+v", vis)
		}
		vis, err = w.svc.Scope(w.ctx, w.admin, w.anna.ID, "")
		must(t, err)
		if !slices.Equal(vis.AgentIDs, sorted(w.agents["voice:1"], w.agents["chat:anna"])) || len(vis.GroupIDs) != 0 {
			t.Errorf("anna scope %+v", vis)
		}
		// Anyone may ask about themself; others need authz.check.
		_, err = w.svc.Scope(w.ctx, w.asAnna, w.anna.ID, "")
		must(t, err)
		_, err = w.svc.Check(w.ctx, w.asAnna, roster.CheckInput{UserID: w.bert.ID, Permission: "self.view"})
		wantCode(t, err, roster.EForbidden)
		_, err = w.svc.Check(w.ctx, w.admin, roster.CheckInput{UserID: 999999, Permission: "self.view"})
		wantCode(t, err, roster.ENotFound)
		_, err = w.svc.Check(w.ctx, w.admin, roster.CheckInput{UserID: w.anna.ID, Permission: "fly"})
		wantField(t, err, "permission")

		// A user manager scoped to Team B sees and changes only Team B's people.
		_, err = w.svc.CreateRole(w.ctx, w.admin, roster.RoleInput{Key: roster.Some("site_admin"), Name: roster.Some("Site admin"),
			Scope: roster.Some("groups"), Permissions: roster.Some([]string{"users.view", "users.manage", "groups.manage"}),
			AssignableRoles: roster.Some([]string{"agent"})})
		must(t, err)
		in := w.userInput("sam")
		in.Roles, in.GroupAccess, in.GroupID = roster.Some([]string{"site_admin"}), roster.Some([]int64{w.teamB.ID}), roster.Some(w.root.ID)
		sam, err := w.svc.CreateUser(w.ctx, w.admin, in)
		must(t, err)
		asSam := w.actor(t, sam)
		list, err := w.svc.ListUsers(w.ctx, asSam, roster.UserQuery{})
		must(t, err)
		var names []string
		for _, u := range list.Items {
			names = append(names, u.Username)
		}
		wantList(t, "site admin users", names, "bert", "sam")
		_, err = w.svc.User(w.ctx, asSam, w.anna.ID)
		wantCode(t, err, roster.ENotFound)
		_, err = w.svc.UpdateUser(w.ctx, asSam, w.anna.ID, roster.UserInput{Name: roster.Some("x")})
		wantCode(t, err, roster.ENotFound)
		// ... places people only in their groups, hands out no wider roles.
		in = w.userInput("newbie")
		in.GroupID = roster.Some(w.team.ID)
		_, err = w.svc.CreateUser(w.ctx, asSam, in)
		wantField(t, err, "group_id")
		in.GroupID = roster.Some(w.teamB1.ID)
		in.Roles = roster.Some([]string{"user"})
		_, err = w.svc.CreateUser(w.ctx, asSam, in)
		wantCode(t, err, roster.EForbidden)
		in.Roles = roster.Some([]string{"agent"})
		_, err = w.svc.CreateUser(w.ctx, asSam, in)
		must(t, err)
		groups, err := w.svc.ListGroups(w.ctx, asSam)
		must(t, err)
		if len(groups) != 2 {
			t.Errorf("site admin sees groups %+v", groups)
		}
		_, err = w.svc.CreateGroup(w.ctx, asSam, roster.GroupInput{Name: roster.Some("B2"), ParentID: roster.Some(w.team.ID)})
		wantField(t, err, "parent_id")
		_, err = w.svc.CreateGroup(w.ctx, asSam, roster.GroupInput{Name: roster.Some("B2"), ParentID: roster.Some(w.teamB.ID)})
		must(t, err)
		_, err = w.svc.Stats(w.ctx, asSam)
		wantCode(t, err, roster.EForbidden)
		_, _, err = w.svc.CreateToken(w.ctx, asSam, roster.TokenInput{Name: "x", Role: "agent"})
		wantCode(t, err, roster.EForbidden)
	})
}

func TestIngest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		before := f.auditCount(t)
		res, err := f.svc.IngestInteractions(ctx, f.admin, rows(
			call("voice", "c1", "4711", f.team.ID, t0),
			row{"source": "voice", "external_id": "c2"},                                                          // 1: agent and start missing
			call("Voice", "c3", "4711", f.subteam.ID, t0.Add(time.Hour)),                                         // 2: sources are case-insensitive
			call("voice", "c1", "4711", f.team.ID, t0),                                                           // 3: repeats row 0
			call("chat", "c4", "anna.k", 999999, t0),                                                             // 4: unknown group
			row{"source": "chat", "external_id": "c5", "agent_external_id": "anna.k", "started_at": "yesterday"}, // 5
			row{"source": "chat", "external_id": "c6", "agent_external_id": "anna.k", "started_at": t0.Format(time.RFC3339), "colour": "red"}, // 6
			call("chat", "c7", "anna.k", 0, t0.Add(2*time.Hour)),
		))
		must(t, err)
		if res.Inserted != 3 || res.Rejected != 5 || res.Updated != 0 {
			t.Fatalf("result %+v", res)
		}
		wantErr := map[int]string{1: "agent_external_id", 3: "external_id", 4: "group_id", 5: "started_at", 6: "colour"}
		for _, e := range res.Errors {
			if f, ok := wantErr[e.Index]; ok && f == e.Field {
				delete(wantErr, e.Index)
			}
		}
		if len(wantErr) > 0 {
			t.Errorf("missing row errors %v in %+v", wantErr, res.Errors)
		}
		if f.auditCount(t) != before+1 {
			t.Error("one batch is one audit event")
		}
		agents, err := f.svc.ListAgents(ctx, f.admin, roster.AgentQuery{})
		must(t, err)
		if agents.Total != 2 {
			t.Fatalf("agents %+v", agents.Items)
		}
		voice := agents.Items[1]
		if voice.Key().String() != "voice:4711" || voice.Interactions != 2 || !voice.FirstSeenAt.Equal(t0) ||
			!voice.LastSeenAt.Equal(t0.Add(time.Hour)) || *voice.GroupID != f.subteam.ID || voice.Name != "Agent 4711" {
			t.Errorf("voice agent %+v", voice)
		}

		// Idempotent: the same rows again change nothing; a changed row is
		// an update, and moving a call to another agent recounts both.
		res, err = f.svc.IngestInteractions(ctx, f.admin, rows(
			call("voice", "c1", "4711", f.team.ID, t0),
			call("voice", "c3", "4712", f.subteam.ID, t0.Add(time.Hour)),
		))
		must(t, err)
		if res.Inserted != 0 || res.Unchanged != 1 || res.Updated != 1 {
			t.Fatalf("second batch %+v", res)
		}
		agents, err = f.svc.ListAgents(ctx, f.admin, roster.AgentQuery{Source: "voice"})
		must(t, err)
		a1, a2 := agents.Items[0], agents.Items[1]
		if a1.Interactions != 1 || !a1.LastSeenAt.Equal(t0) || *a1.GroupID != f.team.ID || a2.Interactions != 1 || *a2.GroupID != f.subteam.ID {
			t.Errorf("after moving a call: %+v %+v", a1, a2)
		}
		// Batches are bounded; the audit event is written with the rows.
		_, err = f.svc.IngestInteractions(ctx, f.admin, nil)
		wantField(t, err, "interactions")
		_, err = f.svc.IngestInteractions(ctx, f.readOnly, rows(call("voice", "c9", "1", 0, t0)))
		wantCode(t, err, roster.EForbidden)
	})
}

// A batch mixing new rows, resent rows (unchanged and changed) and bad rows,
// with the resent ones late in a batch of several insert statements: ingest
// first writes as if all rows were new, then finds the resent ones and must
// leave no trace of that attempt.
func TestIngestMixedBatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		ctx := f.ctx
		t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		res, err := f.svc.IngestInteractions(ctx, f.admin, rows(
			call("voice", "old1", "7", f.team.ID, t0),
			call("voice", "old2", "7", f.team.ID, t0.Add(time.Minute)),
		))
		must(t, err)
		if res.Inserted != 2 {
			t.Fatalf("first batch %+v", res)
		}
		before := f.auditCount(t)
		var batch []row
		for i := range 1200 {
			batch = append(batch, call("voice", fmt.Sprintf("new%d", i), "8", f.subteam.ID, t0.Add(time.Duration(i)*time.Second)))
		}
		batch[700] = row{"source": "voice", "external_id": "bad"}                   // rejected: no agent, no start
		batch[1100] = call("voice", "old1", "7", f.team.ID, t0)                     // resent, unchanged
		batch[1150] = call("voice", "old2", "8", f.subteam.ID, t0.Add(2*time.Hour)) // resent, moved to agent 8
		batch[1199] = call("voice", "new1", "8", f.subteam.ID, t0.Add(time.Second)) // repeats row 1
		res, err = f.svc.IngestInteractions(ctx, f.admin, rows(batch...))
		must(t, err)
		if res.Inserted != 1196 || res.Unchanged != 1 || res.Updated != 1 || res.Rejected != 2 {
			t.Fatalf("mixed batch %+v", res)
		}
		if res.Errors[0].Index != 700 || res.Errors[len(res.Errors)-1].Index != 1199 {
			t.Errorf("errors %+v", res.Errors)
		}
		if f.auditCount(t) != before+1 {
			t.Error("one batch is one audit event")
		}
		all, err := f.svc.ListInteractions(ctx, f.admin, roster.InteractionQuery{PerPage: "10"})
		must(t, err)
		if all.Total != 1198 {
			t.Errorf("%d interactions stored, want 1198", all.Total)
		}
		agents, err := f.svc.ListAgents(ctx, f.admin, roster.AgentQuery{Source: "voice"})
		must(t, err)
		if agents.Total != 2 {
			t.Fatalf("agents %+v", agents.Items)
		}
		a7, a8 := agents.Items[0], agents.Items[1]
		if a7.Interactions != 1 || !a7.LastSeenAt.Equal(t0) || a8.Interactions != 1197 || !a8.FirstSeenAt.Equal(t0) ||
			!a8.LastSeenAt.Equal(t0.Add(2*time.Hour)) || *a8.GroupID != f.subteam.ID {
			t.Errorf("agents after the mixed batch: %+v %+v", a7, a8)
		}
		moved, err := f.svc.ListInteractions(ctx, f.admin, roster.InteractionQuery{AgentID: fmt.Sprint(a8.ID), Order: "desc", PerPage: "10"})
		must(t, err)
		if len(moved.Items) == 0 || moved.Items[0].ExternalID != "old2" || moved.Items[0].GroupID == nil || *moved.Items[0].GroupID != f.subteam.ID {
			t.Errorf("latest call of agent 8: %+v", moved.Items)
		}
		// The same batch again: nothing new, nothing changed.
		res, err = f.svc.IngestInteractions(ctx, f.admin, rows(batch...))
		must(t, err)
		if res.Inserted != 0 || res.Unchanged != 1198 || res.Updated != 0 || res.Rejected != 2 {
			t.Fatalf("batch resent %+v", res)
		}
		// Stored agent IDs: a newer call in another team moves agent 7 and
		// renames it; an older one of agent 8 only moves its first call back.
		newer := call("voice", "n7", "7", f.subteam.ID, t0.Add(3*time.Hour))
		newer["agent_name"] = "Agent Seven"
		older := call("voice", "o8", "8", f.team.ID, t0.Add(-time.Hour))
		older["agent_name"] = "Old Name"
		res, err = f.svc.IngestInteractions(ctx, f.admin, rows(newer, older))
		must(t, err)
		if res.Inserted != 2 {
			t.Fatalf("third batch %+v", res)
		}
		agents, err = f.svc.ListAgents(ctx, f.admin, roster.AgentQuery{Source: "voice"})
		must(t, err)
		a7, a8 = agents.Items[0], agents.Items[1]
		if a7.Interactions != 2 || !a7.FirstSeenAt.Equal(t0) || !a7.LastSeenAt.Equal(t0.Add(3*time.Hour)) || a7.Name != "Agent Seven" ||
			*a7.GroupID != f.subteam.ID {
			t.Errorf("agent 7 after a newer call: %+v", a7)
		}
		if a8.Interactions != 1198 || !a8.FirstSeenAt.Equal(t0.Add(-time.Hour)) || !a8.LastSeenAt.Equal(t0.Add(2*time.Hour)) ||
			a8.Name != "Agent 8" || *a8.GroupID != f.subteam.ID {
			t.Errorf("agent 8 after an older call: %+v", a8)
		}
		found, err := f.svc.ListAgents(ctx, f.admin, roster.AgentQuery{Q: "seven"})
		must(t, err)
		if found.Total != 1 {
			t.Errorf("search for the new name finds %d", found.Total)
		}
	})
}

func TestAgentAssignment(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newScopeWorld(t, db)
		ctx := w.ctx
		if !slices.Equal(w.anna.AgentIDs, sorted(w.agents["voice:1"], w.agents["chat:anna"])) {
			t.Fatalf("anna holds %v", w.anna.AgentIDs)
		}
		got, err := w.svc.User(ctx, w.admin, w.anna.ID)
		must(t, err)
		if !slices.Equal(got.AgentIDs, w.anna.AgentIDs) {
			t.Fatalf("read back %v", got.AgentIDs)
		}
		// An agent ID held by another user: 409 naming the holder.
		_, err = w.svc.SetUserAgents(ctx, w.admin, w.bert.ID, roster.AgentIDRefs(w.agents["voice:2"], w.agents["voice:1"]))
		wantCode(t, err, roster.EConflict)
		if !strings.Contains(roster.ErrorMessage(err), "anna") {
			t.Errorf("conflict does not name the holder: %v", err)
		}
		wantField(t, err, "agent_ids")
		// Only self-scoped roles hold agent IDs; unknown ones are field errors.
		_, err = w.svc.SetUserAgents(ctx, w.admin, w.lead.ID, roster.AgentIDRefs(w.agents["voice:9"]))
		wantField(t, err, "agent_ids")
		_, err = w.svc.SetUserAgents(ctx, w.admin, w.carl.ID, []roster.AgentRef{roster.ParseAgentRef("voice:404"), roster.ParseAgentRef("nonsense")})
		wantField(t, err, "agent_ids")
		// By key, and replacing the whole list.
		u, err := w.svc.SetUserAgents(ctx, w.admin, w.carl.ID, []roster.AgentRef{roster.ParseAgentRef("voice:9")})
		must(t, err)
		if !slices.Equal(u.AgentIDs, []int64{w.agents["voice:9"]}) {
			t.Fatalf("carl holds %v", u.AgentIDs)
		}
		wantList(t, "carl sees", w.callsOf(t, w.asCarl, roster.InteractionQuery{}), "c5")
		u, err = w.svc.UpdateUser(ctx, w.admin, w.anna.ID, roster.UserInput{AgentIDs: roster.Some(roster.AgentIDRefs(w.agents["chat:anna"]))})
		must(t, err)
		if !slices.Equal(u.AgentIDs, []int64{w.agents["chat:anna"]}) {
			t.Fatalf("anna holds %v", u.AgentIDs)
		}
		wantList(t, "anna sees", w.callsOf(t, w.asAnna, roster.InteractionQuery{}), "c2")
		wantList(t, "unassigned", w.agentsOf(t, w.admin, roster.AgentQuery{Assigned: "false"}), "voice:1")
		// Deleting a user frees their agent IDs.
		must(t, w.svc.DeleteUser(ctx, w.admin, w.carl.ID))
		wantList(t, "unassigned after delete", w.agentsOf(t, w.admin, roster.AgentQuery{Assigned: "false"}), "voice:1", "voice:9")
		// The audit log has the change with before and after.
		p, err := w.svc.ListAudit(ctx, w.admin, roster.AuditFilter{Action: "user.agents", PerPage: 10})
		must(t, err)
		if p.Total != 1 {
			t.Errorf("user.agents events %d", p.Total)
		}
	})
}

func TestMoveAndQueue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newScopeWorld(t, db)
		ctx := w.ctx
		// Logged on to a queue: neither moved nor deleted.
		_, err := w.svc.SetQueue(ctx, w.asBert, w.bert.ID, ptr(true)) // agents log themselves on
		must(t, err)
		_, err = w.svc.MoveUser(ctx, w.admin, w.bert.ID, roster.MoveInput{GroupID: w.team.ID})
		wantCode(t, err, roster.EConflict)
		if !strings.Contains(roster.ErrorMessage(err), "queue") {
			t.Errorf("unclear message: %v", err)
		}
		wantCode(t, w.svc.DeleteUser(ctx, w.admin, w.bert.ID), roster.EConflict)
		_, err = w.svc.UpdateUser(ctx, w.admin, w.bert.ID, roster.UserInput{GroupID: roster.Some(w.team.ID)})
		wantCode(t, err, roster.EConflict)
		_, err = w.svc.SetQueue(ctx, w.asAnna, w.bert.ID, ptr(false)) // but not others
		wantCode(t, err, roster.EForbidden)
		_, err = w.svc.SetQueue(ctx, w.admin, w.bert.ID, ptr(false))
		must(t, err)

		// Moving bert from B1 to A with his calls: the call in B1 follows, the
		// one he took in A1 stays; his agent ID now belongs to Team A.
		u, err := w.svc.MoveUser(ctx, w.admin, w.bert.ID, roster.MoveInput{GroupID: w.team.ID, MoveInteractions: true})
		must(t, err)
		if u.GroupID != w.team.ID {
			t.Fatalf("moved %+v", u)
		}
		wantList(t, "leader after move", w.callsOf(t, w.asLead, roster.InteractionQuery{}), "c1", "c2", "c6")
		wantList(t, "leader agents after move", w.agentsOf(t, w.asLead, roster.AgentQuery{}), "chat:anna", "voice:1")
		ok, err := w.svc.Check(ctx, w.admin, roster.CheckInput{UserID: w.lead.ID, Permission: "team.view", AgentID: w.agents["voice:2"]})
		must(t, err)
		if ok {
			t.Error("the decision index still has bert in Team B1")
		}
		// Without move_interactions, calls stay.
		_, err = w.svc.MoveUser(ctx, w.admin, w.bert.ID, roster.MoveInput{GroupID: w.teamB1.ID})
		must(t, err)
		wantList(t, "leader after second move", w.callsOf(t, w.asLead, roster.InteractionQuery{}), "c1", "c2", "c6")
		_, err = w.svc.MoveUser(ctx, w.admin, w.bert.ID, roster.MoveInput{GroupID: 999999})
		wantField(t, err, "group_id")
		p, err := w.svc.ListAudit(ctx, w.admin, roster.AuditFilter{Target: fmt.Sprintf("user:%d", w.bert.ID), Action: "user.", PerPage: 50})
		must(t, err)
		var actions []string
		for _, e := range p.Items {
			actions = append(actions, e.Action)
		}
		if !slices.Contains(actions, "user.move") || !slices.Contains(actions, "user.queue") {
			t.Errorf("audit %v", actions)
		}
	})
}

func TestImpersonation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newScopeWorld(t, db)
		ctx := w.ctx
		im, secret, err := w.svc.StartImpersonation(ctx, w.admin, w.anna.ID)
		must(t, err)
		if !roster.IsImpersonationSecret(secret) || im.UserID != w.anna.ID {
			t.Fatalf("impersonation %+v", im)
		}
		as, err := w.svc.AuthenticateImpersonation(ctx, secret)
		must(t, err)
		if as.ID != w.anna.ID || !as.ReadOnly || as.ImpersonatorID == nil || *as.ImpersonatorID != w.admin.ID {
			t.Fatalf("actor %+v", as)
		}
		// Anna's view: her scope, her permissions, read-only.
		wantList(t, "viewed as anna", w.callsOf(t, as, roster.InteractionQuery{}), "c1", "c2")
		_, err = w.svc.ListUsers(ctx, as, roster.UserQuery{})
		wantCode(t, err, roster.EForbidden)
		_, err = w.svc.SetQueue(ctx, as, w.anna.ID, ptr(true))
		wantCode(t, err, roster.EForbidden)
		_, _, err = w.svc.StartImpersonation(ctx, as, w.bert.ID)
		wantCode(t, err, roster.EForbidden)
		cur, err := w.svc.CurrentImpersonation(ctx, as)
		must(t, err)
		if cur.ID != im.ID {
			t.Errorf("current %+v", cur)
		}
		must(t, w.svc.StopImpersonation(ctx, as))
		_, err = w.svc.AuthenticateImpersonation(ctx, secret)
		wantCode(t, err, roster.EUnauthorized)
		p, err := w.svc.ListAudit(ctx, w.admin, roster.AuditFilter{Action: "impersonation.", PerPage: 10})
		must(t, err)
		if p.Total != 2 || p.Items[0].Action != "impersonation.stop" || p.Items[0].ImpersonatorID == nil ||
			*p.Items[0].ImpersonatorID != w.admin.ID || p.Items[1].Action != "impersonation.start" || p.Items[1].ActorID != w.admin.ID {
			t.Errorf("audit %+v", p.Items)
		}
		// Not as oneself, not someone outside one's scope or above one's rights.
		_, _, err = w.svc.StartImpersonation(ctx, w.readOnly, w.anna.ID)
		wantCode(t, err, roster.EForbidden)
		in := w.userInput("boss")
		in.Roles = roster.Some([]string{"admin"})
		boss, err := w.svc.CreateUser(ctx, w.admin, in)
		must(t, err)
		em := w.tokenActor(t, "environment_manager")
		_, _, err = w.svc.StartImpersonation(ctx, em, boss.ID)
		wantCode(t, err, roster.EForbidden)
		_, _, err = w.svc.StartImpersonation(ctx, w.actor(t, boss), boss.ID)
		wantField(t, err, "user_id")
		// Expired after the TTL.
		_, secret, err = w.svc.StartImpersonation(ctx, w.admin, w.bert.ID)
		must(t, err)
		*w.clock = w.clock.Add(roster.ImpersonationTTL)
		_, err = w.svc.AuthenticateImpersonation(ctx, secret)
		wantCode(t, err, roster.EUnauthorized)
	})
}

// TestDecisionIndexAcrossProcesses: a second service on the same database
// (another roster process) sees the first one's changes within the poll
// interval, and its own at once.
func TestDecisionIndexAcrossProcesses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newScopeWorld(t, db)
		other := roster.NewService(db, roster.Options{Clock: func() time.Time { return *w.clock }})
		ctx, cancel := context.WithCancel(w.ctx)
		defer cancel()
		go other.RunAuthzSync(ctx)
		admin := roster.SystemActor(w.tenant.ID)
		ask := func(svc *roster.Service) bool {
			ok, err := svc.Check(w.ctx, admin, roster.CheckInput{UserID: w.lead.ID, Permission: "team.view", GroupID: w.team.ID})
			must(t, err)
			return ok
		}
		if ask(other) || ask(w.svc) {
			t.Fatal("setup: the lead does not lead Team A yet")
		}
		_, err := w.svc.UpdateUser(w.ctx, w.admin, w.lead.ID, roster.UserInput{GroupAccess: roster.Some([]int64{w.team.ID})})
		must(t, err)
		if !ask(w.svc) {
			t.Fatal("stale in the process that made the change")
		}
		start := time.Now()
		for !ask(other) {
			if time.Since(start) > 2*time.Second {
				t.Fatal("the other process never saw the change")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if d := time.Since(start); d > 1200*time.Millisecond {
			t.Errorf("the other process took %s", d)
		}
		// Tokens: a role change reaches cached tokens too.
		_, secret, err := w.svc.CreateToken(w.ctx, w.admin, roster.TokenInput{Name: "integration", Role: "read_only"})
		must(t, err)
		a, err := other.AuthenticateToken(w.ctx, secret)
		must(t, err)
		if !a.Can("users.view") {
			t.Fatal("token permissions")
		}
		a, err = other.AuthenticateToken(w.ctx, secret) // cached now
		must(t, err)
		if !a.Can("users.view") {
			t.Fatal("cached token permissions")
		}
	})
}

func sorted(ids ...int64) []int64 {
	slices.Sort(ids)
	return ids
}

func ptr[T any](v T) *T { return &v }
