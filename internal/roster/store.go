package roster

import (
	"context"
	"time"
)

// Store is the persistence the core needs. The SQL implementation lives in
// internal/store; the core decides what a transaction contains, so a change
// and its audit event always commit together.
type Store interface {
	// InTx runs fn in one write transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Read returns the read queries outside a transaction. It has no
	// write methods, so a read path cannot change anything.
	Read() Reader
	Ping(ctx context.Context) error
	// RecordSignIn writes a sign-in atomically: it creates sess, sets the
	// user's last login to sess.CreatedAt and adds e, whose After (a JSON
	// object) gains the new session's id as its last member, "session_id".
	// It changes nothing the decision index holds.
	RecordSignIn(ctx context.Context, sess *Session, e *AuditEvent) error
	// PruneAuthzChanges deletes the decision index's change log before a
	// time, in short transactions of its own.
	PruneAuthzChanges(ctx context.Context, before time.Time) error
}

// Reader holds every read query. Lookups by id always include the tenant, so
// another tenant's ids behave exactly like ids that do not exist (ENotFound).
// Each area of the domain declares its queries in its own interfaces: its
// reads (xxxReader) and its writes (xxxTx).
type Reader interface {
	directoryReader
	LifecycleReader
	AgentsReader
	ContactCentreReader
	ConsoleReader
	SCIMReader
	OperationsReader
	WebhooksReader
	ImportReader
	SSOReader
	MFAReader // mfa_store.go
}

// Tx holds every query, reads and writes, inside one write transaction.
type Tx interface {
	Reader
	directoryTx
	LifecycleTx
	AgentsTx
	ContactCentreTx
	ConsoleTx
	SCIMTx
	conventionsTx
	WebhooksTx
	ImportTx
	SSOTx
	MFATx // mfa_store.go
}

// conventionsTx: versions and idempotency keys.
type conventionsTx interface {
	idempotencyTx
	// LockVersion locks the row of a versioned resource for the rest of the
	// transaction and returns its change time; ref is an id, or a property's key.
	LockVersion(ctx context.Context, kind string, tenantID int64, ref any) (time.Time, error)
	// TouchVersion sets a resource's change time, for changes kept in other
	// tables (a group's or a user's property values).
	TouchVersion(ctx context.Context, kind string, tenantID, id int64, at time.Time) error
}

// directoryReader and directoryTx: tenants, groups, roles, users, tokens and the audit log.
type directoryReader interface {
	TenantByID(ctx context.Context, id int64) (*Tenant, error)
	TenantBySlug(ctx context.Context, slug string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	// UserLanguages counts the tenant's users by language.
	UserLanguages(ctx context.Context, tenantID int64) (map[string]int, error)

	// Pending changes of a user's own email or mobile.
	ContactChanges(ctx context.Context, tenantID, userID int64) ([]ContactChange, error)
	UserSessions(ctx context.Context, tenantID, userID int64) ([]Session, error)

	Group(ctx context.Context, tenantID, id int64) (*Group, error)
	ListGroups(ctx context.Context, tenantID int64) ([]Group, error)
	GroupUsage(ctx context.Context, tenantID, id int64) (children, users int, err error)

	Role(ctx context.Context, tenantID, id int64) (*Role, error)
	ListRoles(ctx context.Context, tenantID int64) ([]Role, error)
	RoleHolders(ctx context.Context, tenantID, roleID int64) (int, error)

	User(ctx context.Context, tenantID, id int64) (*User, error)
	ListUsers(ctx context.Context, tenantID int64, f UserFilter) ([]User, int, error)
	// UserIDByField finds a user holding value in field ("username", "email",
	// "agent_number"), case-insensitively for text; 0 when none.
	UserIDByField(ctx context.Context, tenantID int64, field string, value any) (int64, error)
	UsedAgentNumbers(ctx context.Context, tenantID int64) ([]int64, error)
	CountUsers(ctx context.Context, tenantID int64) (UserCounts, error)

	TokenByHash(ctx context.Context, hash []byte) (*APIToken, error)
	Token(ctx context.Context, tenantID, id int64) (*APIToken, error)
	ListTokens(ctx context.Context, tenantID int64) ([]APIToken, error)
	// LiveTokenChildren lists the unrevoked tokens a token made.
	LiveTokenChildren(ctx context.Context, tenantID, parentID int64) ([]APIToken, error)

	ListAudit(ctx context.Context, tenantID int64, f AuditFilter) ([]AuditEvent, int, error)
}

// directoryTx holds the writes; a transaction has both.
type directoryTx interface {
	CreateTenant(ctx context.Context, t *Tenant) error
	UpdateTenant(ctx context.Context, t *Tenant) error

	PutContactChange(ctx context.Context, c *ContactChange) error
	DeleteContactChange(ctx context.Context, tenantID, userID int64, field string) error

	CreateGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, g *Group) error
	DeleteGroup(ctx context.Context, tenantID, id int64) error

	CreateRole(ctx context.Context, r *Role) error
	UpdateRole(ctx context.Context, r *Role) error
	DeleteRole(ctx context.Context, tenantID, id int64) error

	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, tenantID, id int64) error

	CreateToken(ctx context.Context, t *APIToken) error
	RevokeToken(ctx context.Context, tenantID, id int64, at time.Time) error
	// RevokeUserTokens revokes the live tokens bound to a user and returns them.
	RevokeUserTokens(ctx context.Context, tenantID, userID int64, at time.Time) ([]APIToken, error)
	TouchToken(ctx context.Context, tenantID, id int64, at time.Time) error

	AddAudit(ctx context.Context, e *AuditEvent) error
}

// UserCounts are the access statistics of a tenant.
type UserCounts struct {
	Active  int `json:"active_users"`
	Invited int `json:"invited_users"`
	Admin   int `json:"admin_users"`
	// Standard users are the active users who do not hold Admin.
	Standard int `json:"standard_users"`
}
