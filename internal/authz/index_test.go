package authz

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// world is a tenant with a three-level tree:
//
//	1 Corp
//	├── 10 Sales ── 11 North, 12 South
//	└── 20 Support ── 21 Voice, 22 Chat
//
// roles: 1 admin (tenant), 2 team leader (groups), 3 agent (self),
// 4 identified-only (groups, insights only).
type world struct {
	src *MemorySource
	idx *Index
	ctx context.Context
}

const tenant = 7

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{src: NewMemorySource(), ctx: context.Background()}
	w.src.PutRole(tenant, Role{ID: 1, Scope: ScopeTenant, Permissions: []string{"insights.view", "users.view"}})
	w.src.PutRole(tenant, Role{ID: 2, Scope: ScopeGroups, Permissions: []string{"insights.view", "team.view", "coaching.manage"}})
	w.src.PutRole(tenant, Role{ID: 3, Scope: ScopeSelf, Permissions: []string{"self.view", "coaching.manage"}})
	w.src.PutRole(tenant, Role{ID: 4, Scope: ScopeGroups, Permissions: []string{"insights.view"}})
	for _, g := range []Group{{1, 0}, {10, 1}, {11, 10}, {12, 10}, {20, 1}, {21, 20}, {22, 20}} {
		w.src.PutGroup(tenant, g)
	}
	w.src.PutUser(tenant, User{ID: 100, Active: true, GroupID: 1, RoleIDs: []int64{1}})                                      // admin
	w.src.PutUser(tenant, User{ID: 101, Active: true, GroupID: 10, RoleIDs: []int64{2}, Access: []int64{11, 21}})            // leads North and Voice
	w.src.PutUser(tenant, User{ID: 102, Active: true, GroupID: 11, RoleIDs: []int64{3}})                                     // agent in North
	w.src.PutUser(tenant, User{ID: 103, Active: true, GroupID: 21, RoleIDs: []int64{3}, Roaming: true, Access: []int64{20}}) // roaming, Support
	w.src.PutUser(tenant, User{ID: 104, Active: true, GroupID: 12, RoleIDs: []int64{3, 4}, Access: []int64{12}})             // agent + identified-only South
	w.src.PutUser(tenant, User{ID: 105, Active: false, GroupID: 1, RoleIDs: []int64{1}})                                     // deactivated admin
	// Agent IDs in two sources: 102 holds voice 1000 and chat 1001; 103 holds
	// voice 1002; 1003 is unassigned, last seen in South; 1004 in Chat.
	w.src.PutAgent(tenant, Agent{ID: 1000, UserID: 102, LastGroupID: 21})
	w.src.PutAgent(tenant, Agent{ID: 1001, UserID: 102, LastGroupID: 22})
	w.src.PutAgent(tenant, Agent{ID: 1002, UserID: 103})
	w.src.PutAgent(tenant, Agent{ID: 1003, LastGroupID: 12})
	w.src.PutAgent(tenant, Agent{ID: 1004, LastGroupID: 22})
	w.idx = New(w.src, Options{})
	return w
}

func (w *world) check(t *testing.T, user int64, perm string, group, agent int64) bool {
	t.Helper()
	ok, err := w.idx.Check(w.ctx, tenant, user, perm, group, agent)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestCheckScopes(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name         string
		user         int64
		perm         string
		group, agent int64
		want         bool
	}{
		{"admin anywhere", 100, "insights.view", 22, 0, true},
		{"admin any agent", 100, "insights.view", 0, 1003, true},
		{"admin lacks permission", 100, "self.view", 0, 0, false},
		{"admin unknown group", 100, "insights.view", 999, 0, false},
		{"deactivated admin", 105, "insights.view", 0, 0, false},

		{"leader own team", 101, "team.view", 11, 0, true},
		{"leader second team", 101, "team.view", 21, 0, true},
		{"leader other team", 101, "team.view", 12, 0, false},
		{"leader parent of team", 101, "team.view", 10, 0, false},
		{"leader agent by holder's home", 101, "team.view", 0, 1000, true},
		{"leader unassigned agent by last group", 101, "team.view", 0, 1003, false},
		{"leader roaming agent's home", 101, "team.view", 0, 1002, true},
		{"leader interaction in their group by a foreign agent", 101, "insights.view", 21, 1004, true},
		{"leader lacks permission", 101, "users.view", 11, 0, false},
		{"leader without resource", 101, "team.view", 0, 0, true},

		{"agent own voice ID", 102, "self.view", 0, 1000, true},
		{"agent own chat ID", 102, "self.view", 0, 1001, true},
		{"agent other's ID", 102, "self.view", 0, 1002, false},
		{"agent own ID in any group", 102, "self.view", 22, 1001, true},
		{"agent a group", 102, "self.view", 11, 0, false},
		{"agent without resource", 102, "self.view", 0, 0, true},

		{"roaming agent own ID", 103, "self.view", 0, 1002, true},
		{"roaming agent group of access subtree", 103, "self.view", 22, 0, true},
		{"roaming agent other's unassigned ID in access", 103, "self.view", 0, 1004, true},
		{"roaming agent other's ID held outside access", 103, "self.view", 0, 1001, false},
		{"roaming agent outside access", 103, "self.view", 11, 0, false},
		{"roaming agent other's ID outside access", 103, "self.view", 0, 1003, false},

		{"two roles: self permission is self-scoped", 104, "self.view", 0, 1003, false},
		{"two roles: insights through groups role", 104, "insights.view", 0, 1003, true},
		{"two roles: insights elsewhere", 104, "insights.view", 11, 0, false},
		{"two roles: coaching only own", 104, "coaching.manage", 12, 0, false},
	}
	for _, c := range cases {
		if got := w.check(t, c.user, c.perm, c.group, c.agent); got != c.want {
			t.Errorf("%s: check(%d, %s, group %d, agent %d) = %v, want %v", c.name, c.user, c.perm, c.group, c.agent, got, c.want)
		}
	}
	if _, err := w.idx.Check(w.ctx, tenant, 999, "insights.view", 0, 0); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("unknown user: %v", err)
	}
	// Another tenant's partition knows none of it.
	if _, err := w.idx.Check(w.ctx, tenant+1, 100, "insights.view", 0, 0); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("user of another tenant: %v", err)
	}
}

func TestScopeAndVisible(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		user   int64
		perms  []string
		want   Visible
		groups []int64
	}{
		{100, nil, Visible{All: true, GroupIDs: []int64{}, AgentIDs: []int64{}}, nil},
		{101, []string{"team.view"}, Visible{GroupIDs: []int64{11, 21}, AgentIDs: []int64{1000, 1001, 1002}}, nil},
		{102, nil, Visible{GroupIDs: []int64{}, AgentIDs: []int64{1000, 1001}}, nil},
		{103, nil, Visible{GroupIDs: []int64{20, 21, 22}, AgentIDs: []int64{1002, 1004}}, nil},
		// Union of both roles, and per permission only the roles granting it.
		{104, nil, Visible{GroupIDs: []int64{12}, AgentIDs: []int64{1003}}, nil},
		{104, []string{"self.view"}, Visible{GroupIDs: []int64{}, AgentIDs: []int64{}}, nil},
		{105, nil, Visible{GroupIDs: []int64{}, AgentIDs: []int64{}}, nil},
	}
	for _, c := range cases {
		got, err := w.idx.VisibleTo(w.ctx, tenant, c.user, c.perms...)
		if err != nil {
			t.Fatal(err)
		}
		if got.All != c.want.All || !slices.Equal(got.GroupIDs, c.want.GroupIDs) || !slices.Equal(got.AgentIDs, c.want.AgentIDs) {
			t.Errorf("user %d %v: visible %+v, want %+v", c.user, c.perms, got, c.want)
		}
	}
	s, err := w.idx.Scope(w.ctx, tenant, 103)
	if err != nil {
		t.Fatal(err)
	}
	if s.All || s.User != 103 || !slices.Equal(s.Agents, []int64{1002}) || !slices.Equal(s.Groups, []int64{20, 21, 22}) {
		t.Errorf("roaming agent scope %+v", s)
	}
}

// Changes reach a loaded partition on Sync, one entity at a time.
func TestPatches(t *testing.T) {
	w := newWorld(t)
	if !w.check(t, 101, "team.view", 0, 1000) {
		t.Fatal("setup")
	}
	// The agent of North moves to South: their agent IDs follow their home group.
	w.src.PutUser(tenant, User{ID: 102, Active: true, GroupID: 12, RoleIDs: []int64{3}})
	if !w.check(t, 101, "team.view", 0, 1000) {
		t.Fatal("a change is applied before Sync")
	}
	must(t, w.idx.Sync(w.ctx))
	if w.check(t, 101, "team.view", 0, 1000) || !w.check(t, 104, "insights.view", 0, 1000) {
		t.Error("moving the holder did not move the agent IDs")
	}
	// The unassigned South agent ID is given to the roaming agent (home Voice).
	w.src.PutAgent(tenant, Agent{ID: 1003, UserID: 103, LastGroupID: 12})
	must(t, w.idx.Sync(w.ctx))
	if !w.check(t, 103, "self.view", 0, 1003) || !w.check(t, 101, "team.view", 0, 1003) || w.check(t, 104, "insights.view", 0, 1003) {
		t.Error("assignment not applied")
	}
	// Released again, it falls back to the group of its latest interaction.
	w.src.PutAgent(tenant, Agent{ID: 1003, LastGroupID: 12})
	must(t, w.idx.Sync(w.ctx))
	if w.check(t, 103, "self.view", 0, 1003) || !w.check(t, 104, "insights.view", 0, 1003) {
		t.Error("release not applied")
	}
	// The team leader's Voice team moves under Sales; a new group under North
	// is in their scope as soon as it exists.
	w.src.PutGroup(tenant, Group{ID: 13, ParentID: 11})
	w.src.PutGroup(tenant, Group{ID: 21, ParentID: 10})
	must(t, w.idx.Sync(w.ctx))
	if !w.check(t, 101, "team.view", 13, 0) || w.check(t, 103, "self.view", 21, 0) {
		t.Error("group changes not applied")
	}
	// Role change: the team leader role loses team.view; a deleted user is unknown.
	w.src.PutRole(tenant, Role{ID: 2, Scope: ScopeGroups, Permissions: []string{"insights.view"}})
	w.src.Delete(tenant, KindUser, 104)
	w.src.Delete(tenant, KindAgent, 1004)
	must(t, w.idx.Sync(w.ctx))
	if w.check(t, 101, "team.view", 11, 0) || !w.check(t, 101, "insights.view", 11, 0) {
		t.Error("role change not applied")
	}
	if _, err := w.idx.Check(w.ctx, tenant, 104, "insights.view", 0, 0); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("deleted user: %v", err)
	}
	if w.check(t, 100, "insights.view", 0, 1004) {
		t.Error("deleted agent ID still known")
	}
	// A user created since the last sync is found (the index syncs on a miss).
	w.src.PutUser(tenant, User{ID: 106, Active: true, GroupID: 1, RoleIDs: []int64{1}})
	if !w.check(t, 106, "users.view", 0, 0) {
		t.Error("new user not found")
	}
}

// Without any Sync call, a partition is never older than MaxStale.
func TestBoundedStaleness(t *testing.T) {
	w := newWorld(t)
	w.idx = New(w.src, Options{MaxStale: 20 * time.Millisecond})
	if !w.check(t, 100, "users.view", 0, 0) {
		t.Fatal("setup")
	}
	w.src.PutUser(tenant, User{ID: 100, Active: false, GroupID: 1, RoleIDs: []int64{1}})
	time.Sleep(30 * time.Millisecond)
	if w.check(t, 100, "users.view", 0, 0) {
		t.Error("deactivation not seen after MaxStale")
	}
}

func TestTokenCache(t *testing.T) {
	w := newWorld(t)
	h := [32]byte{1}
	gen, err := w.idx.TokenGen(w.ctx)
	must(t, err)
	w.idx.PutToken(h, Token{ID: 5, TenantID: tenant, RoleID: 1}, gen)
	if _, ok, _ := w.idx.Token(w.ctx, h); !ok {
		t.Fatal("token not cached")
	}
	// A revocation drops it.
	w.src.LogToken(tenant, 5)
	must(t, w.idx.Sync(w.ctx))
	if _, ok, _ := w.idx.Token(w.ctx, h); ok {
		t.Fatal("revoked token still cached")
	}
	// What was read before a change is not cached after it.
	gen, _ = w.idx.TokenGen(w.ctx)
	w.src.PutRole(tenant, Role{ID: 1, Scope: ScopeTenant})
	must(t, w.idx.Sync(w.ctx))
	w.idx.PutToken(h, Token{ID: 5, TenantID: tenant, RoleID: 1}, gen)
	if _, ok, _ := w.idx.Token(w.ctx, h); ok {
		t.Fatal("a token read before a role change was cached")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
