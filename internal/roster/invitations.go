package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// invitationTokenPrefix marks invitation tokens in links.
const invitationTokenPrefix = "inv_"

// MaxInvitationsPerRequest bounds one invitation batch.
const MaxInvitationsPerRequest = 500

// InvitationLink is a new or renewed invitation with its link. The link holds
// the token, which exists nowhere else: show it once.
type InvitationLink struct {
	Invitation *Invitation
	URL        string
}

func (s *Service) invitationURL(token string) string {
	return s.PublicURL() + "/invite/" + token
}

// tenantDisplayName is the name people see in messages.
func tenantDisplayName(t *Tenant) string {
	if t.Settings.BrandingName != "" {
		return t.Settings.BrandingName
	}
	return t.Name
}

// InviteUsers creates one invited user per row, each with an invitation and
// its email, all in one transaction: every row is valid and created, or
// nothing is. Errors name their row: "invitations[2].email". Without a
// username, the email address is the username.
func (s *Service) InviteUsers(ctx context.Context, a *Actor, rows []UserInput) ([]InvitationLink, error) {
	if err := a.requireWrite(PermUsersInvite); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, badField("invitations", "at least one invitation is required")
	}
	if len(rows) > MaxInvitationsPerRequest {
		return nil, badField("invitations", "at most %d invitations at once", MaxInvitationsPerRequest)
	}
	rows, dups, err := s.checkInvitations(ctx, a, rows)
	if err != nil {
		return nil, err
	}
	// The rows repeating an earlier row of the batch (dups): reported as
	// such, not as "taken by another user".
	dupRow := map[int]bool{}
	for _, f := range dups.fields {
		var i int
		if _, err := fmt.Sscanf(f.Field, "invitations[%d].", &i); err == nil {
			dupRow[i] = true
		}
	}
	var out []InvitationLink
	err = s.inTx(ctx, func(tx Tx) error {
		t, err := tx.TenantByID(ctx, a.TenantID)
		if err != nil {
			return err
		}
		inviter, err := s.inviterName(ctx, tx, a)
		if err != nil {
			return err
		}
		refs := newUserRefs(tx, a.TenantID)
		if err := refs.loadGroups(ctx, batchGroupIDs(rows)); err != nil { // one query for the batch
			return err
		}
		var v Validation
		v.fields = append(v.fields, dups.fields...)
		conflictsOnly := true
		for i, in := range rows {
			if dupRow[i] {
				continue
			}
			u, err := s.createUserTx(ctx, tx, a, refs, in, StatusInvited)
			if err != nil {
				fields := ErrorFields(err)
				code := ErrorCode(err)
				if len(fields) == 0 || (code != EInvalid && code != EConflict) {
					return err
				}
				v.Merge(fmt.Sprintf("invitations[%d].", i), err)
				if code != EConflict {
					conflictsOnly = false
				}
				continue
			}
			if !v.OK() {
				continue // the batch fails; keep checking the other rows
			}
			link, err := s.createInvitationTx(ctx, tx, a, t, u, inviter)
			if err != nil {
				return err
			}
			out = append(out, *link)
		}
		if err := v.Err(); err != nil {
			if conflictsOnly {
				err.(*Error).Code = EConflict
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyOutbox()
	return out, nil
}

// checkInvitations checks every row of a batch before the transaction
// (checkUserInput), each within the bounds of a user; the rows' groups and
// roles are looked up on a plain read only when something is wrong already,
// so the answer names every bad field of every row. It returns the rows
// normalised.
func (s *Service) checkInvitations(ctx context.Context, a *Actor, rows []UserInput) ([]UserInput, *Validation, error) {
	r := s.store.Read()
	t, err := r.TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, nil, err
	}
	var v Validation
	out := make([]UserInput, len(rows))
	for i, in := range rows {
		prefix := fmt.Sprintf("invitations[%d].", i)
		email := strings.ToLower(strings.TrimSpace(in.Email.V))
		if email == "" {
			v.Add(prefix+"email", "is required: the invitation is sent by email")
		}
		if strings.TrimSpace(in.Username.V) == "" && len(email) <= MaxUsernameLen && usernamePattern.MatchString(email) {
			in.Username = Some(email)
		}
		in, rowV := checkUserInput(in, true, t.Settings.Languages)
		for _, f := range rowV.fields {
			if !(email == "" && f.Field == "email") { // said once already
				v.Add(prefix+f.Field, "%s", f.Message)
			}
		}
		if slices.Contains(in.Roles.V, RoleTeamLeader) && len(in.GroupAccess.V) == 0 {
			v.Add(prefix+"group_access", "a Team Leader needs at least one team: choose the teams whose agents they see on My Team")
		}
		out[i] = in
	}
	var dups Validation
	batchDuplicates(out, &dups)
	if v.OK() {
		return out, &dups, nil // duplicates join the conflicts found in the transaction
	}
	v.fields = append(v.fields, dups.fields...)
	refs := newUserRefs(r, a.TenantID)
	if err := refs.loadGroups(ctx, batchGroupIDs(out)); err != nil {
		return nil, nil, err
	}
	for i, in := range out {
		if err := refs.check(ctx, fmt.Sprintf("invitations[%d].", i), in, true, &v); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, v.Err()
}

// inviterName is how the invitation email names who invited: a person by
// their name; a token or the platform as "your administrator" (empty).
func (s *Service) inviterName(ctx context.Context, tx Reader, a *Actor) (string, error) {
	if a.Kind != ActorUser {
		return "", nil
	}
	u, err := tx.User(ctx, a.TenantID, a.ID)
	if err != nil {
		return "", err
	}
	return u.Name, nil
}

func (s *Service) createInvitationTx(ctx context.Context, tx Tx, a *Actor, t *Tenant, u *User, inviter string) (*InvitationLink, error) {
	now := s.Now()
	token := NewSecret(invitationTokenPrefix)
	inv := &Invitation{TenantID: a.TenantID, UserID: u.ID, Email: u.Email, Name: u.Name, Username: u.Username,
		Status: InvitationPending, TokenHash: HashSecret(token), ExpiresAt: now.Add(invitationLifetime(t)),
		SendCount: 1, LastSentAt: now, InvitedByKind: a.Kind, InvitedByID: a.ID, InvitedByName: a.Name,
		CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateInvitation(ctx, inv); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, "invitation.create", "invitation", inv.ID, nil, inv); err != nil {
		return nil, err
	}
	if err := s.enqueueInvitationTx(ctx, tx, t, u, inv, inviter, token); err != nil {
		return nil, err
	}
	return &InvitationLink{Invitation: inv, URL: s.invitationURL(token)}, nil
}

func invitationLifetime(t *Tenant) time.Duration {
	days := t.Settings.InvitationExpiryDays
	if days < 1 {
		days = DefaultTenantSettings().InvitationExpiryDays
	}
	return time.Duration(days) * 24 * time.Hour
}

func invitationRef(id int64) string { return fmt.Sprintf("invitation:%d", id) }

func (s *Service) enqueueInvitationTx(ctx context.Context, tx Tx, t *Tenant, u *User, inv *Invitation, inviter, token string) error {
	d := messageData{Tenant: tenantDisplayName(t), Name: u.Name, Username: u.Username, Inviter: inviter,
		Link: s.invitationURL(SecretMarker), Expires: formatTime(inv.ExpiresAt, u.Language)}
	_, err := s.enqueueTx(ctx, tx, t.ID, ChannelEmail, u.Email, u.Language, "invitation", invitationRef(inv.ID), token, d)
	return err
}

// Invitation returns one invitation of the actor's tenant.
func (s *Service) Invitation(ctx context.Context, a *Actor, id int64) (*Invitation, error) {
	if err := a.require(PermUsersInvite, PermUsersView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	inv, err := r.Invitation(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	// Scoped like its user: an invitation names the invited person. A
	// cancelled one's user is gone, so only tenant-wide actors see it.
	sf, err := s.scopeOf(ctx, a, PermUsersInvite, PermUsersView)
	if err != nil {
		return nil, err
	}
	if sf != nil {
		u, err := r.User(ctx, a.TenantID, inv.UserID)
		if ErrorCode(err) == ENotFound || (err == nil && !sf.userVisible(u)) {
			return nil, Errorf(ENotFound, "no such invitation")
		}
		if err != nil {
			return nil, err
		}
	}
	inv.Status = inv.EffectiveStatus(s.Now())
	return inv, nil
}

// InvitationQuery is an invitation list request as front doors receive it.
type InvitationQuery struct {
	Status  string // comma-separated: pending, accepted, cancelled, expired
	Page    string
	PerPage string
}

// ListInvitations returns one page of the tenant's invitations, newest first.
func (s *Service) ListInvitations(ctx context.Context, a *Actor, q InvitationQuery) (*Page[Invitation], error) {
	if err := a.require(PermUsersInvite, PermUsersView); err != nil {
		return nil, err
	}
	var v Validation
	f := InvitationFilter{Now: s.Now()}
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	if q.Status != "" {
		for _, st := range strings.Split(q.Status, ",") {
			st = strings.TrimSpace(st)
			switch st {
			case InvitationPending, InvitationAccepted, InvitationCancelled, InvitationExpired:
				f.Statuses = append(f.Statuses, st)
			default:
				v.Add("status", "%q is not a status; use pending, accepted, cancelled or expired", st)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var err error
	if f.Scope, err = s.scopeOf(ctx, a, PermUsersInvite, PermUsersView); err != nil {
		return nil, err
	}
	items, total, err := s.store.Read().ListInvitations(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Status = items[i].EffectiveStatus(f.Now)
	}
	return &Page[Invitation]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}

// ResendInvitation gives a pending or expired invitation a new token and a
// new expiry and emails it again. The old link stops working, and an older
// email still waiting in the outbox is cancelled.
func (s *Service) ResendInvitation(ctx context.Context, a *Actor, id int64) (*Invitation, error) {
	link, err := s.renewInvitation(ctx, a, id, "invitation.resend", true)
	if err != nil {
		return nil, err
	}
	s.notifyOutbox()
	return link.Invitation, nil
}

// InvitationLinkURL returns a working link to copy into another channel.
// Only a hash of a token is stored, so the link cannot be read back: this
// makes a new token (with a new expiry) and the link in an earlier email
// stops working. No email is sent.
func (s *Service) InvitationLinkURL(ctx context.Context, a *Actor, id int64) (*InvitationLink, error) {
	return s.renewInvitation(ctx, a, id, "invitation.link", false)
}

func (s *Service) renewInvitation(ctx context.Context, a *Actor, id int64, action string, email bool) (*InvitationLink, error) {
	if err := a.requireWrite(PermUsersInvite); err != nil {
		return nil, err
	}
	var link *InvitationLink
	err := s.inTx(ctx, func(tx Tx) error {
		before, err := tx.Invitation(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, a.TenantID, before.UserID)
		if ErrorCode(err) == ENotFound {
			return conflict(ReasonInvitationClosed, "this invitation is %s; only pending or expired invitations can be sent again", before.Status)
		}
		if err != nil {
			return err
		}
		// A new link is a credential: whoever gets it becomes the user.
		if err := s.mayActOnInvited(ctx, tx, a, u); err != nil {
			return err
		}
		if before.Status != InvitationPending {
			return conflict(ReasonInvitationClosed, "this invitation is %s; only pending or expired invitations can be sent again", before.Status)
		}
		if u.Status != StatusInvited {
			return conflict(ReasonUserNotInvited, "%s is %s, not invited", u.Username, u.Status)
		}
		link, err = s.renewInvitationTx(ctx, tx, a, before, u, action, email)
		return err
	})
	return link, err
}

// renewInvitationTx gives the pending invitation before of user u a new
// token and expiry (the old link stops working, an unsent email is
// cancelled), emailing it to u's address when email is set.
func (s *Service) renewInvitationTx(ctx context.Context, tx Tx, a *Actor, before *Invitation, u *User, action string, email bool) (*InvitationLink, error) {
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	token := NewSecret(invitationTokenPrefix)
	inv := *before
	inv.TokenHash = HashSecret(token)
	inv.ExpiresAt = now.Add(invitationLifetime(t))
	inv.Email, inv.Name, inv.Username = u.Email, u.Name, u.Username
	inv.UpdatedAt = now
	if email {
		inv.SendCount++
		inv.LastSentAt = now
	}
	if err := tx.CancelPendingMessages(ctx, a.TenantID, invitationRef(inv.ID), now); err != nil {
		return nil, err
	}
	if err := tx.UpdateInvitation(ctx, &inv); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, a, action, "invitation", inv.ID, before, &inv); err != nil {
		return nil, err
	}
	if email {
		inviter, err := s.inviterName(ctx, tx, a)
		if err != nil {
			return nil, err
		}
		if err := s.enqueueInvitationTx(ctx, tx, t, u, &inv, inviter, token); err != nil {
			return nil, err
		}
	}
	return &InvitationLink{Invitation: &inv, URL: s.invitationURL(token)}, nil
}

// renewOnChangeTx: a link to an invitation opens the account as it is when
// the link is used, so when an invited user's address changes or they gain
// a role, group access or the roaming flag, every earlier link (one sent to
// a mistyped address, one copied by someone who may not act on them now)
// stops working and a new one goes to their address.
func (s *Service) renewOnChangeTx(ctx context.Context, tx Tx, a *Actor, before, u *User) error {
	if before.Status != StatusInvited || u.Status != StatusInvited {
		return nil
	}
	gained := u.Email != before.Email || (u.Roaming && !before.Roaming)
	for _, k := range u.Roles {
		gained = gained || !slices.Contains(before.Roles, k)
	}
	for _, g := range u.GroupAccess {
		gained = gained || !slices.Contains(before.GroupAccess, g)
	}
	if !gained {
		return nil
	}
	inv, err := tx.PendingInvitationOfUser(ctx, a.TenantID, u.ID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.renewInvitationTx(ctx, tx, a, inv, u, "invitation.resend", u.Email != "")
	return err
}

// CancelInvitation withdraws a pending or expired invitation: the link stops
// working, an unsent email is cancelled and the invited user is deleted, so
// they leave every list. The audit log keeps the invitation and the user.
func (s *Service) CancelInvitation(ctx context.Context, a *Actor, id int64) error {
	if err := a.requireWrite(PermUsersInvite); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindInvitation, a.TenantID, id); err != nil {
			return err
		}
		inv, err := tx.Invitation(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if inv.Status != InvitationPending {
			return conflict(ReasonInvitationClosed, "this invitation is %s already", inv.Status)
		}
		u, err := tx.User(ctx, a.TenantID, inv.UserID)
		if err != nil {
			return err
		}
		if err := s.mayActOnInvited(ctx, tx, a, u); err != nil {
			return err
		}
		if err := s.cancelInvitationTx(ctx, tx, a, inv); err != nil {
			return err
		}
		if u.Status != StatusInvited {
			return nil // deactivated meanwhile: the user stays, as deactivated
		}
		if _, err := tx.DeleteUserSessions(ctx, a.TenantID, u.ID, 0); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, a.TenantID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.delete", "user", u.ID, u, nil)
	})
}

// cancelInvitationTx marks inv cancelled and cancels its unsent emails.
func (s *Service) cancelInvitationTx(ctx context.Context, tx Tx, a *Actor, inv *Invitation) error {
	now := s.Now()
	after := *inv
	after.Status = InvitationCancelled
	after.CancelledAt = &now
	after.UpdatedAt = now
	if err := tx.CancelPendingMessages(ctx, a.TenantID, invitationRef(inv.ID), now); err != nil {
		return err
	}
	if err := tx.UpdateInvitation(ctx, &after); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "invitation.cancel", "invitation", inv.ID, inv, &after)
}

// mayActOnInvited: resending, copying the link of or cancelling an
// invitation acts on the invited user, so it needs the user in the actor's
// scope (an invitation out of reach answers 404 like a missing one) and
// the "more powerful target" rule: a link to an Admin's
// invitation would make its holder that Admin.
func (s *Service) mayActOnInvited(ctx context.Context, tx Tx, a *Actor, u *User) error {
	if err := s.userInScope(ctx, a, u, PermUsersInvite, PermUsersManage); err != nil {
		return Errorf(ENotFound, "no such invitation")
	}
	return s.actOn(ctx, tx, a, u)
}
