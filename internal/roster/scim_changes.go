package roster

import (
	"context"
	"slices"
	"strings"

	"github.com/roster-dev/roster/internal/auth"
)

// SCIM's writes: each SCIM request is one use case here and one
// transaction, so a PUT or PATCH that needs several of the core's changes
// (an update, a deactivation, the external id; members moved in and out)
// makes all of them or none. Each step is the same change the other doors
// make (changeUserTx, updateGroupTx ...) with its checks and audit event.

// SCIMCreate is what a SCIM create brings besides the user's fields.
type SCIMCreate struct {
	ExternalID string
	Password   string // "": none; else it must pass the tenant's policy
	Inactive   bool   // active=false: created deactivated
}

// CreateUserSCIM creates a user with the tenant's provisioning defaults for
// a home group, role and language left out, records the external id and
// the password, and deactivates them if asked: one transaction.
//
// A password the identity provider sends becomes the user's password only
// if it passes the tenant's policy; it is judged and hashed before anything
// is written, so a weak one creates nothing.
func (s *Service) CreateUserSCIM(ctx context.Context, a *Actor, in UserInput, c SCIMCreate) (*SCIMUser, error) {
	if err := checkExternalID(c.ExternalID); err != nil {
		return nil, err
	}
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	d, err := s.SCIMDefaults(ctx, a)
	if err != nil {
		return nil, err
	}
	hash := ""
	if c.Password != "" {
		t, err := s.store.Read().TenantByID(ctx, a.TenantID)
		if err != nil {
			return nil, err
		}
		name := in.Name.V
		if name == "" {
			name = in.Username.V
		}
		if msg := auth.NewPolicy(t.Settings.MinPasswordLength).Check(c.Password, in.Username.V, strings.ToLower(in.Email.V), name); msg != "" {
			return nil, oneFieldError("password", "%s", msg)
		}
		if hash, err = s.lcState().hasher.Hash(c.Password); err != nil {
			return nil, err
		}
	}
	if !in.GroupID.Set || in.GroupID.Null || in.GroupID.V == 0 {
		in.GroupID = Some(d.DefaultGroup)
	}
	if !in.Roles.Set || in.Roles.Null || len(in.Roles.V) == 0 {
		in.Roles = Some([]string{d.DefaultRole})
	}
	if !in.Language.Set || in.Language.Null || in.Language.V == "" {
		in.Language = Some(d.Language)
	}
	if in, err = s.checkUser(ctx, a, in, true); err != nil { // before the transaction
		return nil, err
	}
	var u *User
	err = s.inTx(ctx, func(tx Tx) error {
		var err error
		if u, err = s.createUserTx(ctx, tx, a, newUserRefs(tx, a.TenantID), in, StatusActive); err != nil {
			return err
		}
		if c.ExternalID != "" {
			if u, err = s.changeUserTx(ctx, tx, a, u.ID, "user.external_id", setExternalID(ctx, a, c.ExternalID)); err != nil {
				return err
			}
		}
		if hash != "" {
			if u, err = s.changeUserTx(ctx, tx, a, u.ID, "user.password_set", func(tx Tx, u, _ *User) error {
				return tx.SetPasswordHash(ctx, a.TenantID, u.ID, hash)
			}); err != nil {
				return err
			}
		}
		if c.Inactive {
			if u, err = s.changeUserTx(ctx, tx, a, u.ID, "user.deactivate", s.deactivateChange(ctx, a)); err != nil {
				return err
			}
		}
		return s.fillUserDetails(ctx, tx, u) // properties and profiles
	})
	if err != nil {
		return nil, err
	}
	return &SCIMUser{User: *u, ExternalID: c.ExternalID}, nil
}

func setExternalID(ctx context.Context, a *Actor, externalID string) func(tx Tx, u, _ *User) error {
	return func(tx Tx, u, _ *User) error {
		return tx.SetUserExternalID(ctx, a.TenantID, u.ID, externalID)
	}
}

// SCIMUserChange is what one SCIM PUT or PATCH changes of a user; the door
// computes it from the documents before and after.
type SCIMUserChange struct {
	Update     *UserInput // nil: no field changes
	Active     *bool      // nil: the status stays
	ExternalID *string    // nil: it stays; "": the link ends
}

// ChangeUserSCIM applies ch to user id in one transaction: a reactivation
// first (so the update meets an active user), the update, a deactivation,
// the external id. A version from IfVersion is checked once, first, with
// the row locked.
func (s *Service) ChangeUserSCIM(ctx context.Context, a *Actor, id int64, ch SCIMUserChange) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	if ch.ExternalID != nil {
		if err := checkExternalID(*ch.ExternalID); err != nil {
			return err
		}
	}
	var in UserInput
	if ch.Update != nil {
		var err error
		if in, err = s.checkUser(ctx, a, *ch.Update, false); err != nil { // before the transaction
			return s.reachableFirst(err, s.userReachable(ctx, a, id))
		}
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, id); err != nil {
			return err
		}
		step := withoutVersion(ctx) // the steps follow the version checked here
		cur, err := tx.User(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if ch.Active != nil && *ch.Active && cur.Status == StatusDeactivated {
			if _, err := s.changeUserTx(step, tx, a, id, "user.reactivate", reactivateChange); err != nil {
				return err
			}
		}
		if ch.Update != nil {
			if _, err := s.changeUserTx(step, tx, a, id, "user.update", s.updateChange(step, a, in)); err != nil {
				return err
			}
		}
		if ch.Active != nil && !*ch.Active && cur.Status != StatusDeactivated {
			if _, err := s.changeUserTx(step, tx, a, id, "user.deactivate", s.deactivateChange(step, a)); err != nil {
				return err
			}
		}
		if ch.ExternalID != nil {
			if _, err := s.changeUserTx(step, tx, a, id, "user.external_id", setExternalID(step, a, *ch.ExternalID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && ch.Update != nil {
		s.notifyOutbox() // a notice to the old address, if any
	}
	return err
}

// withoutVersion is ctx without the expected version of IfVersion.
func withoutVersion(ctx context.Context) context.Context {
	return context.WithValue(ctx, versionKey{}, nil)
}

// SCIMGroup is a group with its members (the users whose home group it is).
type SCIMGroup struct {
	Group
	Members []MemberRef
}

// SCIMGroupChange is what one SCIM PUT or PATCH changes of a group.
type SCIMGroupChange struct {
	Name   *string // nil: the name stays
	Add    []int64 // users to move into the group
	Remove []int64 // users to move out, to the tenant's scim_default_group
	// Seen, when set (the request had If-Match), is the group as the change
	// was made from: if it is no longer so in the transaction, EStale.
	Seen *SCIMGroup
}

// GroupSCIM returns a group with its members.
func (s *Service) GroupSCIM(ctx context.Context, a *Actor, id int64) (*SCIMGroup, error) {
	g, err := s.Group(ctx, a, id)
	if err != nil {
		return nil, err
	}
	members, err := s.GroupMembers(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return &SCIMGroup{Group: *g, Members: members}, nil
}

// CreateGroupSCIM creates a group under the tenant's scim_group_parent and
// moves members into it: one transaction.
func (s *Service) CreateGroupSCIM(ctx context.Context, a *Actor, name string, members []int64) (*Group, error) {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return nil, err
	}
	if len(members) > 0 {
		if err := a.requireWrite(PermUsersManage); err != nil {
			return nil, err
		}
	}
	name = strings.TrimSpace(name)
	var pre Validation // before the transaction
	if checkGroupName(&pre, name); !pre.OK() {
		return nil, pre.Err()
	}
	d, err := s.SCIMDefaults(ctx, a)
	if err != nil {
		return nil, err
	}
	in := GroupInput{Name: Some(name)}
	if d.GroupParent != 0 {
		in.ParentID = Some(d.GroupParent)
	}
	var g *Group
	err = s.inTx(ctx, func(tx Tx) error {
		var err error
		if g, err = s.createGroupTx(ctx, tx, a, in, name); err != nil {
			return err
		}
		return s.moveMembersTx(ctx, tx, a, g.ID, nil, members, nil, d)
	})
	return g, err
}

// ChangeGroupSCIM renames group id and moves members in and out, in one
// transaction.
func (s *Service) ChangeGroupSCIM(ctx context.Context, a *Actor, id int64, ch SCIMGroupChange) error {
	name := ""
	if ch.Name != nil {
		if err := a.requireWrite(PermGroupsManage); err != nil {
			return err
		}
		name = strings.TrimSpace(*ch.Name)
		var pre Validation // before the transaction
		if checkGroupName(&pre, name); !pre.OK() {
			return s.reachableFirst(pre.Err(), func(r Reader) error {
				if _, err := r.Group(ctx, a.TenantID, id); err != nil {
					return err
				}
				return s.groupInScope(ctx, a, id, PermGroupsManage)
			})
		}
	}
	var d SCIMSettings
	if len(ch.Add)+len(ch.Remove) > 0 {
		if err := a.requireWrite(PermUsersManage); err != nil {
			return err
		}
		var err error
		if d, err = s.SCIMDefaults(ctx, a); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(tx Tx) error {
		if _, err := tx.LockVersion(ctx, KindGroup, a.TenantID, id); err != nil { // the row locked
			return err
		}
		if err := s.groupInScope(ctx, a, id, PermUsersView, PermGroupsManage, PermTeamView); err != nil {
			return err
		}
		g, err := tx.Group(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		current, err := tx.GroupMembers(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if ch.Seen != nil && !sameGroupState(ch.Seen, g, current) {
			return &Error{Code: EStale, Reason: ReasonStale, Message: "the group was changed by someone else since you read it: read it again and redo your change"}
		}
		if ch.Name != nil && name != g.Name {
			if _, err := s.updateGroupTx(withoutVersion(ctx), tx, a, id, GroupInput{Name: Some(name)}, name); err != nil {
				return err
			}
		}
		ids := make([]int64, len(current))
		for i, m := range current {
			ids[i] = m.ID
		}
		return s.moveMembersTx(ctx, tx, a, id, ids, ch.Add, ch.Remove, d)
	})
}

func sameGroupState(seen *SCIMGroup, g *Group, members []MemberRef) bool {
	return seen.Name == g.Name && seen.UpdatedAt.Equal(g.UpdatedAt) && slices.Equal(seen.Members, members)
}

// moveMembersTx moves the users of add that are not in current into group
// id, and those of remove that are into d.DefaultGroup.
func (s *Service) moveMembersTx(ctx context.Context, tx Tx, a *Actor, id int64, current, add, remove []int64, d SCIMSettings) error {
	ctx = withoutVersion(ctx) // the versions of the members were not asked for
	for _, uid := range add {
		if slices.Contains(current, uid) {
			continue
		}
		if _, err := s.changeUserTx(ctx, tx, a, uid, "user.move", s.moveChange(ctx, a, MoveInput{GroupID: id})); err != nil {
			if ErrorCode(err) == ENotFound {
				return oneFieldError("members", "no user with id %d", uid)
			}
			return err
		}
	}
	for _, uid := range remove {
		if !slices.Contains(current, uid) {
			continue
		}
		if d.DefaultGroup == id {
			return oneFieldError("members", "user %d cannot leave group %d, the tenant's scim_default_group, where removed members go; add them to another group instead", uid, id)
		}
		if _, err := s.changeUserTx(ctx, tx, a, uid, "user.move", s.moveChange(ctx, a, MoveInput{GroupID: d.DefaultGroup})); err != nil {
			return err
		}
	}
	return nil
}
