package authz

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemorySource is a Source held in memory: the index's own unit tests and
// the in-process benchmark use it to build tenants of any size without a
// database. Every Put or Delete appends to its change log, as the database
// triggers do.
type MemorySource struct {
	mu      sync.Mutex
	tenants map[int64]*memTenant
	log     []Change
}

type memTenant struct {
	roles  map[int64]Role
	groups map[int64]Group
	users  map[int64]User
	agents map[int64]Agent
}

// NewMemorySource returns an empty source.
func NewMemorySource() *MemorySource {
	return &MemorySource{tenants: map[int64]*memTenant{}}
}

func (m *MemorySource) tenant(id int64) *memTenant {
	t := m.tenants[id]
	if t == nil {
		t = &memTenant{roles: map[int64]Role{}, groups: map[int64]Group{}, users: map[int64]User{}, agents: map[int64]Agent{}}
		m.tenants[id] = t
	}
	return t
}

// PutRole adds or replaces a role.
func (m *MemorySource) PutRole(tenantID int64, r Role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(tenantID).roles[r.ID] = r
	m.log = append(m.log, Change{tenantID, KindRole, r.ID})
}

// PutGroup adds or replaces a group.
func (m *MemorySource) PutGroup(tenantID int64, g Group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(tenantID).groups[g.ID] = g
	m.log = append(m.log, Change{tenantID, KindGroup, g.ID})
}

// PutUser adds or replaces a user.
func (m *MemorySource) PutUser(tenantID int64, u User) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(tenantID).users[u.ID] = u
	m.log = append(m.log, Change{tenantID, KindUser, u.ID})
}

// PutAgent adds or replaces an agent ID.
func (m *MemorySource) PutAgent(tenantID int64, a Agent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tenant(tenantID).agents[a.ID] = a
	m.log = append(m.log, Change{tenantID, KindAgent, a.ID})
}

// Delete removes something of kind.
func (m *MemorySource) Delete(tenantID int64, kind string, id int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(tenantID)
	switch kind {
	case KindRole:
		delete(t.roles, id)
	case KindGroup:
		delete(t.groups, id)
	case KindUser:
		delete(t.users, id)
	case KindAgent:
		delete(t.agents, id)
	}
	m.log = append(m.log, Change{tenantID, kind, id})
}

// LogToken records a change of an API token.
func (m *MemorySource) LogToken(tenantID, tokenID int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, Change{tenantID, KindToken, tokenID})
}

// Head implements Source.
func (m *MemorySource) Head(context.Context) (Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Cursor{ID: int64(len(m.log))}, nil
}

// Changes implements Source.
func (m *MemorySource) Changes(_ context.Context, cur Cursor) ([]Change, Cursor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.log[min(int(cur.ID), len(m.log)):])
	return out, Cursor{ID: int64(len(m.log))}, nil
}

// PruneChanges implements Source; the memory log is never pruned.
func (m *MemorySource) PruneChanges(context.Context, time.Time) error { return nil }

// LoadTenant implements Source.
func (m *MemorySource) LoadTenant(_ context.Context, tenantID int64) (*TenantData, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tenant(tenantID)
	d := &TenantData{}
	for _, r := range t.roles {
		d.Roles = append(d.Roles, r)
	}
	for _, g := range t.groups {
		d.Groups = append(d.Groups, g)
	}
	for _, u := range t.users {
		d.Users = append(d.Users, u)
	}
	for _, a := range t.agents {
		d.Agents = append(d.Agents, a)
	}
	return d, nil
}

func pick[T any](m map[int64]T, ids []int64) []T {
	var out []T
	for _, id := range ids {
		if v, ok := m[id]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Roles implements Source.
func (m *MemorySource) Roles(_ context.Context, tenantID int64, ids []int64) ([]Role, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(m.tenant(tenantID).roles, ids), nil
}

// Groups implements Source.
func (m *MemorySource) Groups(_ context.Context, tenantID int64, ids []int64) ([]Group, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(m.tenant(tenantID).groups, ids), nil
}

// Users implements Source.
func (m *MemorySource) Users(_ context.Context, tenantID int64, ids []int64) ([]User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(m.tenant(tenantID).users, ids), nil
}

// Agents implements Source.
func (m *MemorySource) Agents(_ context.Context, tenantID int64, ids []int64) ([]Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pick(m.tenant(tenantID).agents, ids), nil
}
