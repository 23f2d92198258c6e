package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Bulk actions on users (issue 16): the console's "select on a page, or all
// matching the filter" and POST /api/v1/users/bulk. Each user's action IS
// the single action (DeactivateUser, MoveUser, ...) in its own transaction,
// so every rule holds exactly as for one user — scope, the grant rule, the
// more powerful target, queue state — each change with its audit event,
// and no transaction of a bulk action holds a write lock for longer than
// one user's change. A user a rule protects is refused with the reason; the
// others are done. A dry run runs the same actions in transactions that are
// rolled back (withDryRun), so the confirmation's list of refusals comes
// from the rules themselves, not from a copy of them.

// The bulk actions.
const (
	BulkDeactivate       = "deactivate"
	BulkReactivate       = "reactivate"
	BulkSetRole          = "set_role" // the users' roles become the one role given
	BulkMove             = "move"
	BulkResendInvitation = "resend_invitation"
	BulkDelete           = "delete"
)

// BulkActions lists the bulk actions in the order front doors offer them.
var BulkActions = []string{BulkDeactivate, BulkReactivate, BulkSetRole, BulkMove, BulkResendInvitation, BulkDelete}

// MaxBulkUsers bounds one bulk action: a larger selection is refused before
// any work, with a request to narrow the filter.
const MaxBulkUsers = 5000

// BulkInput is one bulk action on a selection of users: IDs, or every user
// the list Filter selects (its paging and sort are ignored).
type BulkInput struct {
	Action string     `json:"action"`
	IDs    []int64    `json:"ids"`
	Filter *UserQuery `json:"-"`
	// Role (set_role) is the key of the role the users get as their only role.
	Role string `json:"role"`
	// GroupID and MoveInteractions (move) are as for MoveUser.
	GroupID          int64 `json:"group_id"`
	MoveInteractions bool  `json:"move_interactions"`
}

// BulkUser names a user of a bulk action's result.
type BulkUser struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// BulkRefusal is a user a rule protected from the action: Reason is the
// refusal's stable name (a Reason, or its error code), Message its text.
type BulkRefusal struct {
	BulkUser
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// BulkResult says what a bulk action did (or, in a dry run, would do).
type BulkResult struct {
	Action  string        `json:"action"`
	DryRun  bool          `json:"dry_run"`
	Total   int           `json:"total"` // users selected
	Done    []BulkUser    `json:"done"`
	Refused []BulkRefusal `json:"refused"`
}

// BulkUsers applies in.Action to each selected user; with dryRun nothing is
// kept and the result says what would happen. Bad input (an unknown action,
// no or too large a selection, a missing role or group) is refused whole
// before anything runs; so is a role the actor may not give at all.
func (s *Service) BulkUsers(ctx context.Context, a *Actor, in BulkInput, dryRun bool) (*BulkResult, error) {
	perm := PermUsersManage
	if in.Action == BulkResendInvitation {
		perm = PermUsersInvite
	}
	if err := a.requireWrite(perm); err != nil {
		return nil, err
	}
	if err := s.checkBulk(ctx, a, in); err != nil {
		return nil, err
	}
	users, missing, err := s.bulkSelection(ctx, a, in)
	if err != nil {
		return nil, err
	}
	res := &BulkResult{Action: in.Action, DryRun: dryRun, Total: len(users) + len(missing), Done: []BulkUser{}, Refused: []BulkRefusal{}}
	for _, id := range missing {
		res.Refused = append(res.Refused, BulkRefusal{BulkUser: BulkUser{ID: id}, Reason: ENotFound, Message: fmt.Sprintf("no user with id %d", id)})
	}
	// One user's If-Match version is no other's: a bulk action checks none.
	ctx = context.WithValue(ctx, versionKey{}, nil)
	if dryRun {
		ctx = withDryRun(ctx)
	}
	for i := range users {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u := &users[i]
		who := BulkUser{ID: u.ID, Username: u.Username, Name: u.Name}
		err := s.bulkOne(ctx, a, in, u)
		switch ErrorCode(err) {
		case "":
			res.Done = append(res.Done, who)
		case EInternal, EUnavailable:
			return nil, err // the users before it are done (and audited); the caller sees the outage
		default:
			res.Refused = append(res.Refused, BulkRefusal{BulkUser: who, Reason: ErrorReason(err), Message: refusalText(err)})
		}
	}
	return res, nil
}

// bulkOne is the single action of in on user u.
func (s *Service) bulkOne(ctx context.Context, a *Actor, in BulkInput, u *User) error {
	var err error
	switch in.Action {
	case BulkDeactivate:
		_, err = s.DeactivateUser(ctx, a, u.ID)
	case BulkReactivate:
		_, err = s.ReactivateUser(ctx, a, u.ID)
	case BulkSetRole:
		_, err = s.UpdateUser(ctx, a, u.ID, UserInput{Roles: Some([]string{in.Role})})
	case BulkMove:
		_, err = s.MoveUser(ctx, a, u.ID, MoveInput{GroupID: in.GroupID, MoveInteractions: in.MoveInteractions})
	case BulkDelete:
		err = s.DeleteUser(ctx, a, u.ID)
	case BulkResendInvitation:
		if u.Status != StatusInvited {
			return conflict(ReasonUserNotInvited, "%s is %s, not invited", u.Username, u.Status)
		}
		var inv *Invitation
		if inv, err = s.InvitationOfUser(ctx, a, u.ID); err == nil {
			_, err = s.ResendInvitation(ctx, a, inv.ID)
		}
	}
	return err
}

// checkBulk refuses bad input whole, before any user is read.
func (s *Service) checkBulk(ctx context.Context, a *Actor, in BulkInput) error {
	var v Validation
	if !slices.Contains(BulkActions, in.Action) {
		v.Add("action", "%q is not a bulk action; use one of %s", in.Action, strings.Join(BulkActions, ", "))
	}
	switch {
	case in.Filter != nil && len(in.IDs) > 0:
		v.Add("ids", "give the users' ids or a filter, not both")
	case in.Filter == nil && len(in.IDs) == 0:
		v.Add("ids", "is required: the ids of the users to act on (or a filter)")
	case len(in.IDs) > MaxBulkUsers:
		v.Add("ids", "at most %d users at a time; %d given", MaxBulkUsers, len(in.IDs))
	}
	for i, id := range in.IDs {
		if id < 1 {
			v.Add("ids", "item %d: %d is not a user id", i, id)
			break
		}
	}
	if in.Action != BulkSetRole && in.Role != "" {
		v.Add("role", "is only for the action set_role")
	}
	if in.Action != BulkMove && (in.GroupID != 0 || in.MoveInteractions) {
		v.Add("group_id", "is only for the action move")
	}
	if in.Action == BulkMove && in.GroupID < 1 {
		v.Add("group_id", "is required: the new home group")
	}
	if in.Action == BulkSetRole && in.Role == "" {
		v.Add("role", "is required: the key of the role the users get")
	}
	if err := v.Err(); err != nil {
		return err
	}
	r := s.store.Read()
	switch in.Action {
	case BulkMove:
		if _, err := r.Group(ctx, a.TenantID, in.GroupID); ErrorCode(err) == ENotFound {
			return oneFieldError("group_id", "no group with id %d", in.GroupID)
		} else if err != nil {
			return err
		}
	case BulkSetRole:
		roles, err := r.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		role := rolesByKey(roles)[in.Role]
		if role == nil {
			return oneFieldError("role", "no role with the key %q", in.Role)
		}
		g, err := s.grantorOf(ctx, r, a, roles)
		if err != nil {
			return err
		}
		if err := g.mayAssign(role); err != nil { // nobody would get it
			return err
		}
	}
	return nil
}

// bulkSelection reads the selected users the actor may see: the ids given
// (those missing or out of sight come back as missing), or every user the
// filter selects, refused whole past MaxBulkUsers.
func (s *Service) bulkSelection(ctx context.Context, a *Actor, in BulkInput) (users []User, missing []int64, err error) {
	r := s.store.Read()
	if in.Filter == nil {
		seen := map[int64]bool{}
		for _, id := range in.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			u, err := r.User(ctx, a.TenantID, id)
			if ErrorCode(err) == ENotFound {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if err := s.userInScope(ctx, a, u, PermUsersView); err != nil {
				if ErrorCode(err) != ENotFound {
					return nil, nil, err
				}
				missing = append(missing, id) // out of sight answers as missing
				continue
			}
			users = append(users, *u)
		}
		return users, missing, nil
	}
	q := *in.Filter
	q.Page, q.PerPage, q.Sort, q.Order = "", "", "", ""
	f, err := s.userFilter(ctx, a, q)
	if err != nil {
		return nil, nil, err
	}
	if f.Scope, err = s.scopeOf(ctx, a, PermUsersView); err != nil {
		return nil, nil, err
	}
	f.Keyset, f.PerPage = true, exportChunk
	for {
		page, _, err := r.ListUsers(ctx, a.TenantID, f)
		if err != nil {
			return nil, nil, err
		}
		users = append(users, page...)
		if len(users) > MaxBulkUsers {
			return nil, nil, oneFieldError("filter", "selects more than %d users; bulk actions take at most %d at a time: narrow the filter", MaxBulkUsers, MaxBulkUsers)
		}
		if len(page) < f.PerPage {
			return users, nil, nil
		}
		f.After = page[len(page)-1].ID
	}
}

// refusalText is a refusal's message; for invalid input, its first field's.
func refusalText(err error) string {
	if e, ok := err.(*Error); ok && e.Code == EInvalid && len(e.Fields) > 0 {
		return e.Fields[0].Field + ": " + e.Fields[0].Message
	}
	return ErrorMessage(err)
}
