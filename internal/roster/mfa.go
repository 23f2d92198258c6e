package roster

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
)

// Multi-factor authentication (docs/mfa.md): an authenticator app (TOTP,
// mfa_totp.go), passkeys (WebAuthn, mfa_passkey.go) and recovery codes;
// the second-factor step of sign-in (mfa_signin.go); who must use one
// (mfa_policy.go); and the admin's reset, here.

// MFAStatus is what the user's account page shows of their factors.
type MFAStatus struct {
	Policy        string    `json:"policy"`
	Required      bool      `json:"required"`
	TOTP          bool      `json:"totp"`
	TOTPPending   bool      `json:"totp_pending"`
	RecoveryCodes int       `json:"recovery_codes_left"`
	Passkeys      []Passkey `json:"passkeys"`
}

// Enrolled reports whether the user has a second factor.
func (st *MFAStatus) Enrolled() bool { return st.TOTP || len(st.Passkeys) > 0 }

// mfaSelf: only a signed-in person, acting as themself, changes their own
// factors (not an API token, not someone viewing as them).
func (s *Service) mfaSelf(a *Actor) error {
	if err := s.meUser(a); err != nil {
		return err
	}
	if a.ReadOnly {
		return forbiddenBy(ReasonReadOnly, "viewing as another user is read-only")
	}
	return nil
}

func (s *Service) userAndTenant(ctx context.Context, r Reader, a *Actor) (*User, *Tenant, error) {
	u, err := r.User(ctx, a.TenantID, a.ID)
	if err != nil {
		return nil, nil, err
	}
	t, err := r.TenantByID(ctx, a.TenantID)
	return u, t, err
}

// MyMFA is the signed-in user's factors.
func (s *Service) MyMFA(ctx context.Context, a *Actor) (*MFAStatus, error) {
	if err := s.meUser(a); err != nil {
		return nil, err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, a.ID)
	if err != nil {
		return nil, err
	}
	return s.mfaStatusTx(ctx, r, u)
}

func (s *Service) mfaStatusTx(ctx context.Context, r Reader, u *User) (*MFAStatus, error) {
	p, err := s.tenantMFAPolicy(ctx, u.TenantID)
	if err != nil {
		return nil, err
	}
	st := &MFAStatus{Policy: p.policy, Passkeys: []Passkey{}}
	if st.Required, err = s.mfaRequiredFor(ctx, r, p, u); err != nil {
		return nil, err
	}
	f, err := r.TOTPFactor(ctx, u.TenantID, u.ID)
	switch ErrorCode(err) {
	case "":
		st.TOTP, st.TOTPPending = f.ConfirmedAt != nil, f.ConfirmedAt == nil
	case ENotFound:
	default:
		return nil, err
	}
	if st.RecoveryCodes, err = r.RecoveryCodesLeft(ctx, u.TenantID, u.ID); err != nil {
		return nil, err
	}
	keys, err := r.Passkeys(ctx, u.TenantID, u.ID)
	if err != nil {
		return nil, err
	}
	if keys != nil {
		st.Passkeys = keys
	}
	return st, nil
}

// UserMFA is whether a user has factors, for an admin who may see the user.
func (s *Service) UserMFA(ctx context.Context, a *Actor, userID int64) (*MFAStatus, error) {
	if err := a.require(PermUsersView, PermUsersManage); err != nil {
		return nil, err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, userID)
	if err != nil {
		return nil, err
	}
	if err := s.userInScope(ctx, a, u, PermUsersView, PermUsersManage); err != nil {
		return nil, err
	}
	return s.mfaStatusTx(ctx, r, u)
}

// ResetMFA removes every factor of a user (their authenticator app, their
// passkeys and recovery codes), for someone who lost them. It needs
// users.manage, the user in reach and the "more powerful target" rule
// (grants.go): factors are credentials. The user is told by email, and
// their sessions end, so whoever had the lost device is out. A user the
// policy requires to use a second factor enrols again at the next sign-in.
func (s *Service) ResetMFA(ctx context.Context, a *Actor, userID int64) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return err
		}
		n, err := tx.DeleteFactors(ctx, a.TenantID, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return Errorf(EConflict, "%s has no second factor set up", u.Username)
		}
		if _, err := tx.DeleteUserSessions(ctx, a.TenantID, u.ID, 0); err != nil {
			return err
		}
		if err := s.noticeMFAReset(ctx, tx, a, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "mfa.reset", "user", u.ID, map[string]any{"factors": n}, map[string]any{"factors": 0})
	})
	if err == nil {
		s.notifyOutbox()
	}
	return err
}

// noticeMFAReset tells the user by email that their factors were removed.
func (s *Service) noticeMFAReset(ctx context.Context, tx Tx, a *Actor, u *User) error {
	if u.Email == "" {
		return nil
	}
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return err
	}
	brand := cmp.Or(t.Settings.BrandingName, t.Name)
	subject := fmt.Sprintf("Your two-step sign-in at %s was reset", brand)
	text := fmt.Sprintf("Hello %s,\n\n%s removed the second factors (authenticator app, passkeys and recovery codes) of your account %s at %s, and signed you out.\n\n"+
		"If your organisation requires a second factor, you will set up a new one the next time you sign in.\n\n"+
		"If you did not ask for this, contact your administrator at once.\n", cmp.Or(u.Name, u.Username), cmp.Or(a.Name, "An administrator"), u.Username, brand)
	now := s.Now()
	m := &OutboxMessage{TenantID: a.TenantID, Channel: ChannelEmail, Recipient: u.Email, Language: u.Language,
		Kind: "mfa_reset", Ref: "user:" + strconv.FormatInt(u.ID, 10) + ":mfa", Subject: subject, Text: text,
		Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	return tx.EnqueueMessage(ctx, m)
}
