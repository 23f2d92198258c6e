package roster

import (
	"context"
	"time"

	"github.com/roster-dev/roster/internal/authz"
)

// AgentsReader and AgentsTx hold the queries of agent IDs, interactions,
// queue state, impersonations and the data behind the decision index.
type AgentsReader interface {
	// AgentIDsByID returns the tenant's agent IDs among ids (missing ones are
	// left out), with their effective group.
	AgentIDsByID(ctx context.Context, tenantID int64, ids []int64) ([]AgentID, error)
	// AgentIDsByKey returns the tenant's agent IDs with these source and
	// external ids.
	AgentIDsByKey(ctx context.Context, tenantID int64, keys []AgentKey) ([]AgentID, error)
	ListAgentIDs(ctx context.Context, tenantID int64, f AgentFilter) ([]AgentID, int, error)

	// InteractionsByKey returns the stored interactions of source among externalIDs.
	InteractionsByKey(ctx context.Context, tenantID int64, source string, externalIDs []string) ([]Interaction, error)
	ListInteractions(ctx context.Context, tenantID int64, f InteractionFilter) ([]Interaction, int, error)

	// ImpersonationByHash finds an impersonation of any tenant by its secret's hash.
	ImpersonationByHash(ctx context.Context, hash []byte) (*Impersonation, error)
	ImpersonationByID(ctx context.Context, tenantID, id int64) (*Impersonation, error)

	// The decision index's source (authz.Source), read outside transactions.
	AuthzHead(ctx context.Context) (authz.Cursor, error)
	AuthzChanges(ctx context.Context, cur authz.Cursor) ([]authz.Change, authz.Cursor, error)
	AuthzTenant(ctx context.Context, tenantID int64) (*authz.TenantData, error)
	AuthzRoles(ctx context.Context, tenantID int64, ids []int64) ([]authz.Role, error)
	AuthzGroups(ctx context.Context, tenantID int64, ids []int64) ([]authz.Group, error)
	AuthzUsers(ctx context.Context, tenantID int64, ids []int64) ([]authz.User, error)
	AuthzAgents(ctx context.Context, tenantID int64, ids []int64) ([]authz.Agent, error)
}

// AgentsTx holds the writes; a transaction has both.
type AgentsTx interface {
	// HoldAgentID gives the agent ID to userID unless another user holds it;
	// false when one does. The check and the change are one statement, so
	// two concurrent assignments cannot both win.
	HoldAgentID(ctx context.Context, tenantID, agentID, userID int64) (bool, error)
	// ReleaseAgentIDs unassigns the user's agent IDs except keep.
	ReleaseAgentIDs(ctx context.Context, tenantID, userID int64, keep []int64) error

	// LockIngest serializes ingest batches of one tenant (PostgreSQL; SQLite
	// has one writer anyway), so a batch sees the rows of the one before.
	LockIngest(ctx context.Context, tenantID int64) error
	// UpsertAgentIDs creates missing agent IDs and adds the deltas of an
	// ingest batch to all of them; it fills in the ids.
	UpsertAgentIDs(ctx context.Context, tenantID int64, rows []AgentDelta) error
	// WriteInteractions inserts new interactions and updates changed ones
	// (by source and external id).
	WriteInteractions(ctx context.Context, tenantID int64, rows []Interaction) error
	// InsertNewInteractions inserts rows that are expected to be new. It
	// skips those whose (source, external id) is stored already, and then
	// stops and returns false; the caller rolls the transaction back.
	InsertNewInteractions(ctx context.Context, tenantID int64, rows []Interaction) (bool, error)
	// RecountAgentIDs recomputes count, first/last seen and latest group of
	// agent IDs from their interactions.
	RecountAgentIDs(ctx context.Context, tenantID int64, ids []int64) error
	// MoveInteractions moves the interactions of the agent IDs that are in
	// group from to group to, and returns how many moved.
	MoveInteractions(ctx context.Context, tenantID int64, agentIDs []int64, from, to int64) (int64, error)

	CreateImpersonation(ctx context.Context, im *Impersonation) error
	EndImpersonation(ctx context.Context, tenantID, id int64, at time.Time) error
}

// AgentKey names an agent ID by its source and external id.
type AgentKey struct {
	Source     string
	ExternalID string
}

// AgentDelta is what one ingest batch adds to an agent ID.
type AgentDelta struct {
	ID           int64 // filled in by UpsertAgentIDs
	Key          AgentKey
	Name         string // the name on its latest interaction in the batch ("": keep)
	Interactions int64  // new interactions
	FirstSeen    *time.Time
	LastSeen     *time.Time // start of the latest interaction in the batch
	Group        int64      // group of the latest interaction with a group (0: none)
	GroupAt      *time.Time
	CreatedAt    time.Time
}

// AgentFilter selects agent IDs.
type AgentFilter struct {
	Query    string // substring of source:external_id or name
	Assigned *bool
	Source   string
	UserID   int64 // held by this user
	Scope    *ScopeFilter
	Sort     string // one of AgentSortKeys
	Desc     bool
	Page     int
	PerPage  int
}

// AgentSortKeys are the columns an agent list may be sorted by.
var AgentSortKeys = []string{"external_id", "name", "interactions", "last_seen_at"}

// InteractionFilter selects interactions.
type InteractionFilter struct {
	AgentID  int64
	GroupIDs []int64 // the interaction's group in this set (a subtree)
	From, To *time.Time
	Scope    *ScopeFilter
	Desc     bool // newest first
	Page     int
	PerPage  int
}

// ScopeFilter limits a list to what a scoped actor may see (nil: the whole
// tenant): rows in GroupIDs (expanded subtrees), rows of the agent IDs in
// AgentIDs, and the actor themself (UserID). Which column "in a group" means
// depends on the list: a user's home group, an agent ID's effective group,
// an interaction's group.
type ScopeFilter struct {
	GroupIDs []int64
	AgentIDs []int64
	UserID   int64
}
