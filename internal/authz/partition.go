package authz

import (
	"slices"
	"sync"
)

// maxDepth guards walks up the tree against a cycle that a half-applied
// patch could show for a moment.
const maxDepth = 64

// partition is one tenant. Readers hold mu for reading; patches for writing.
type partition struct {
	mu      sync.RWMutex
	roles   map[int64]*role
	groups  map[int64]*group
	users   map[int64]*user
	agents  map[int64]agentRec
	owned   map[int64][]int64 // user id -> agent IDs they hold
	byGroup map[int64][]int64 // effective group -> agent IDs in it
}

type scopeWidth uint8

const (
	widthSelf scopeWidth = iota
	widthGroups
	widthTenant
)

func widthOf(scope string) scopeWidth {
	switch scope {
	case ScopeTenant:
		return widthTenant
	case ScopeGroups:
		return widthGroups
	}
	return widthSelf
}

type role struct {
	width scopeWidth
	perms map[string]struct{}
}

func (r *role) grants(perms []string) bool {
	if len(perms) == 0 {
		return true
	}
	for _, p := range perms {
		if _, ok := r.perms[p]; ok {
			return true
		}
	}
	return false
}

type group struct {
	parent   int64
	children []int64
}

type user struct {
	id      int64
	active  bool
	roaming bool
	home    int64
	roles   []int64
	access  []int64
}

// agentRec is an agent ID; group is its effective group: the holder's home
// group when it is assigned, else the group of its latest interaction.
type agentRec struct {
	holder, lastGroup, group int64
}

func newPartition(d *TenantData) *partition {
	p := &partition{
		roles:   make(map[int64]*role, len(d.Roles)),
		groups:  make(map[int64]*group, len(d.Groups)),
		users:   make(map[int64]*user, len(d.Users)),
		agents:  make(map[int64]agentRec, len(d.Agents)),
		owned:   map[int64][]int64{},
		byGroup: map[int64][]int64{},
	}
	for _, r := range d.Roles {
		p.setRole(r)
	}
	for _, g := range d.Groups {
		p.setGroup(g.ID, g.ParentID)
	}
	for _, u := range d.Users {
		p.users[u.ID] = newUser(u)
	}
	for _, a := range d.Agents {
		rec := agentRec{holder: a.UserID, lastGroup: a.LastGroupID}
		rec.group = p.effectiveGroup(rec)
		p.agents[a.ID] = rec
		if rec.holder != 0 {
			p.owned[rec.holder] = append(p.owned[rec.holder], a.ID)
		}
		if rec.group != 0 {
			p.byGroup[rec.group] = append(p.byGroup[rec.group], a.ID)
		}
	}
	return p
}

func newUser(u User) *user {
	return &user{id: u.ID, active: u.Active, roaming: u.Roaming, home: u.GroupID,
		roles: slices.Clone(u.RoleIDs), access: slices.Clone(u.Access)}
}

func (p *partition) setRole(r Role) {
	perms := make(map[string]struct{}, len(r.Permissions))
	for _, k := range r.Permissions {
		perms[k] = struct{}{}
	}
	p.roles[r.ID] = &role{width: widthOf(r.Scope), perms: perms}
}

func (p *partition) groupNode(id int64) *group {
	g := p.groups[id]
	if g == nil {
		g = &group{}
		p.groups[id] = g
	}
	return g
}

func (p *partition) setGroup(id, parent int64) {
	g := p.groupNode(id)
	if g.parent == parent {
		return
	}
	if g.parent != 0 {
		if old := p.groups[g.parent]; old != nil {
			old.children = remove(old.children, id)
		}
	}
	g.parent = parent
	if parent != 0 {
		pg := p.groupNode(parent)
		pg.children = append(pg.children, id)
	}
}

func (p *partition) deleteGroup(id int64) {
	g := p.groups[id]
	if g == nil {
		return
	}
	if g.parent != 0 {
		if old := p.groups[g.parent]; old != nil {
			old.children = remove(old.children, id)
		}
	}
	delete(p.groups, id)
}

func (p *partition) effectiveGroup(a agentRec) int64 {
	if a.holder != 0 {
		if u := p.users[a.holder]; u != nil {
			return u.home
		}
	}
	return a.lastGroup
}

func (p *partition) setAgent(a Agent) {
	old, had := p.agents[a.ID]
	rec := agentRec{holder: a.UserID, lastGroup: a.LastGroupID}
	rec.group = p.effectiveGroup(rec)
	if had && old == rec {
		return
	}
	if had {
		p.unlinkAgent(a.ID, old)
	}
	p.agents[a.ID] = rec
	if rec.holder != 0 {
		p.owned[rec.holder] = append(p.owned[rec.holder], a.ID)
	}
	if rec.group != 0 {
		p.byGroup[rec.group] = append(p.byGroup[rec.group], a.ID)
	}
}

func (p *partition) unlinkAgent(id int64, old agentRec) {
	if old.holder != 0 {
		if l := remove(p.owned[old.holder], id); len(l) > 0 {
			p.owned[old.holder] = l
		} else {
			delete(p.owned, old.holder)
		}
	}
	if old.group != 0 {
		if l := remove(p.byGroup[old.group], id); len(l) > 0 {
			p.byGroup[old.group] = l
		} else {
			delete(p.byGroup, old.group)
		}
	}
}

func (p *partition) deleteAgent(id int64) {
	if old, ok := p.agents[id]; ok {
		p.unlinkAgent(id, old)
		delete(p.agents, id)
	}
}

// regroupHeld recomputes the group of the agent IDs a user holds (their home
// group changed, or they appeared or went).
func (p *partition) regroupHeld(userID int64) {
	for _, id := range p.owned[userID] {
		rec := p.agents[id]
		g := p.effectiveGroup(rec)
		if g == rec.group {
			continue
		}
		if rec.group != 0 {
			if l := remove(p.byGroup[rec.group], id); len(l) > 0 {
				p.byGroup[rec.group] = l
			} else {
				delete(p.byGroup, rec.group)
			}
		}
		rec.group = g
		p.agents[id] = rec
		if g != 0 {
			p.byGroup[g] = append(p.byGroup[g], id)
		}
	}
}

func (p *partition) setUser(u User) {
	p.users[u.ID] = newUser(u)
	p.regroupHeld(u.ID)
}

func (p *partition) deleteUser(id int64) {
	delete(p.users, id)
	p.regroupHeld(id)
}

// remove deletes id from l (order is not kept).
func remove(l []int64, id int64) []int64 {
	for i, v := range l {
		if v == id {
			l[i] = l[len(l)-1]
			return l[:len(l)-1]
		}
	}
	return l
}

// under reports whether group g lies in one of the subtrees rooted at access.
func (p *partition) under(access []int64, g int64) bool {
	for depth := 0; g != 0 && depth < maxDepth; depth++ {
		if slices.Contains(access, g) {
			return true
		}
		n := p.groups[g]
		if n == nil {
			return false
		}
		g = n.parent
	}
	return false
}

// check: does u hold perm through a role whose scope covers the data of
// group g and/or agent ID a (0: not given)?
func (p *partition) check(u *user, perm string, g, a int64) bool {
	if !u.active {
		return false
	}
	if g != 0 && p.groups[g] == nil {
		return false
	}
	ag, agentKnown := p.agents[a]
	if a != 0 && !agentKnown {
		return false
	}
	for _, rid := range u.roles {
		r := p.roles[rid]
		if r == nil {
			continue
		}
		if _, ok := r.perms[perm]; !ok {
			continue
		}
		if p.covers(u, r.width, g, a, ag) {
			return true
		}
	}
	return false
}

// covers applies one role's scope to a piece of data: a group (an
// interaction's group) and/or an agent ID (whose interaction it is).
//   - tenant: everything.
//   - groups: the group, or when only an agent ID is given its effective
//     group, lies in the user's group access (subtrees included).
//   - self: the agent ID is the user's own; a roaming agent also covers the
//     groups of their group access, as a groups scope would.
func (p *partition) covers(u *user, w scopeWidth, g, a int64, ag agentRec) bool {
	switch w {
	case widthTenant:
		return true
	case widthGroups:
		switch {
		case g != 0:
			return p.under(u.access, g)
		case a != 0:
			return ag.group != 0 && p.under(u.access, ag.group)
		}
		return true
	}
	if a != 0 {
		if ag.holder == u.id {
			return true
		}
		if !u.roaming {
			return false
		}
		if g != 0 {
			return p.under(u.access, g)
		}
		return ag.group != 0 && p.under(u.access, ag.group)
	}
	if g != 0 {
		return u.roaming && p.under(u.access, g)
	}
	return true
}

// Scope is what a user may see through the roles that grant a permission:
// everything (All), or the data of Groups (the expanded subtrees), of their
// own agent IDs (Agents) and of themselves (User).
type Scope struct {
	All    bool
	Groups []int64 // sorted
	Agents []int64 // own agent IDs (self scope), sorted
	User   int64   // 0: not even themselves (no role matched, or not active)
	// Widest is the widest scope among the matching roles ("" when none):
	// the most a user may hand on to others.
	Widest string
}

func (p *partition) scope(u *user, perms []string) Scope {
	var s Scope
	if !u.active {
		return s
	}
	expand, own := false, false
	for _, rid := range u.roles {
		r := p.roles[rid]
		if r == nil || !r.grants(perms) {
			continue
		}
		switch r.width {
		case widthTenant:
			return Scope{All: true, User: u.id, Widest: ScopeTenant}
		case widthGroups:
			expand = true
			s.Widest = ScopeGroups
		case widthSelf:
			own = true
			expand = expand || u.roaming
			if s.Widest == "" {
				s.Widest = ScopeSelf
			}
		}
		s.User = u.id
	}
	if expand {
		s.Groups = p.expand(u.access)
	}
	if own {
		s.Agents = slices.Clone(p.owned[u.id])
		slices.Sort(s.Agents)
	}
	return s
}

// expand returns the groups of the subtrees rooted at roots, sorted.
func (p *partition) expand(roots []int64) []int64 {
	seen := make(map[int64]bool, len(roots)*8)
	out := make([]int64, 0, len(roots)*8)
	stack := slices.Clone(roots)
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := p.groups[g]
		if n == nil || seen[g] {
			continue
		}
		seen[g] = true
		out = append(out, g)
		stack = append(stack, n.children...)
	}
	slices.Sort(out)
	return out
}

// visibleAgents is every agent ID whose data s covers: the own ones and those
// whose effective group is in s.Groups. Sorted, without duplicates.
func (p *partition) visibleAgents(s Scope) []int64 {
	n := len(s.Agents)
	for _, g := range s.Groups {
		n += len(p.byGroup[g])
	}
	out := make([]int64, 0, n)
	out = append(out, s.Agents...)
	for _, g := range s.Groups {
		out = append(out, p.byGroup[g]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
