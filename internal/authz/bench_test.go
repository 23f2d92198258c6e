package authz

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
)

// benchWorld is a tenant of 100k users, 10k groups (1 + 100 sites + teams)
// and 1M agent IDs, built in memory: the size the decision API's bar is
// stated for. cmd/roster-load measures the same on a real database.
var benchWorld = sync.OnceValues(func() (*Index, []checkArgs) {
	const users, groups, agents = 100_000, 10_000, 1_000_000
	src := NewMemorySource()
	src.PutRole(1, Role{ID: 1, Scope: ScopeTenant, Permissions: []string{"insights.view", "users.view"}})
	src.PutRole(1, Role{ID: 2, Scope: ScopeGroups, Permissions: []string{"insights.view", "team.view"}})
	src.PutRole(1, Role{ID: 3, Scope: ScopeSelf, Permissions: []string{"self.view"}})
	rng := rand.New(rand.NewPCG(1, 2))
	src.PutGroup(1, Group{ID: 1})
	var teams []int64
	for g := int64(2); g <= groups; g++ {
		if g <= 101 {
			src.PutGroup(1, Group{ID: g, ParentID: 1})
			continue
		}
		src.PutGroup(1, Group{ID: g, ParentID: 2 + g%100})
		teams = append(teams, g)
	}
	for u := int64(1); u <= users; u++ {
		home := teams[rng.IntN(len(teams))]
		switch {
		case u%50 == 0:
			src.PutUser(1, User{ID: u, Active: true, GroupID: home, RoleIDs: []int64{1}})
		case u%20 == 0:
			src.PutUser(1, User{ID: u, Active: true, GroupID: home, RoleIDs: []int64{2}, Access: []int64{home, teams[rng.IntN(len(teams))]}})
		default:
			src.PutUser(1, User{ID: u, Active: true, GroupID: home, RoleIDs: []int64{3}, Roaming: u%30 == 0, Access: []int64{2 + home%100}})
		}
	}
	for a := int64(1); a <= agents; a++ {
		holder := int64(0)
		if a <= 2*users {
			holder = (a + 1) / 2
		}
		src.PutAgent(1, Agent{ID: a, UserID: holder, LastGroupID: teams[rng.IntN(len(teams))]})
	}
	idx := New(src, Options{})
	perms := []string{"insights.view", "team.view", "self.view", "users.view"}
	args := make([]checkArgs, 1<<16)
	for i := range args {
		c := checkArgs{user: 1 + rng.Int64N(users), perm: perms[rng.IntN(len(perms))]}
		switch i % 3 {
		case 1:
			c.group = 1 + rng.Int64N(groups)
		case 2:
			c.agent = 1 + rng.Int64N(agents)
		}
		args[i] = c
	}
	if _, err := idx.Check(context.Background(), 1, 1, "insights.view", 0, 0); err != nil {
		panic(err)
	}
	return idx, args
})

type checkArgs struct {
	user, group, agent int64
	perm               string
}

// BenchmarkCheck: the bar is 2 µs per check in-process.
//
//	go test ./internal/authz -run '^$' -bench . -benchtime 2000000x
func BenchmarkCheck(b *testing.B) {
	idx, args := benchWorld()
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		c := args[i&(len(args)-1)]
		if _, err := idx.Check(ctx, 1, c.user, c.perm, c.group, c.agent); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	idx, args := benchWorld()
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(args))
		for pb.Next() {
			c := args[i&(len(args)-1)]
			if _, err := idx.Check(ctx, 1, c.user, c.perm, c.group, c.agent); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkScopeTeamLeader: a team leader over one site (about 10k agent IDs).
func BenchmarkScopeTeamLeader(b *testing.B) {
	idx, _ := benchWorld()
	ctx := context.Background()
	idx.src.(*MemorySource).PutUser(1, User{ID: 100_001, Active: true, GroupID: 2, RoleIDs: []int64{2}, Access: []int64{2}})
	if err := idx.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		v, err := idx.VisibleTo(ctx, 1, 100_001)
		if err != nil {
			b.Fatal(err)
		}
		n = len(v.AgentIDs)
	}
	b.ReportMetric(float64(n), "agent-ids")
}
