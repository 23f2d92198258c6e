package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The core's side of SCIM provisioning (internal/scim is the door). Users
// and groups change through the same CreateUser, UpdateUser, MoveUser,
// DeactivateUser ... as every other door, so every rule applies; what is
// SCIM's own is the identity provider's externalId, the filter the store
// translates to SQL, and the tenant's provisioning defaults.

// SCIM filter fields: the user attributes a SCIM filter may compare. The SCIM
// door maps its attribute paths to these; the store maps these to columns.
const (
	SCIMFieldID          = "id"           // int64
	SCIMFieldUsername    = "username"     // string, case-insensitive
	SCIMFieldExternalID  = "external_id"  // string, case-exact
	SCIMFieldEmail       = "email"        // string, case-insensitive
	SCIMFieldName        = "name"         // string, case-insensitive
	SCIMFieldMobile      = "mobile"       // string
	SCIMFieldLanguage    = "language"     // string
	SCIMFieldActive      = "active"       // bool: not deactivated
	SCIMFieldCreated     = "created"      // time.Time
	SCIMFieldUpdated     = "updated"      // time.Time
	SCIMFieldGroup       = "group"        // int64: the home group
	SCIMFieldAgentNumber = "agent_number" // int64
	SCIMFieldRole        = "role"         // string: a role key the user holds
)

// SCIMFilter is a filter tree: Op "and"/"or" with two Args, "not" with one,
// or a comparison ("eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt",
// "le") of Field with Value (nil for "pr").
type SCIMFilter struct {
	Op    string
	Args  []*SCIMFilter
	Field string
	Value any
}

// SCIMUserQuery is one page of a SCIM user list.
type SCIMUserQuery struct {
	Filter *SCIMFilter
	SortBy string // a SCIMField; "" is id order
	Desc   bool
	Offset int // rows skipped (SCIM startIndex - 1)
	Limit  int // rows wanted; 0 answers the total only
	// After, in id order, starts the page after this id instead of
	// skipping Offset rows: the core sets it when it knows where the
	// previous page ended.
	After int64
}

// SCIMUserFilter is what the store runs: the query and the actor's scope.
type SCIMUserFilter struct {
	SCIMUserQuery
	Scope *ScopeFilter
}

// SCIMUser is a user with the identity provider's id of them.
type SCIMUser struct {
	User
	ExternalID string
}

// SCIMSettings are the tenant's provisioning defaults, kept in its settings
// under these keys: what a SCIM create that leaves them out gets.
type SCIMSettings struct {
	DefaultGroup int64  `json:"scim_default_group,omitempty"` // home group of new users; 0: the first level-1 group
	DefaultRole  string `json:"scim_default_role,omitempty"`  // role key; "": DefaultRoleKey
	GroupParent  int64  `json:"scim_group_parent,omitempty"`  // parent of groups made over SCIM; 0: the first level-1 group
	Language     string `json:"default_language,omitempty"`   // "": the tenant's first language
}

// SCIMReader and SCIMTx are the store's queries for SCIM.
type SCIMReader interface {
	ListUsersSCIM(ctx context.Context, tenantID int64, f SCIMUserFilter) ([]User, int, error)
	// UserExternalIDs returns the external ids of those of ids that have one.
	UserExternalIDs(ctx context.Context, tenantID int64, ids []int64) (map[int64]string, error)
	SCIMSettings(ctx context.Context, tenantID int64) (SCIMSettings, error)
	// GroupMembers returns the ids and usernames of the users whose home group is groupID.
	GroupMembers(ctx context.Context, tenantID, groupID int64) ([]MemberRef, error)
	// GroupNames returns the names of those of ids that are groups of the tenant.
	GroupNames(ctx context.Context, tenantID int64, ids []int64) (map[int64]string, error)
	// TenantUserCount is the number of users of the tenant.
	TenantUserCount(ctx context.Context, tenantID int64) (int, error)
}

// SCIMTx holds the writes; a transaction has both.
type SCIMTx interface {
	SetUserExternalID(ctx context.Context, tenantID, userID int64, externalID string) error
	SetSCIMSettings(ctx context.Context, tenantID int64, s SCIMSettings) error
}

// MemberRef names a user in a group's member list.
type MemberRef struct {
	ID       int64
	Username string
}

// SCIMScanLimit is the largest tenant a filter without an indexed condition
// may run on: beyond it the filter is refused (SCIM's tooMany), never run as
// a scan of the whole tenant.
const SCIMScanLimit = 10_000

// SCIMMaxResults is the most users one SCIM page holds.
const SCIMMaxResults = 1000

// TooBroadError refuses a filter that no index narrows on a large tenant.
type TooBroadError struct{ Detail string }

func (e *TooBroadError) Error() string { return e.Detail }

// ListUsersSCIM returns one page of users matching q and the total.
func (s *Service) ListUsersSCIM(ctx context.Context, a *Actor, q SCIMUserQuery) ([]SCIMUser, int, error) {
	if err := a.require(PermUsersView); err != nil {
		return nil, 0, err
	}
	if err := checkSCIMFilter(q.Filter, 0); err != nil {
		return nil, 0, err
	}
	if q.Limit < 0 || q.Limit > SCIMMaxResults || q.Offset < 0 {
		return nil, 0, oneFieldError("count", "must be from 0 to %d", SCIMMaxResults)
	}
	r := s.store.Read()
	if q.Filter != nil && !scimSelective(q.Filter) {
		n, err := r.TenantUserCount(ctx, a.TenantID)
		if err != nil {
			return nil, 0, err
		}
		if n > SCIMScanLimit {
			return nil, 0, &TooBroadError{Detail: fmt.Sprintf("the filter would read all %d users: it needs a condition on an indexed attribute "+
				"(userName, externalId, emails.value or displayName with eq or sw, or co/ew of at least 3 characters) joined by and", n)}
		}
	}
	f := SCIMUserFilter{SCIMUserQuery: q}
	var err error
	if f.Scope, err = s.scopeOf(ctx, a, PermUsersView); err != nil {
		return nil, 0, err
	}
	walk := s.scimPageStart(a, &f.SCIMUserQuery)
	users, total, err := r.ListUsersSCIM(ctx, a.TenantID, f)
	if err != nil {
		return nil, 0, err
	}
	s.scimPageEnd(walk, q, users)
	out, err := withExternalIDs(ctx, r, a.TenantID, users)
	return out, total, err
}

// checkSCIMFilter bounds a filter's depth and values before any SQL is made.
func checkSCIMFilter(f *SCIMFilter, depth int) error {
	if f == nil {
		return nil
	}
	if depth > 20 {
		return oneFieldError("filter", "is nested too deeply (at most 20 levels)")
	}
	for _, x := range f.Args {
		if err := checkSCIMFilter(x, depth+1); err != nil {
			return err
		}
	}
	if s, ok := f.Value.(string); ok && (len(s) > 254 || !utf8.ValidString(s)) {
		return oneFieldError("filter", "a compared value must be text of at most 254 bytes")
	}
	return nil
}

// scimSelective reports whether an index narrows the filter: an indexed
// comparison, an "and" with one, or an "or" of selective branches.
func scimSelective(f *SCIMFilter) bool {
	switch f.Op {
	case "and":
		return scimSelective(f.Args[0]) || scimSelective(f.Args[1])
	case "or":
		return scimSelective(f.Args[0]) && scimSelective(f.Args[1])
	case "not":
		return false
	}
	text, _ := f.Value.(string)
	switch f.Field {
	case SCIMFieldID, SCIMFieldExternalID, SCIMFieldAgentNumber, SCIMFieldGroup, SCIMFieldRole:
		return f.Op == "eq"
	case SCIMFieldUsername, SCIMFieldEmail, SCIMFieldName:
		return f.Op == "eq" || f.Op == "sw" || ((f.Op == "co" || f.Op == "ew") && utf8.RuneCountInString(text) >= 3)
	case SCIMFieldMobile:
		return (f.Op == "eq" || f.Op == "co" || f.Op == "sw" || f.Op == "ew") && utf8.RuneCountInString(text) >= 3
	}
	return false
}

func withExternalIDs(ctx context.Context, r Reader, tenantID int64, users []User) ([]SCIMUser, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	ext, err := r.UserExternalIDs(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SCIMUser, len(users))
	for i, u := range users {
		out[i] = SCIMUser{User: u, ExternalID: ext[u.ID]}
	}
	return out, nil
}

// UserSCIM returns one user with their external id.
func (s *Service) UserSCIM(ctx context.Context, a *Actor, id int64) (*SCIMUser, error) {
	u, err := s.User(ctx, a, id)
	if err != nil {
		return nil, err
	}
	out, err := withExternalIDs(ctx, s.store.Read(), a.TenantID, []User{*u})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

func checkExternalID(ext string) error {
	if len(ext) > 254 || !utf8.ValidString(ext) || strings.ContainsFunc(ext, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return oneFieldError("externalId", "must be text of at most 254 bytes without control characters")
	}
	return nil
}

// SetUserExternalID records the identity provider's id of a user ("" ends
// the link). It is a change of the user like any other: same checks, audited.
func (s *Service) SetUserExternalID(ctx context.Context, a *Actor, id int64, externalID string) error {
	if err := checkExternalID(externalID); err != nil {
		return err
	}
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	_, err := s.changeUser(ctx, a, id, "user.external_id", func(tx Tx, u, _ *User) error {
		return tx.SetUserExternalID(ctx, a.TenantID, id, externalID)
	})
	return err
}

// SCIMDefaults returns the tenant's provisioning defaults with every gap
// filled: the first level-1 group, the default role, the first language.
func (s *Service) SCIMDefaults(ctx context.Context, a *Actor) (SCIMSettings, error) {
	if err := a.require(PermUsersManage, PermGroupsManage); err != nil {
		return SCIMSettings{}, err
	}
	r := s.store.Read()
	d, err := r.SCIMSettings(ctx, a.TenantID)
	if err != nil {
		return d, err
	}
	t, err := r.TenantByID(ctx, a.TenantID)
	if err != nil {
		return d, err
	}
	if d.Language == "" && len(t.Settings.Languages) > 0 {
		d.Language = t.Settings.Languages[0]
	}
	if d.DefaultRole == "" {
		d.DefaultRole = DefaultRoleKey
	}
	if d.DefaultGroup == 0 || d.GroupParent == 0 {
		groups, err := r.ListGroups(ctx, a.TenantID) // level, then name order
		if err != nil {
			return d, err
		}
		if len(groups) > 0 {
			if d.DefaultGroup == 0 {
				d.DefaultGroup = groups[0].ID
			}
			if d.GroupParent == 0 {
				d.GroupParent = groups[0].ID
			}
		}
	}
	return d, nil
}

// SCIMSettings returns the provisioning defaults as stored (0 and "" where unset).
func (s *Service) SCIMSettings(ctx context.Context, a *Actor) (SCIMSettings, error) {
	if err := a.require(PermUsersManage); err != nil {
		return SCIMSettings{}, err
	}
	return s.store.Read().SCIMSettings(ctx, a.TenantID)
}

// SetSCIMSettings changes the tenant's provisioning defaults (tenant-wide
// user and group managers only), checking that each names something real.
func (s *Service) SetSCIMSettings(ctx context.Context, a *Actor, in SCIMSettings) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	if err := a.require(PermGroupsManage); err != nil {
		return err
	}
	if err := s.requireTenantWide(ctx, a, "provisioning defaults", PermUsersManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		var v Validation
		for _, g := range []struct {
			field string
			id    int64
		}{{"scim_default_group", in.DefaultGroup}, {"scim_group_parent", in.GroupParent}} {
			if g.id == 0 {
				continue
			}
			if _, err := tx.Group(ctx, a.TenantID, g.id); ErrorCode(err) == ENotFound {
				v.Add(g.field, "no group with id %d", g.id)
			} else if err != nil {
				return err
			}
		}
		t, err := tx.TenantByID(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if in.Language != "" && !slices.Contains(t.Settings.Languages, in.Language) {
			v.Add("default_language", "must be one of %s", strings.Join(t.Settings.Languages, ", "))
		}
		if in.DefaultRole != "" {
			roles, err := tx.ListRoles(ctx, a.TenantID)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(roles, func(r Role) bool { return r.Key == in.DefaultRole }) {
				v.Add("scim_default_role", "no role with the key %q", in.DefaultRole)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		before, err := tx.SCIMSettings(ctx, a.TenantID)
		if err != nil {
			return err
		}
		if err := tx.SetSCIMSettings(ctx, a.TenantID, in); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "tenant.scim_settings", "tenant", a.TenantID, before, in)
	})
}

// GroupMembers lists the users whose home group is id: SCIM's members of a group.
func (s *Service) GroupMembers(ctx context.Context, a *Actor, id int64) ([]MemberRef, error) {
	if _, err := s.Group(ctx, a, id); err != nil {
		return nil, err
	}
	if err := a.require(PermUsersView); err != nil {
		return nil, err
	}
	return s.store.Read().GroupMembers(ctx, a.TenantID, id)
}

// GroupNames returns the names of the groups of ids, for rendering the users
// an actor may see (their home groups): a page of users names a few groups,
// where the tenant may have thousands.
func (s *Service) GroupNames(ctx context.Context, a *Actor, ids []int64) (map[int64]string, error) {
	if err := a.require(PermUsersView); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return s.store.Read().GroupNames(ctx, a.TenantID, slices.Compact(ids))
}

// AgentKeys returns "source:external_id" of each of ids (agent IDs of the tenant).
func (s *Service) AgentKeys(ctx context.Context, a *Actor, ids []int64) (map[int64]string, error) {
	if err := a.require(PermUsersView); err != nil {
		return nil, err
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	agents, err := s.store.Read().AgentIDsByID(ctx, a.TenantID, ids)
	if err != nil {
		return nil, err
	}
	for _, g := range agents {
		out[g.ID] = g.Key().String()
	}
	return out, nil
}
