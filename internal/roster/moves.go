package roster

import (
	"context"
	"errors"
)

// MoveInput moves a user to another home group (POST /users/{id}/move).
type MoveInput struct {
	GroupID int64 `json:"group_id"`
	// MoveInteractions also moves the user's calls and chats that are in
	// their old home group to the new one (seed 004's "Move the user's calls
	// to a new group"); interactions in other groups stay where they are.
	MoveInteractions bool `json:"move_interactions"`
}

// MoveUser gives a user another home group. A user logged on to a queue
// cannot be moved. Their own property values, roles and group access stay
// (seed 004: "their permissions must be checked/updated" is the admin's
// job); their agent IDs follow them, since an assigned agent ID's group is
// its holder's home group.
func (s *Service) MoveUser(ctx context.Context, a *Actor, id int64, in MoveInput) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	return s.changeUser(ctx, a, id, "user.move", s.moveChange(ctx, a, in))
}

// moveChange is MoveUser's change of a user.
func (s *Service) moveChange(ctx context.Context, a *Actor, in MoveInput) func(tx Tx, u, before *User) error {
	return func(tx Tx, u, before *User) error {
		if in.GroupID < 1 {
			return oneFieldError("group_id", "is required: the new home group")
		}
		if _, err := tx.Group(ctx, a.TenantID, in.GroupID); err != nil {
			if ErrorCode(err) == ENotFound {
				return oneFieldError("group_id", "no group with id %d", in.GroupID)
			}
			return err
		}
		if before.QueueLoggedOn {
			return queueConflict(before, "moved")
		}
		u.GroupID = in.GroupID
		if err := s.groupsInScope(ctx, a, u, before); err != nil {
			return err
		}
		// The available group profiles follow the home group: a warning in
		// the answer and a message to the user.
		if err := s.warnProfilesChanged(ctx, tx, a, u, before.GroupID); err != nil {
			return err
		}
		if !in.MoveInteractions || before.GroupID == in.GroupID || len(u.AgentIDs) == 0 {
			return nil
		}
		n, err := tx.MoveInteractions(ctx, a.TenantID, u.AgentIDs, before.GroupID, in.GroupID)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "interactions.move", "user", u.ID, map[string]int64{"group_id": before.GroupID},
			map[string]int64{"group_id": in.GroupID, "interactions": n})
	}
}

func queueConflict(u *User, what string) error {
	return conflict(ReasonUserOnQueue, "%s is logged on to a queue and cannot be %s; log them off the queue first (PUT /api/v1/users/%d/queue with {\"logged_on\": false})", u.Username, what, u.ID)
}

// SetQueue logs a user on to or off the queue (PUT /users/{id}/queue). User
// managers may, integrations with interactions.ingest (the telephony system
// knows who is logged on) may, and every user may for themself.
// logged nil (the field was missing) is an error.
func (s *Service) SetQueue(ctx context.Context, a *Actor, id int64, logged *bool) (*User, error) {
	self := a.Kind == ActorUser && a.ID == id
	if a.ReadOnly {
		return nil, Errorf(EForbidden, "viewing as another user is read-only")
	}
	if !self {
		if err := a.requireWrite(PermUsersManage, PermInteractionsIngest); err != nil {
			return nil, err
		}
	}
	if logged == nil {
		return nil, oneFieldError("logged_on", "is required: true or false")
	}
	loggedOn := *logged
	var u *User
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, id); err != nil {
			return err
		}
		before, err := tx.User(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if !self {
			if err := s.userInScope(ctx, a, before, PermUsersManage, PermInteractionsIngest); err != nil {
				return err
			}
		}
		if before.Status != StatusActive && loggedOn {
			return conflict(ReasonUserNotActive, "%s is %s and cannot log on to a queue", before.Username, before.Status)
		}
		u = cloneUser(before)
		if u.QueueLoggedOn == loggedOn {
			return errUnchanged
		}
		u.QueueLoggedOn = loggedOn
		u.UpdatedAt = s.nextUpdate(u.UpdatedAt)
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "user.queue", "user", id, map[string]bool{"logged_on": before.QueueLoggedOn},
			map[string]bool{"logged_on": loggedOn}); err != nil {
			return err
		}
		return s.fillUserDetails(ctx, tx, u)
	})
	if errors.Is(err, errUnchanged) {
		err = s.fillUserDetails(ctx, s.store.Read(), u)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// errUnchanged rolls back a transaction that has nothing to do.
var errUnchanged = errors.New("unchanged")
