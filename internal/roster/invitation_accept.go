package roster

import (
	"context"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/auth"
)

// Opening an invitation link: what the invited person sees, and accepting it.

// InvitationInfo is what the invitation page shows before the password is set.
type InvitationInfo struct {
	Tenant            string    `json:"tenant"`
	TenantSlug        string    `json:"tenant_slug"`
	Name              string    `json:"name"`
	Username          string    `json:"username"`
	Email             string    `json:"email"`
	ExpiresAt         time.Time `json:"expires_at"`
	MinPasswordLength int       `json:"min_password_length"`
	// Language is the invited user's: the invitation page speaks it.
	Language string `json:"-"`
}

// openInvitation finds the pending invitation of token, or says plainly why
// the link does not work: unknown or replaced (not found), used (conflict),
// expired or cancelled (gone). An expired link says so and nothing else.
func (s *Service) openInvitation(ctx context.Context, r Reader, token string) (*Invitation, *User, *Tenant, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, nil, nil, badField("token", "is required")
	}
	inv, err := r.InvitationByTokenHash(ctx, HashSecret(token))
	if ErrorCode(err) == ENotFound {
		return nil, nil, nil, Errorf(ENotFound, "this invitation link is not valid; it may have been replaced by a newer one — use the link in the most recent email")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	switch inv.EffectiveStatus(s.Now()) {
	case InvitationAccepted:
		return nil, nil, nil, conflict(ReasonInvitationUsed, "this invitation has been used already; sign in with your username and password")
	case InvitationCancelled:
		return nil, nil, nil, Errorf(EGone, "this invitation was cancelled")
	case InvitationExpired:
		return nil, nil, nil, Errorf(EGone, "this invitation link expired on %s; ask your administrator to send a new invitation",
			formatTime(inv.ExpiresAt, "en"))
	}
	u, err := r.User(ctx, inv.TenantID, inv.UserID)
	if ErrorCode(err) == ENotFound || (err == nil && u.Status != StatusInvited) {
		return nil, nil, nil, Errorf(EGone, "this invitation was cancelled")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := r.TenantByID(ctx, inv.TenantID)
	if err != nil {
		return nil, nil, nil, err
	}
	return inv, u, t, nil
}

// InspectInvitation tells the invitation page whom a link invites, or why
// it does not work.
func (s *Service) InspectInvitation(ctx context.Context, token string) (*InvitationInfo, error) {
	inv, u, t, err := s.openInvitation(ctx, s.store.Read(), token)
	if err != nil {
		return nil, err
	}
	return &InvitationInfo{Tenant: tenantDisplayName(t), TenantSlug: t.Slug, Name: u.Name, Username: u.Username, Email: u.Email, Language: u.Language,
		ExpiresAt: inv.ExpiresAt, MinPasswordLength: t.Settings.MinPasswordLength}, nil
}

// AcceptInvitation sets the invited user's password and activates them. The
// link works once.
func (s *Service) AcceptInvitation(ctx context.Context, token, password, ip, userAgent string) (*User, error) {
	inv, u, t, err := s.openInvitation(ctx, s.store.Read(), token)
	if err != nil {
		return nil, err
	}
	if msg := auth.NewPolicy(t.Settings.MinPasswordLength).Check(password, u.Username, u.Email, u.Name); msg != "" {
		return nil, badField("password", "%s", msg)
	}
	// Hash outside the transaction: it takes tens of milliseconds and must
	// not hold the database's write lock.
	hash, err := s.lcState().hasher.Hash(password)
	if err != nil {
		return nil, err
	}
	var after *User
	err = s.inTx(ctx, func(tx Tx) error {
		// Read again inside the transaction: a resend, a cancel or a second
		// accept may have come first.
		inv2, before, _, err := s.openInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if inv2.ID != inv.ID || before.ID != u.ID {
			return Errorf(ENotFound, "this invitation link is not valid")
		}
		a := userActor(before, ip, userAgent)
		now := s.Now()
		if err := tx.SetPasswordHash(ctx, before.TenantID, before.ID, hash); err != nil {
			return err
		}
		after = cloneUser(before)
		after.Status = StatusActive
		after.UpdatedAt = now
		if err := tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		accepted := *inv2
		accepted.Status = InvitationAccepted
		accepted.AcceptedAt = &now
		accepted.UpdatedAt = now
		if err := tx.UpdateInvitation(ctx, &accepted); err != nil {
			return err
		}
		if err := tx.CancelPendingMessages(ctx, before.TenantID, invitationRef(inv2.ID), now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "invitation.accept", "invitation", inv2.ID, inv2, &accepted); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.activate", "user", before.ID, before, after)
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}
