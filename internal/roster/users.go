package roster

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// UserInput creates or changes a user. For PATCH, fields that are not Set stay
// as they are.
type UserInput struct {
	Username       Opt[string]   `json:"username"`
	Name           Opt[string]   `json:"name"`
	Email          Opt[string]   `json:"email"`
	Mobile         Opt[string]   `json:"mobile"`
	Language       Opt[string]   `json:"language"`
	GroupID        Opt[int64]    `json:"group_id"`
	Roles          Opt[[]string] `json:"roles"`
	AgentNumber    Opt[int64]    `json:"agent_number"`
	Nicknames      Opt[[]string] `json:"nicknames"`
	RingTo         Opt[string]   `json:"ring_to"`
	ScoringEnabled Opt[bool]     `json:"scoring_enabled"`
	Roaming        Opt[bool]     `json:"roaming"`
	GroupAccess    Opt[[]int64]  `json:"group_access"`
	// AgentIDs (on create, invite and PATCH; PUT .../agents replaces them):
	// ids of agent IDs, or "source:external_id".
	AgentIDs Opt[[]AgentRef] `json:"agent_ids"`
}

// DefaultRoleKey is given to users created without roles: the read-only
// "User" role, the least a person with a login can do.
const DefaultRoleKey = RoleUser

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// CreateUser adds an active user without a password (seed 003): the user sets
// one through a one-time code.
func (s *Service) CreateUser(ctx context.Context, a *Actor, in UserInput) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	in, err := s.checkUser(ctx, a, in, true) // before the transaction
	if err != nil {
		return nil, err
	}
	var u *User
	err = s.inTx(ctx, func(tx Tx) error {
		var err error
		if u, err = s.createUserTx(ctx, tx, a, newUserRefs(tx, a.TenantID), in, StatusActive); err != nil {
			return err
		}
		return s.fillUserDetails(ctx, tx, u) // properties and profiles
	})
	return u, err
}

// createUserTx inserts the user of in, checked already by checkUserInput,
// with its audit event; refs resolves its roles and groups.
func (s *Service) createUserTx(ctx context.Context, tx Tx, a *Actor, refs *userRefs, in UserInput, status string) (*User, error) {
	now := s.Now()
	u := &User{TenantID: a.TenantID, Status: status, Roles: []string{}, Nicknames: []string{}, GroupAccess: []int64{}, AgentIDs: []int64{}, CreatedAt: now, UpdatedAt: now}
	if !in.Roles.Set || in.Roles.Null {
		in.Roles = Some([]string{DefaultRoleKey})
	}
	if err := s.applyUserInput(ctx, tx, a, refs, u, nil, in, true); err != nil {
		return nil, err
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if in.AgentIDs.Set && len(in.AgentIDs.V) > 0 {
		if err := s.setAgentIDsTx(ctx, tx, a, u, in.AgentIDs.V); err != nil {
			return nil, err
		}
	}
	if err := s.audit(ctx, tx, a, "user.create", "user", u.ID, nil, u); err != nil {
		return nil, err
	}
	return u, nil
}

// User returns one user of the actor's tenant.
func (s *Service) User(ctx context.Context, a *Actor, id int64) (*User, error) {
	if err := a.require(PermUsersView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := s.userInScope(ctx, a, u, PermUsersView); err != nil {
		return nil, err
	}
	if err := s.fillUserDetails(ctx, r, u); err != nil { // properties and profiles
		return nil, err
	}
	return u, nil
}

// UpdateUser applies a partial change.
func (s *Service) UpdateUser(ctx context.Context, a *Actor, id int64, in UserInput) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	in, err := s.checkUser(ctx, a, in, false) // before the transaction
	if err != nil {
		return nil, s.reachableFirst(err, s.userReachable(ctx, a, id))
	}
	u, err := s.changeUser(ctx, a, id, "user.update", s.updateChange(ctx, a, in))
	if err == nil {
		s.notifyOutbox() // a notice to the old address, if any
	}
	return u, err
}

// updateChange is UpdateUser's change of a user, for in checked already.
func (s *Service) updateChange(ctx context.Context, a *Actor, in UserInput) func(tx Tx, u, before *User) error {
	return func(tx Tx, u, before *User) error {
		if err := s.applyUserInput(ctx, tx, a, newUserRefs(tx, a.TenantID), u, before, in, false); err != nil {
			return err
		}
		if before.QueueLoggedOn && u.GroupID != before.GroupID {
			return queueConflict(before, "moved")
		}
		if err := s.noticeContactChanged(ctx, tx, a, u, before); err != nil {
			return err
		}
		if err := s.renewOnChangeTx(ctx, tx, a, before, u); err != nil {
			return err
		}
		if in.AgentIDs.Set {
			return s.setAgentIDsTx(ctx, tx, a, u, in.AgentIDs.V)
		}
		return nil
	}
}

// DeleteUser removes a user's access for good; the audit trail keeps them.
// A user logged on to a queue cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, a *Actor, id int64) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, id); err != nil {
			return err
		}
		u, err := tx.User(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if u.QueueLoggedOn {
			return conflict(ReasonUserOnQueue, "%s is logged on to a queue and cannot be deleted; log them off the queue first", u.Username)
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return err
		}
		// Sessions, codes and a pending invitation end with the user.
		if err := s.revokeAccessTx(ctx, tx, a, id); err != nil {
			return err
		}
		if err := s.revokeUserTokensTx(ctx, tx, a, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.delete", "user", id, u, nil)
	})
}

// DeactivateUser stops a user's access; reactivating gives it back.
func (s *Service) DeactivateUser(ctx context.Context, a *Actor, id int64) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	return s.changeUser(ctx, a, id, "user.deactivate", s.deactivateChange(ctx, a))
}

// deactivateChange is DeactivateUser's change of a user.
func (s *Service) deactivateChange(ctx context.Context, a *Actor) func(tx Tx, u, before *User) error {
	return func(tx Tx, u, _ *User) error {
		if u.Status == StatusDeactivated {
			return conflict(ReasonUserDeactivated, "%s is deactivated already", u.Username)
		}
		if a.Kind == ActorUser && a.ID == u.ID {
			return conflict(ReasonSelf, "you cannot deactivate yourself")
		}
		u.Status = StatusDeactivated
		// Every session ends now, not at its next expiry.
		return s.revokeAccessTx(ctx, tx, a, u.ID)
	}
}

// ReactivateUser gives a deactivated user their access back.
func (s *Service) ReactivateUser(ctx context.Context, a *Actor, id int64) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	return s.changeUser(ctx, a, id, "user.reactivate", reactivateChange)
}

// reactivateChange is ReactivateUser's change of a user.
func reactivateChange(_ Tx, u, _ *User) error {
	if u.Status != StatusDeactivated {
		return conflict(ReasonUserNotDeactivated, "%s is not deactivated", u.Username)
	}
	u.Status = StatusActive
	return nil
}

// changeUser loads a user, lets change modify a copy, and stores it with an
// audit event of action, all in one transaction.
func (s *Service) changeUser(ctx context.Context, a *Actor, id int64, action string, change func(tx Tx, u, before *User) error) (*User, error) {
	var u *User
	err := s.inTx(ctx, func(tx Tx) error {
		var err error
		u, err = s.changeUserTx(ctx, tx, a, id, action, change)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// changeUserTx is changeUser inside a transaction the caller runs: several
// changes of one request (SCIM's PUT and PATCH) commit together or not at all.
func (s *Service) changeUserTx(ctx context.Context, tx Tx, a *Actor, id int64, action string, change func(tx Tx, u, before *User) error) (*User, error) {
	if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, id); err != nil {
		return nil, err
	}
	before, err := tx.User(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	// Scoped by the roles granting users.manage (every caller needs it),
	// not by all roles: a tenant-wide viewer role widens no management.
	if err := s.userInScope(ctx, a, before, PermUsersManage); err != nil {
		return nil, err
	}
	if err := s.actOn(ctx, tx, a, before); err != nil { // nobody acts on someone more powerful
		return nil, err
	}
	u := cloneUser(before)
	if err := change(tx, u, before); err != nil {
		return nil, err
	}
	u.UpdatedAt = s.nextUpdate(u.UpdatedAt)
	if err := tx.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, action, "user", id, before, u); err != nil {
		return nil, err
	}
	return u, s.fillUserDetails(ctx, tx, u) // properties and profiles
}

func cloneUser(u *User) *User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Nicknames = slices.Clone(u.Nicknames)
	c.GroupAccess = slices.Clone(u.GroupAccess)
	c.AgentIDs = slices.Clone(u.AgentIDs)
	return &c
}

// UsedAgentNumbers lists the numeric agent ids in use, ascending ("see used IDs").
func (s *Service) UsedAgentNumbers(ctx context.Context, a *Actor) ([]int64, error) {
	if err := a.require(PermUsersView, PermUsersManage); err != nil {
		return nil, err
	}
	return s.store.Read().UsedAgentNumbers(ctx, a.TenantID)
}

// Stats returns the access statistics of the dashboard.
func (s *Service) Stats(ctx context.Context, a *Actor) (UserCounts, error) {
	if err := a.require(PermUsersView); err != nil {
		return UserCounts{}, err
	}
	if err := s.requireTenantWide(ctx, a, "the access statistics", PermUsersView); err != nil {
		return UserCounts{}, err
	}
	return s.store.Read().CountUsers(ctx, a.TenantID)
}

// applyUserInput writes in, checked already by checkUserInput (outside the
// transaction), into u and makes the checks that need the database: the
// groups and roles it names exist (refs), the grant rule, the actor's scope
// and uniqueness. before is nil on create. Every problem is collected, so one
// answer names every bad field; duplicates are conflicts (409) checked after
// that.
func (s *Service) applyUserInput(ctx context.Context, tx Tx, a *Actor, refs *userRefs, u, before *User, in UserInput, create bool) error {
	var v Validation
	if err := refs.check(ctx, "", in, create, &v); err != nil {
		return err
	}
	if create || in.Username.Set {
		u.Username = in.Username.V
	}
	if in.Name.Set {
		u.Name = in.Name.V
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	if in.Email.Set {
		u.Email = in.Email.V
	}
	if in.Mobile.Set {
		u.Mobile = in.Mobile.V
	}
	if !create && (in.Email.Set || in.Mobile.Set) && u.Email == "" && u.Mobile == "" {
		v.Add("email", "%s", needContact)
		v.Add("mobile", "%s", needContact)
	}
	if create || in.Language.Set {
		u.Language = in.Language.V
	}
	if create || in.GroupID.Set {
		u.GroupID = in.GroupID.V
	}
	if in.Roles.Set {
		u.Roles = []string{}
		seen := make(map[string]bool, len(in.Roles.V))
		for _, k := range in.Roles.V {
			if r := refs.roles[k]; r != nil && !seen[k] {
				seen[k] = true
				u.Roles = append(u.Roles, k)
			}
		}
		// Stored roles come back in role order; keep the same order here.
		slices.SortFunc(u.Roles, func(x, y string) int { return int(refs.roles[x].ID - refs.roles[y].ID) })
	}
	if in.AgentNumber.Set {
		u.AgentNumber = nil
		if !in.AgentNumber.Null {
			n := in.AgentNumber.V
			u.AgentNumber = &n
		}
	}
	if in.Nicknames.Set {
		u.Nicknames = in.Nicknames.V
	}
	if in.RingTo.Set {
		u.RingTo = in.RingTo.V
	}
	if in.ScoringEnabled.Set {
		u.ScoringEnabled = in.ScoringEnabled.V
	}
	if in.Roaming.Set {
		u.Roaming = in.Roaming.V
	}
	if in.GroupAccess.Set {
		u.GroupAccess = []int64{}
		seen := make(map[int64]bool, len(in.GroupAccess.V))
		for _, gid := range in.GroupAccess.V {
			if refs.groups[gid] && !seen[gid] {
				seen[gid] = true
				u.GroupAccess = append(u.GroupAccess, gid)
			}
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.checkRoleGrant(ctx, tx, a, u, before); err != nil {
		return err
	}
	if err := s.groupsInScope(ctx, a, u, before); err != nil {
		return err
	}
	return checkUserUnique(ctx, tx, u)
}

// checkUserUnique answers a duplicate username, email or agent number with a
// conflict naming the field. The schema's unique indexes back this up.
func checkUserUnique(ctx context.Context, tx Tx, u *User) error {
	type check struct {
		field string
		value any
		label string
	}
	checks := []check{{"username", u.Username, u.Username}}
	if u.Email != "" {
		checks = append(checks, check{"email", u.Email, u.Email})
	}
	if u.AgentNumber != nil {
		checks = append(checks, check{"agent_number", *u.AgentNumber, fmt.Sprint(*u.AgentNumber)})
	}
	for _, c := range checks {
		id, err := tx.UserIDByField(ctx, u.TenantID, c.field, c.value)
		if err != nil {
			return err
		}
		if id != 0 && id != u.ID {
			return conflictField(c.field+"_taken", c.field, "the %s %s is in use by another user", strings.ReplaceAll(c.field, "_", " "), c.label)
		}
	}
	return nil
}

func (v *Validation) has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
