// Package authz is the decision index: an in-memory, tenant-partitioned copy
// of what decides who may see what (roles, the group tree, users with their
// roles and group access, agent IDs and who holds them). It answers check and
// scope in microseconds, without the database.
//
// It is kept fresh from a change log the database writes in the transaction
// of every relevant change (triggers, see migration 0003): the core syncs the
// index right after each of its own commits, so a process never answers from
// a state older than its own writes, and a poller follows the writes of other
// processes (Run). A partition that has not been checked against the log for
// MaxStale is checked synchronously before it answers, which bounds the delay
// even without the poller.
package authz

import (
	"context"
	"time"
)

// Scope widths of roles.
const (
	ScopeTenant = "tenant"
	ScopeGroups = "groups"
	ScopeSelf   = "self"
)

// Change kinds in the log.
const (
	KindUser  = "user"
	KindRole  = "role"
	KindGroup = "group"
	KindAgent = "agent"
	KindToken = "token"
)

// Role is a role as the index needs it.
type Role struct {
	ID          int64
	Scope       string
	Permissions []string
}

// Group is a node of the tree; ParentID 0 for level 1.
type Group struct {
	ID, ParentID int64
}

// User is a user as the index needs it.
type User struct {
	ID      int64
	Active  bool
	GroupID int64 // home group
	Roaming bool
	RoleIDs []int64
	Access  []int64 // group access (roots of subtrees)
}

// Agent is an agent ID: who holds it, and the group of its latest interaction.
type Agent struct {
	ID          int64
	UserID      int64 // 0: unassigned
	LastGroupID int64 // 0: none
}

// TenantData is a whole tenant, for the first load of its partition.
type TenantData struct {
	Roles  []Role
	Groups []Group
	Users  []User
	Agents []Agent
}

// Change is one entry of the change log: something of Kind with RefID in
// TenantID changed (was created, updated or deleted).
type Change struct {
	TenantID int64
	Kind     string
	RefID    int64
}

// Cursor is a reader's position in the change log: every change up to ID is
// read, except those of transactions that were still running (Pending, by
// transaction id; PostgreSQL only), which are read once they commit.
type Cursor struct {
	ID      int64
	Pending []uint64
}

// Source reads the database. Lookups by ids return only what exists: an id
// that is missing from the answer was deleted.
type Source interface {
	// Head is the cursor after the latest committed change.
	Head(ctx context.Context) (Cursor, error)
	// Changes returns the changes after cur and the cursor after them.
	Changes(ctx context.Context, cur Cursor) ([]Change, Cursor, error)
	// PruneChanges deletes log entries older than before.
	PruneChanges(ctx context.Context, before time.Time) error

	LoadTenant(ctx context.Context, tenantID int64) (*TenantData, error)
	Roles(ctx context.Context, tenantID int64, ids []int64) ([]Role, error)
	Groups(ctx context.Context, tenantID int64, ids []int64) ([]Group, error)
	Users(ctx context.Context, tenantID int64, ids []int64) ([]User, error)
	Agents(ctx context.Context, tenantID int64, ids []int64) ([]Agent, error)
}
