package roster

import (
	"context"
)

// Who a verified sign-in is (docs/rules.md, "Single sign-on"): the user
// linked to the IdP's subject; else, when the provider matches by email,
// the user with the email the IdP says it verified (then linked); else,
// with just-in-time creation on, a new user made through CreateUser as the
// person who configured the provider, so the grant rule holds. Deactivated
// users and deleted ones never get in; an invited user with a pending
// invitation is activated by the first sign-in.

// ssoMatch is who a verified sign-in names: decided by one function for a
// sign-in and for a "try sign-in", so the rules exist once.
type ssoMatch struct {
	userID int64
	link   bool // link the IdP's subject to userID
	create bool // nobody matches: just-in-time creation makes the user
}

// ssoMatchUser decides who c is: the user linked to the subject; else, when
// the provider matches by email, the user with the email the IdP verified;
// else, with just-in-time creation on, a user to make.
func (s *Service) ssoMatchUser(ctx context.Context, p *SSOProvider, t *Tenant, c *ssoClaims) (ssoMatch, error) {
	r := s.store.Read()
	unknown := Errorf(EForbidden, "no account of %s matches your %s sign-in%s; ask your administrator to invite you",
		t.Name, p.Name, emailNote(c.Email))
	var uid int64
	var err error
	if c.Subject != "" {
		if uid, err = r.SSOLinkedUser(ctx, p.TenantID, p.ID, c.Subject); err != nil {
			return ssoMatch{}, err
		}
	}
	link := false
	if uid == 0 && p.MatchClaim == SSOMatchEmail && c.Email != "" {
		if !c.emailVerified() {
			s.log.Info("sso: email not verified by the IdP", "tenant", p.TenantID, "provider", p.ID, "subject", c.Subject)
			return ssoMatch{}, Errorf(EForbidden, "%s has not verified your email address %s, so it cannot be used to find your account; ask your administrator",
				p.Name, c.Email)
		}
		if uid, err = r.UserIDByField(ctx, p.TenantID, "email", c.Email); err != nil {
			return ssoMatch{}, err
		}
		if uid != 0 && c.Subject != "" {
			sub, err := r.SSOUserSubject(ctx, p.TenantID, p.ID, uid)
			if err != nil {
				return ssoMatch{}, err
			}
			if sub != "" && sub != c.Subject {
				s.log.Warn("sso: account linked to another subject", "tenant", p.TenantID, "provider", p.ID, "user", uid)
				return ssoMatch{}, Errorf(EForbidden, "your account is linked to another %s account; ask your administrator", p.Name)
			}
			link = sub == ""
		}
	}
	if uid == 0 && p.JIT {
		return ssoMatch{create: true, link: c.Subject != ""}, nil
	}
	if uid == 0 {
		s.log.Info("sso: no matching user", "tenant", p.TenantID, "provider", p.ID, "subject", c.Subject)
		return ssoMatch{}, unknown
	}
	return ssoMatch{userID: uid, link: link}, nil
}

// ssoSignIn finds or makes the user of c and starts their session.
func (s *Service) ssoSignIn(ctx context.Context, p *SSOProvider, c *ssoClaims, in SSOCallbackInput) (*SignedIn, error) {
	t, err := s.store.Read().TenantByID(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	m, err := s.ssoMatchUser(ctx, p, t, c)
	if err != nil {
		return nil, err
	}
	if m.create {
		if m.userID, err = s.jitCreate(ctx, p, t, c, in); err != nil {
			return nil, err
		}
	}
	var out *SignedIn
	err = s.inTx(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, p.TenantID, m.userID)
		if ErrorCode(err) == ENotFound {
			return Errorf(EForbidden, "no account of %s matches your %s sign-in%s; ask your administrator to invite you",
				t.Name, p.Name, emailNote(c.Email)) // deleted meanwhile
		}
		if err != nil {
			return err
		}
		switch u.Status {
		case StatusDeactivated:
			return Errorf(EForbidden, "this account is deactivated; ask your administrator")
		case StatusInvited:
			if err := s.ssoActivate(ctx, tx, u, in); err != nil {
				return err
			}
		}
		if m.link {
			l := &SSOLink{TenantID: p.TenantID, ProviderID: p.ID, Subject: c.Subject, UserID: u.ID, CreatedAt: s.Now()}
			if err := tx.CreateSSOLink(ctx, l); err != nil {
				return err
			}
			a := userActor(u, in.IP, in.UserAgent)
			if err := s.audit(ctx, tx, a, "sso.link", "user", u.ID, nil, map[string]any{"provider_id": p.ID, "subject": c.Subject}); err != nil {
				return err
			}
		}
		if out, err = s.ssoSecondFactor(ctx, tx, p, u, c.MFAAsserted, in); out != nil || err != nil {
			return err
		}
		out, err = s.newSessionTx(ctx, tx, u, in.IP, in.UserAgent, in.Previous,
			map[string]any{"via": "sso", "provider_id": p.ID, "mfa_asserted": c.MFAAsserted,
				"mfa": map[bool]string{true: "idp"}[c.MFAAsserted && p.MFAFromIdP]})
		return err
	})
	if out != nil {
		out.MFAAsserted, out.ProviderID = c.MFAAsserted, p.ID
	}
	return out, err
}

func emailNote(email string) string {
	if email == "" {
		return ""
	}
	return " (" + email + ")"
}

// ssoActivate activates an invited user at their first sign-in, accepting
// their pending invitation; a cancelled or expired one lets nobody in.
func (s *Service) ssoActivate(ctx context.Context, tx Tx, u *User, in SSOCallbackInput) error {
	inv, err := tx.PendingInvitationOfUser(ctx, u.TenantID, u.ID)
	now := s.Now()
	if ErrorCode(err) == ENotFound || (err == nil && !now.Before(inv.ExpiresAt)) {
		return Errorf(EForbidden, "your invitation has expired or was cancelled; ask your administrator to invite you again")
	}
	if err != nil {
		return err
	}
	a := userActor(u, in.IP, in.UserAgent)
	before := cloneUser(u)
	u.Status, u.UpdatedAt = StatusActive, now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	accepted := *inv
	accepted.Status, accepted.AcceptedAt, accepted.UpdatedAt = InvitationAccepted, &now, now
	if err := tx.UpdateInvitation(ctx, &accepted); err != nil {
		return err
	}
	if err := tx.CancelPendingMessages(ctx, u.TenantID, invitationRef(inv.ID), now); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, "invitation.accept", "invitation", inv.ID, inv, &accepted); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "user.activate", "user", u.ID, before, u)
}

// jitCreate makes the user of c through CreateUser, acting as the person
// who configured the provider: what they may not give, a sign-in does not
// get (the grant rule, grants.go).
func (s *Service) jitCreate(ctx context.Context, p *SSOProvider, t *Tenant, c *ssoClaims, in SSOCallbackInput) (int64, error) {
	cannot := func(why string, args ...any) error {
		return Errorf(EForbidden, "your account cannot be created at sign-in: "+why+"; ask your administrator", args...)
	}
	if c.Email == "" || !c.emailVerified() {
		return 0, cannot("%s has not given a verified email address", p.Name)
	}
	if p.DefaultGroupID == nil || p.DefaultRole == "" {
		return 0, cannot("no role or group is set for new accounts")
	}
	a, err := s.configurer(ctx, p)
	if err != nil {
		s.log.Warn("sso: the provider's configurer cannot act", "tenant", p.TenantID, "provider", p.ID, "err", err)
		return 0, cannot("the person who set up %s can no longer create accounts", p.Name)
	}
	a.IP, a.UserAgent = in.IP, in.UserAgent
	name := c.Name
	if name == "" {
		name = c.Email
	}
	u, err := s.CreateUser(ctx, a, UserInput{Username: Some(c.Email), Name: Some(name), Email: Some(c.Email),
		Language: Some(t.Settings.DefaultLanguage), GroupID: Some(*p.DefaultGroupID), Roles: Some([]string{p.DefaultRole})})
	if err != nil {
		s.log.Warn("sso: just-in-time creation refused", "tenant", p.TenantID, "provider", p.ID, "err", err)
		switch ErrorCode(err) {
		case EForbidden:
			return 0, cannot("the person who set up %s may not give the role %q", p.Name, p.DefaultRole)
		case EConflict, EInvalid:
			return 0, cannot("%s", ErrorMessage(err))
		}
		return 0, err
	}
	return u.ID, nil
}

// configurer is the actor who last configured p, as they are now: a person
// must still be active, a token still live; their rights are today's.
func (s *Service) configurer(ctx context.Context, p *SSOProvider) (*Actor, error) {
	switch p.ConfiguredByKind {
	case ActorSystem:
		return SystemActor(p.TenantID), nil
	case ActorUser:
		return s.ActorForUser(ctx, p.TenantID, p.ConfiguredByID)
	case ActorToken:
		r := s.store.Read()
		tok, err := r.Token(ctx, p.TenantID, p.ConfiguredByID)
		if err != nil {
			return nil, err
		}
		if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !s.Now().Before(*tok.ExpiresAt)) {
			return nil, Errorf(EUnauthorized, "the token that configured the provider is revoked or expired")
		}
		role, err := r.Role(ctx, p.TenantID, tok.RoleID)
		if err != nil {
			return nil, err
		}
		a := &Actor{TenantID: p.TenantID, Kind: ActorToken, ID: tok.ID, Name: tok.Name, roleID: tok.RoleID, perms: map[string]bool{}}
		for _, perm := range role.Permissions {
			a.perms[perm] = true
		}
		return a, nil
	}
	return nil, Errorf(EInternal, "unknown configurer kind %q", p.ConfiguredByKind)
}
