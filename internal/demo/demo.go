// Package demo loads the demo tenant through the core, as an administrator
// would build it by hand.
package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Slug of the demo tenant.
const Slug = "demo"

// Info says how to use the demo.
type Info struct {
	Tenant     *roster.Tenant
	Created    bool   // false when the tenant existed already
	AdminToken string // a fresh admin API token
}

type person struct {
	username, name, role, group string
}

var people = []person{
	{"alex.admin", "Alex Admin", roster.RoleAdmin, "Demo Corp"},
	{"uma.user", "Uma User", roster.RoleUser, "Demo Corp"},
	{"tara.lead", "Tara Lead", roster.RoleTeamLeader, "Sales North"},
	{"theo.lead", "Theo Lead", roster.RoleTeamLeader, "Support Voice"},
	{"anna.agent", "Anna Agent", roster.RoleAgent, "Sales North"},
	{"arne.agent", "Arne Agent", roster.RoleAgent, "Sales South"},
	{"aiko.agent", "Aiko Agent", roster.RoleAgent, "Support Voice"},
	{"amir.agent", "Amir Agent", roster.RoleAgent, "Support Chat"},
	{"rita.readonly", "Rita Read-only", roster.RoleReadOnly, "Demo Corp"},
	{"ivan.identified", "Ivan Identified", roster.RoleIdentifiedOnly, "Support"},
	{"sven.scorer", "Sven Scorer", roster.RoleScorer, "Support"},
	{"olga.operator", "Olga Operator", roster.RoleOperator, "Support Chat"},
	{"carl.content", "Carl Content", roster.RoleContentManager, "Demo Corp"},
	{"ana.analyst", "Ana Analyst", roster.RoleAnalyst, "Demo Corp"},
	{"paul.producer", "Paul Producer", roster.RoleProducer, "Demo Corp"},
	{"emma.envmanager", "Emma Environment", roster.RoleEnvironmentManager, "Demo Corp"},
	{"dave.developer", "Dave Developer", roster.RoleDeveloper, "Demo Corp"},
}

// tree is the demo's three levels: parent name -> children.
var tree = [][2]string{
	{"Demo Corp", "Sales"}, {"Demo Corp", "Support"},
	{"Sales", "Sales North"}, {"Sales", "Sales South"},
	{"Support", "Support Voice"}, {"Support", "Support Chat"},
}

// Load creates the demo tenant once; on later starts it only issues a new
// admin token, because tokens are shown once and stored hashed.
func Load(ctx context.Context, svc *roster.Service) (*Info, error) {
	info := &Info{}
	t, err := svc.TenantBySlug(ctx, Slug)
	switch roster.ErrorCode(err) {
	case "":
	case roster.ENotFound:
		t, err = svc.CreateTenant(ctx, Slug, "Demo Corp")
		if err != nil {
			return nil, err
		}
		info.Created = true
		if err := populate(ctx, svc, roster.SystemActor(t.ID)); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	info.Tenant = t
	_, info.AdminToken, err = svc.CreateToken(ctx, roster.SystemActor(t.ID), roster.TokenInput{Name: "demo admin token", Role: roster.RoleAdmin})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func populate(ctx context.Context, svc *roster.Service, sys *roster.Actor) error {
	groups, err := svc.ListGroups(ctx, sys)
	if err != nil {
		return err
	}
	ids := map[string]int64{groups[0].Name: groups[0].ID}
	for _, edge := range tree {
		g, err := svc.CreateGroup(ctx, sys, roster.GroupInput{Name: roster.Some(edge[1]), ParentID: roster.Some(ids[edge[0]])})
		if err != nil {
			return err
		}
		ids[edge[1]] = g.ID
	}
	userIDs := map[string]int64{}
	for i, p := range people {
		in := roster.UserInput{
			Username: roster.Some(p.username),
			Name:     roster.Some(p.name),
			Email:    roster.Some(p.username + "@demo.example"),
			Language: roster.Some([]string{"en", "de"}[i%2]),
			GroupID:  roster.Some(ids[p.group]),
			Roles:    roster.Some([]string{p.role}),
		}
		if p.role == roster.RoleAgent {
			in.AgentNumber = roster.Some(int64(1000 + i))
		}
		if p.role == roster.RoleTeamLeader || p.role == roster.RoleIdentifiedOnly {
			in.GroupAccess = roster.Some([]int64{ids[p.group]})
		}
		u, err := createUser(ctx, svc, sys, in) // sign-in users get a password
		if err != nil {
			return fmt.Errorf("demo user %s: %w", p.username, err)
		}
		userIDs[p.username] = u.ID
	}
	// Agent IDs in two sources with a month of interactions.
	if err := agents(ctx, svc, sys, ids, userIDs); err != nil {
		return err
	}
	// Properties, skills, profiles and coaching plans.
	return contactCentre(ctx, svc, sys, ids, userIDs)
}

// HowTo renders the text printed at start.
func (i *Info) HowTo(baseURL string) string {
	var b strings.Builder
	if i.Created {
		fmt.Fprintf(&b, "Demo tenant %q loaded: %d groups on three levels, %d users in every built-in role.\n", Slug, len(tree)+1, len(people))
	} else {
		fmt.Fprintf(&b, "Demo tenant %q is already loaded.\n", Slug)
	}
	b.WriteString(signInHowTo(baseURL))
	fmt.Fprintf(&b, "Admin API token (shown once): %s\n", i.AdminToken)
	fmt.Fprintf(&b, "Try: curl -H 'Authorization: Bearer %s' %s/api/v1/users\n", i.AdminToken, baseURL)
	return b.String()
}
