package roster

import (
	"context"
	"net/mail"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/phone"
)

// checkUser is the first step of creating or changing a user, before any
// transaction: the checks that need no database (checkUserInput) and the
// tenant's languages. When they find problems, the lookups the transaction
// would make (groups, roles) run on a plain read as well, so one answer
// still names every bad field, and no write transaction begins.
func (s *Service) checkUser(ctx context.Context, a *Actor, in UserInput, create bool) (UserInput, error) {
	r := s.store.Read()
	t, err := r.TenantByID(ctx, a.TenantID)
	if err != nil {
		return in, err
	}
	in, v := checkUserInput(in, create, t.Settings.Languages)
	if v.OK() {
		return in, nil
	}
	refs := newUserRefs(r, a.TenantID)
	if err := refs.check(ctx, "", in, create, v); err != nil {
		return in, err
	}
	return in, v.Err()
}

// reachableFirst answers invalid input about a target the actor cannot
// reach as the transaction would have: 404 comes before 400, so bad input
// tells nothing about another tenant's ids. reach runs on a plain read.
func (s *Service) reachableFirst(invalid error, reach func(r Reader) error) error {
	if invalid == nil || ErrorCode(invalid) != EInvalid {
		return invalid
	}
	if err := reach(s.store.Read()); err != nil {
		return err
	}
	return invalid
}

// userReachable is reach for a user the actor changes (users.manage).
func (s *Service) userReachable(ctx context.Context, a *Actor, id int64) func(r Reader) error {
	return func(r Reader) error {
		u, err := r.User(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		return s.userInScope(ctx, a, u, PermUsersManage)
	}
}

// checkUserInput checks everything of a user's input that needs no
// database, bounds first (so a list is never walked past its bound), then
// formats and in-list duplicates, and returns the input normalised: trimmed,
// email in lower case, numbers in E.164, nicknames without repeats. languages
// are the tenant's (nil: not checked). Every problem is collected.
func checkUserInput(in UserInput, create bool, languages []string) (UserInput, *Validation) {
	v := &Validation{}
	if create || in.Username.Set {
		in.Username.V = strings.TrimSpace(in.Username.V)
		switch name := in.Username.V; {
		case name == "":
			v.Add("username", "is required")
		case len(name) > MaxUsernameLen || !usernamePattern.MatchString(name):
			v.Add("username", "must be 1 to %d characters of letters, digits and . _ @ + -, starting with a letter or digit", MaxUsernameLen)
		}
	}
	if in.Name.Set {
		in.Name.V = strings.TrimSpace(in.Name.V)
		if tooLong(in.Name.V, MaxUserNameLen) {
			v.Add("name", "must be at most %d characters", MaxUserNameLen)
		}
	}
	if in.Email.Set {
		in.Email.V = strings.TrimSpace(in.Email.V)
		switch e := in.Email.V; {
		case e == "":
		case len(e) > MaxEmailLen:
			v.Add("email", "must be at most %d characters", MaxEmailLen)
		default:
			in.Email.V = strings.ToLower(e)
			if addr, err := mail.ParseAddress(in.Email.V); err != nil || addr.Address != in.Email.V {
				v.Add("email", "is not a valid email address")
			}
		}
	}
	in.Mobile = checkPhone(v, "mobile", in.Mobile, phone.NormalizeMobile)
	if create && in.Email.V == "" && in.Mobile.V == "" && !v.has("email") && !v.has("mobile") {
		v.Add("email", "%s", needContact)
		v.Add("mobile", "%s", needContact)
	}
	if create || in.Language.Set {
		in.Language.V = strings.TrimSpace(in.Language.V)
		switch l := in.Language.V; {
		case l == "":
			v.Add("language", "is required")
		case len(l) > MaxLanguageLen || (languages != nil && !slices.Contains(languages, l)):
			v.Add("language", "must be one of %s", strings.Join(languages, ", "))
		}
	}
	if (create || in.GroupID.Set) && (!in.GroupID.Set || in.GroupID.Null || in.GroupID.V == 0) {
		v.Add("group_id", "is required: every user has a home group")
	}
	if in.Roles.Set && !tooMany(v, "roles", len(in.Roles.V), MaxUserRoles, "roles") {
		if len(in.Roles.V) == 0 {
			v.Add("roles", "at least one role is required")
		}
		for i, k := range in.Roles.V {
			if len(k) > MaxRoleKeyLen {
				v.Add("roles", "item %d: no role with the key %s", i, echo(k))
			}
		}
	}
	if in.AgentNumber.Set && !in.AgentNumber.Null && (in.AgentNumber.V < 1 || in.AgentNumber.V > 999_999_999) {
		v.Add("agent_number", "must be a whole number from 1 to 999999999")
	}
	if in.Nicknames.Set {
		in.Nicknames.V = checkNicknames(v, in.Nicknames.V)
	}
	in.RingTo = checkPhone(v, "ring_to", in.RingTo, phone.Normalize)
	if in.GroupAccess.Set && !tooMany(v, "group_access", len(in.GroupAccess.V), MaxGroupAccess, "groups") {
		for i, gid := range in.GroupAccess.V {
			if gid < 1 {
				v.Add("group_access", "item %d: no group with id %d", i, gid)
			}
		}
	}
	if in.AgentIDs.Set {
		checkAgentRefs(v, "agent_ids", in.AgentIDs.V)
	}
	return in, v
}

const needContact = "an email address or a mobile number is required (for invitations and one-time codes)"

// checkPhone bounds a typed phone number and normalises it to E.164 with
// normalize, which also checks it against the number plan.
func checkPhone(v *Validation, field string, in Opt[string], normalize func(string) (string, error)) Opt[string] {
	if !in.Set {
		return in
	}
	in.V = strings.TrimSpace(in.V)
	switch {
	case in.V == "":
	case len(in.V) > MaxPhoneInputLen:
		v.Add(field, "must be at most %d characters", MaxPhoneInputLen)
	default:
		n, err := normalize(in.V)
		if err != nil {
			v.Add(field, "%s", err)
		}
		in.V = n
	}
	return in
}

// checkNicknames bounds, trims and de-duplicates (case-insensitively, in one
// pass) a user's nicknames.
func checkNicknames(v *Validation, names []string) []string {
	out := []string{}
	if tooMany(v, "nicknames", len(names), MaxNicknames, "nicknames") {
		return out
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "" || tooLong(n, MaxNicknameLen):
			v.Add("nicknames", "item %d: must be 1 to %d characters", i, MaxNicknameLen)
		case seen[foldKey(n)]:
			v.Add("nicknames", "item %d: %q is listed twice", i, n)
		default:
			seen[foldKey(n)] = true
			out = append(out, n)
		}
	}
	return out
}

// checkAgentRefs bounds a list of agent ID references and checks the shape
// of each: an id, or "source:external_id" within the bounds ingest uses.
func checkAgentRefs(v *Validation, field string, refs []AgentRef) {
	if tooMany(v, field, len(refs), MaxAgentIDsOfUser, "agent IDs") {
		return
	}
	for i, r := range refs {
		switch {
		case r.bad != "":
			v.Add(field, "item %d: %s is not an agent ID; give its id or \"source:external_id\"", i, echo(r.bad))
		case r.ID < 0:
			v.Add(field, "item %d: %d is not an agent ID id", i, r.ID)
		case r.ID == 0 && (len(r.Key.Source) > MaxAgentSourceLen || len(r.Key.ExternalID) > MaxAgentExtIDLen):
			v.Add(field, "item %d: no agent ID %s (sources have at most %d characters, external ids %d)",
				i, echo(r.Key.String()), MaxAgentSourceLen, MaxAgentExtIDLen)
		}
	}
}

// userRefs resolves what user input names in the database (roles by key,
// groups by id), reading the roles once and each group once however many
// rows of a batch name them.
type userRefs struct {
	tx       Reader
	tenantID int64
	roles    map[string]*Role // nil until loaded
	groups   map[int64]bool   // groups looked up: exists or not
}

func newUserRefs(tx Reader, tenantID int64) *userRefs {
	return &userRefs{tx: tx, tenantID: tenantID, groups: map[int64]bool{}}
}

// role returns the role with key, nil when there is none.
func (r *userRefs) role(ctx context.Context, key string) (*Role, error) {
	if r.roles == nil {
		roles, err := r.tx.ListRoles(ctx, r.tenantID)
		if err != nil {
			return nil, err
		}
		r.roles = make(map[string]*Role, len(roles))
		for i := range roles {
			r.roles[roles[i].Key] = &roles[i]
		}
	}
	return r.roles[key], nil
}

// loadGroups looks up, in one query, the groups of ids not looked up yet.
func (r *userRefs) loadGroups(ctx context.Context, ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if _, known := r.groups[id]; !known && id > 0 {
			r.groups[id] = false
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	found, err := r.tx.AuthzGroups(ctx, r.tenantID, missing)
	for _, g := range found {
		r.groups[g.ID] = true
	}
	return err
}

// groupIDs are the groups in names: its home group and its group access.
func groupIDsOf(in UserInput) []int64 {
	ids := []int64{}
	if in.GroupID.Set && !in.GroupID.Null {
		ids = append(ids, in.GroupID.V)
	}
	if in.GroupAccess.Set && len(in.GroupAccess.V) <= MaxGroupAccess {
		ids = append(ids, in.GroupAccess.V...)
	}
	return ids
}

// check adds a problem for every group and role in (already checked by
// checkUserInput) names that the tenant does not have. Lists past their
// bound were refused already and are not looked at.
func (r *userRefs) check(ctx context.Context, prefix string, in UserInput, create bool, v *Validation) error {
	if err := r.loadGroups(ctx, groupIDsOf(in)); err != nil {
		return err
	}
	if (create || in.GroupID.Set) && in.GroupID.V > 0 && !r.groups[in.GroupID.V] {
		v.Add(prefix+"group_id", "no group with id %d", in.GroupID.V)
	}
	if in.Roles.Set && len(in.Roles.V) <= MaxUserRoles {
		for i, k := range in.Roles.V {
			role, err := r.role(ctx, k)
			if err != nil {
				return err
			}
			if role == nil && len(k) <= MaxRoleKeyLen {
				v.Add(prefix+"roles", "item %d: no role with the key %q", i, k)
			}
		}
	}
	if in.GroupAccess.Set && len(in.GroupAccess.V) <= MaxGroupAccess {
		for i, gid := range in.GroupAccess.V {
			if gid > 0 && !r.groups[gid] {
				v.Add(prefix+"group_access", "item %d: no group with id %d", i, gid)
			}
		}
	}
	return nil
}
