package roster

import (
	"bytes"
	"encoding/json"
	"time"
)

// Tenant is one customer's organisation; every other row belongs to exactly one.
type Tenant struct {
	ID        int64          `json:"id"`
	Slug      string         `json:"slug"`
	Name      string         `json:"name"`
	Settings  TenantSettings `json:"settings"`
	CreatedAt time.Time      `json:"created_at"`
}

// TenantSettings are the per-tenant knobs (tenantsettings.go changes them).
type TenantSettings struct {
	InvitationExpiryDays int      `json:"invitation_expiry_days"`
	GroupDepth           int      `json:"group_depth"`
	MinPasswordLength    int      `json:"password_min_length"`
	Languages            []string `json:"languages"`
	DefaultLanguage      string   `json:"default_language"`
	BrandingName         string   `json:"branding_name"`
	// SCIM provisioning defaults (scim.go; set with roster scim defaults),
	// kept here so that a change of the other settings keeps them.
	SCIMDefaultGroup int64  `json:"scim_default_group,omitempty"`
	SCIMDefaultRole  string `json:"scim_default_role,omitempty"`
	SCIMGroupParent  int64  `json:"scim_group_parent,omitempty"`
	// MFAPolicy is who must use a second factor (mfa_policy.go): off,
	// optional, admins or all; MFARoles are roles whose holders must, too.
	MFAPolicy string   `json:"mfa_policy"`
	MFARoles  []string `json:"mfa_roles"`
}

// UnmarshalJSON also reads settings stored before the key was renamed
// (min_password_length).
func (ts *TenantSettings) UnmarshalJSON(b []byte) error {
	type plain TenantSettings
	var old struct {
		plain
		OldMinPasswordLength int `json:"min_password_length"`
	}
	old.plain = plain(*ts)
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	*ts = TenantSettings(old.plain)
	if ts.MFAPolicy == "" {
		ts.MFAPolicy = MFAOff // stored before MFA existed
	}
	if ts.MFARoles == nil {
		ts.MFARoles = []string{}
	}
	if old.OldMinPasswordLength != 0 && !bytes.Contains(b, []byte(`"password_min_length"`)) {
		ts.MinPasswordLength = old.OldMinPasswordLength
	}
	if ts.DefaultLanguage == "" && len(ts.Languages) > 0 {
		ts.DefaultLanguage = ts.Languages[0]
	}
	return nil
}

// DefaultTenantSettings are applied to new tenants.
func DefaultTenantSettings() TenantSettings {
	return TenantSettings{
		InvitationExpiryDays: 7,
		GroupDepth:           3,
		MinPasswordLength:    10,
		Languages:            []string{"en", "de"},
		DefaultLanguage:      "en",
		MFAPolicy:            MFAOff,
		MFARoles:             []string{},
	}
}

// Group is a node of the tenant's group tree. Level 1 is the billing level.
type Group struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"-"`
	Name      string    `json:"name"`
	ParentID  *int64    `json:"parent_id"`
	Level     int       `json:"level"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Role is a named set of permissions with a data scope.
type Role struct {
	ID          int64    `json:"id"`
	TenantID    int64    `json:"-"`
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scope       string   `json:"scope"`
	Permissions []string `json:"permissions"`
	// AssignableRoles are the role keys this role's holders may assign to
	// people without holding those roles' permissions: the grant rule's one
	// explicit delegation.
	AssignableRoles []string  `json:"assignable_roles"`
	Builtin         bool      `json:"builtin"`
	Hidden          bool      `json:"hidden"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// User statuses.
const (
	StatusInvited     = "invited"
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
)

// User is a person with access to the tenant.
type User struct {
	ID             int64      `json:"id"`
	TenantID       int64      `json:"-"`
	Username       string     `json:"username"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Mobile         string     `json:"mobile"`
	Language       string     `json:"language"`
	GroupID        int64      `json:"group_id"`
	Status         string     `json:"status"`
	Roles          []string   `json:"roles"`
	AgentNumber    *int64     `json:"agent_number"`
	Nicknames      []string   `json:"nicknames"`
	RingTo         string     `json:"ring_to"`
	ScoringEnabled bool       `json:"scoring_enabled"`
	Roaming        bool       `json:"roaming"`
	GroupAccess    []int64    `json:"group_access"`
	AgentIDs       []int64    `json:"agent_ids"` // agent IDs held (ids of AgentID), ascending
	QueueLoggedOn  bool       `json:"queue_logged_on"`
	LastLoginAt    *time.Time `json:"last_login_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Properties and Profiles are computed on single-user reads (each
	// property's effective value and source; the available profiles); list
	// pages leave them out.
	Properties map[string]EffectiveValue `json:"properties,omitzero"`
	Profiles   []UserProfile             `json:"profiles,omitzero"`
	// Warnings tell whoever changed the user what else the change did (a
	// move that changed the available profiles); only on that answer.
	Warnings []string `json:"warnings,omitempty"`
}

// UserFilter selects, orders and pages a user list. The store turns it into
// one SQL query for the page and one for the total.
type UserFilter struct {
	Statuses []string
	RoleID   int64   // 0: any role
	GroupIDs []int64 // home group in this set (a subtree, expanded by the core)
	Query    string  // substring of name, username, email or mobile
	// Exact is what Query is when it is a complete username, email address
	// or phone number (set by the core): users who match it exactly come
	// from the unique indexes, and then Query's substring search is not run.
	Exact   ExactTerm
	Scoring *bool        // nil: either; else only users whose scoring flag is this
	Roaming *bool        // nil: either; else only users whose roaming flag is this
	Scope   *ScopeFilter // what a scoped actor may see (home group or themself); nil: all
	Sort    string       // one of UserSortKeys
	Desc    bool
	Page    int
	PerPage int
	// Keyset reads PerPage users with ids above After in id order, without
	// a total: how exports walk a whole list.
	Keyset bool
	After  int64
	// Stream, with Keyset, is called for every user the filter selects
	// (ids above After, in id order) from one streaming query, with the
	// user's agent IDs by key, instead of a page being returned (exports).
	Stream func(u *User, agents []AgentKey) error
}

// ExactTerm is a search term read as a complete value of a unique field;
// empty fields are not looked up.
type ExactTerm struct {
	Username string // as typed (usernames compare case-insensitively)
	Email    string // lower case, a complete address
	Mobile   string // E.164, from any form the phone package reads
}

// Any reports whether there is anything to look up.
func (t ExactTerm) Any() bool { return t.Username != "" || t.Email != "" || t.Mobile != "" }

// UserSortKeys are the columns a user list may be sorted by.
var UserSortKeys = []string{"name", "username", "email", "status", "group", "last_login_at", "created_at"}

// PerPageChoices are the page sizes lists accept.
var PerPageChoices = []int{10, 25, 50, 100}

// Page is one page of a list with the total over all pages.
type Page[T any] struct {
	Items   []T `json:"items"`
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

// Paging returns the page's total, number and size (for Link headers).
func (p *Page[T]) Paging() (total, page, perPage int) { return p.Total, p.Page, p.PerPage }

// APIToken acts for a tenant with one role. Only a hash of the secret is stored.
// A token made by a person is bound to them (BoundUserID): it works only
// while they are active and hold every permission of its role tenant-wide.
// Tokens of the platform operator (CLI) are tenant service tokens.
type APIToken struct {
	ID            int64      `json:"id"`
	TenantID      int64      `json:"-"`
	Name          string     `json:"name"`
	RoleID        int64      `json:"role_id"`
	Role          string     `json:"role"` // the role's key, on reads
	Hash          []byte     `json:"-"`
	CreatedByKind string     `json:"created_by_kind"` // user, token or system
	CreatedByName string     `json:"created_by_name"`
	BoundUserID   *int64     `json:"created_by"` // the person it is bound to; null: a service token
	ParentID      *int64     `json:"-"`          // the token that made it; revoking that revokes this
	Service       bool       `json:"service"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	ExpiresAt     *time.Time `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
}

// Actor kinds, as recorded in the audit log.
const (
	ActorUser   = "user"
	ActorToken  = "token"
	ActorSystem = "system"
)

// AuditEvent is an append-only record of one mutation.
type AuditEvent struct {
	ID             int64           `json:"id"`
	TenantID       int64           `json:"-"`
	ActorKind      string          `json:"actor_kind"`
	ActorID        int64           `json:"actor_id"`
	ActorName      string          `json:"actor_name"`
	ImpersonatorID *int64          `json:"impersonator_id"`
	Action         string          `json:"action"`
	TargetKind     string          `json:"target_kind"`
	TargetID       int64           `json:"target_id"`
	Before         json.RawMessage `json:"before"`
	After          json.RawMessage `json:"after"`
	IP             string          `json:"ip"`
	UserAgent      string          `json:"user_agent"`
	RequestID      string          `json:"request_id"` // the X-Request-Id of the request that wrote it
	At             time.Time       `json:"at"`
}

// AuditFilter selects audit events.
type AuditFilter struct {
	Actor   string       // "user:12", "token:3", "system" or just an id
	Action  string       // exact action, or a prefix ending in "." ("user.")
	Target  string       // "user:12" or "12"
	Scope   *ScopeFilter // events about users and groups a scoped actor may see; nil: all
	From    *time.Time
	To      *time.Time
	Page    int
	PerPage int
}
