package roster

import (
	"context"
	"strings"
	"time"
)

// Impersonation is a "view as": an administrator with users.impersonate acts
// as another user's view, read-only, for a short time. The bearer secret is
// shown once; only its hash is stored. Every start and stop is audited.
type Impersonation struct {
	ID               int64      `json:"id"`
	TenantID         int64      `json:"-"`
	UserID           int64      `json:"user_id"`
	ImpersonatorKind string     `json:"impersonator_kind"`
	ImpersonatorID   int64      `json:"impersonator_id"`
	ImpersonatorName string     `json:"impersonator_name"`
	Hash             []byte     `json:"-"`
	CreatedAt        time.Time  `json:"created_at"`
	ExpiresAt        time.Time  `json:"expires_at"`
	EndedAt          *time.Time `json:"ended_at"`
}

// ImpersonationTTL is how long a view-as lasts unless stopped earlier.
const ImpersonationTTL = time.Hour

const impersonationPrefix = "rsi_"

// IsImpersonationSecret tells an impersonation secret from other bearer tokens.
func IsImpersonationSecret(secret string) bool { return strings.HasPrefix(secret, impersonationPrefix) }

// StartImpersonation lets the actor view the product as user userID sees it.
// The returned secret acts as that user (their permissions and scope),
// read-only, with the actor recorded as impersonator on audit events. Nobody
// can view as themself, as a user they may not see, or as a user holding
// administrative permissions they do not hold themself.
func (s *Service) StartImpersonation(ctx context.Context, a *Actor, userID int64) (*Impersonation, string, error) {
	if err := a.requireWrite(PermUsersImpersonate); err != nil {
		return nil, "", err
	}
	secret := NewSecret(impersonationPrefix)
	var im *Impersonation
	err := s.inTx(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersImpersonate); err != nil {
			return err
		}
		if a.Kind == ActorUser && a.ID == u.ID {
			return oneFieldError("user_id", "you cannot view as yourself")
		}
		if u.Status != StatusActive {
			return conflict(ReasonUserNotActive, "%s is %s; only active users can be viewed as", u.Username, u.Status)
		}
		if err := s.checkViewAs(ctx, tx, a, u); err != nil {
			return err
		}
		now := s.Now()
		im = &Impersonation{TenantID: a.TenantID, UserID: u.ID, ImpersonatorKind: a.Kind, ImpersonatorID: a.ID,
			ImpersonatorName: a.Name, Hash: HashSecret(secret), CreatedAt: now, ExpiresAt: now.Add(ImpersonationTTL)}
		if err := tx.CreateImpersonation(ctx, im); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "impersonation.start", "user", u.ID, nil,
			map[string]any{"impersonation_id": im.ID, "username": u.Username, "expires_at": im.ExpiresAt})
	})
	if err != nil {
		return nil, "", err
	}
	return im, secret, nil
}

// checkViewAs refuses a view that would show more than the actor may see:
// every permission of the viewed user must be the actor's, as far as the
// viewed user's roles reach (the grant rule without delegation, grants.go).
func (s *Service) checkViewAs(ctx context.Context, tx Reader, a *Actor, u *User) error {
	roles, err := tx.ListRoles(ctx, a.TenantID)
	if err != nil {
		return err
	}
	g, err := s.grantorOf(ctx, tx, a, roles)
	if err != nil {
		return err
	}
	for _, k := range u.Roles {
		r := g.roles[k]
		if r == nil {
			continue
		}
		if perm, narrower := g.shortfall(r, widthRank(r.Scope)); perm != "" {
			if narrower {
				return Errorf(EForbidden, "%s's role %q reaches further than your own; you cannot view as them", u.Username, r.Name)
			}
			return Errorf(EForbidden, "%s holds the permission %q, which you do not hold; you cannot view as them", u.Username, perm)
		}
	}
	// The view shows the viewed user's groups: each must be one the
	// impersonator sees.
	sf, err := s.scopeOf(ctx, a, PermUsersImpersonate)
	if err != nil {
		return err
	}
	for _, gid := range u.GroupAccess {
		if !sf.hasGroup(gid) {
			return Errorf(EForbidden, "%s has access to groups outside your own; you cannot view as them", u.Username)
		}
	}
	return nil
}

// AuthenticateImpersonation turns an impersonation secret into the viewed
// user's actor: read-only, with the impersonator recorded.
func (s *Service) AuthenticateImpersonation(ctx context.Context, secret string) (*Actor, error) {
	over := Errorf(EUnauthorized, "this view-as has ended or expired; start a new one")
	if !IsImpersonationSecret(secret) {
		return nil, over
	}
	im, err := s.store.Read().ImpersonationByHash(ctx, HashSecret(secret))
	if ErrorCode(err) == ENotFound {
		return nil, over
	}
	if err != nil {
		return nil, err
	}
	if im.EndedAt != nil || !s.Now().Before(im.ExpiresAt) {
		return nil, over
	}
	a, err := s.ActorForUser(ctx, im.TenantID, im.UserID)
	if ErrorCode(err) == EUnauthorized {
		return nil, over
	}
	if err != nil {
		return nil, err
	}
	// The impersonator must still be allowed to start this view, at every
	// request: a revoked token's view ends with it, and a viewed user who
	// has since gained rights the impersonator lacks is no longer theirs
	// to view.
	if ok, err := s.viewAsStillAllowed(ctx, im); err != nil || !ok {
		if err == nil || ErrorCode(err) == EUnauthorized {
			return nil, over
		}
		return nil, err
	}
	impersonator := im.ImpersonatorID
	a.ReadOnly, a.ImpersonatorID, a.impersonation = true, &impersonator, im.ID
	return a, nil
}

// viewAsStillAllowed rechecks StartImpersonation's rules for im with its
// impersonator as they stand now.
func (s *Service) viewAsStillAllowed(ctx context.Context, im *Impersonation) (bool, error) {
	r := s.store.Read()
	var imp *Actor
	switch im.ImpersonatorKind {
	case ActorUser:
		var err error
		if imp, err = s.ActorForUser(ctx, im.TenantID, im.ImpersonatorID); err != nil {
			return false, err
		}
	case ActorToken:
		tok, err := r.Token(ctx, im.TenantID, im.ImpersonatorID)
		if ErrorCode(err) == ENotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !s.Now().Before(*tok.ExpiresAt)) {
			return false, nil
		}
		role, err := r.Role(ctx, im.TenantID, tok.RoleID)
		if err != nil {
			return false, err
		}
		if tok.BoundUserID != nil {
			ok, err := s.authz.HoldsTenantWide(ctx, im.TenantID, *tok.BoundUserID, permSet(role.Permissions))
			if err != nil || !ok {
				return false, err
			}
		}
		imp = &Actor{TenantID: im.TenantID, Kind: ActorToken, ID: tok.ID, Name: tok.Name, perms: permSet(role.Permissions), roleID: tok.RoleID}
	default:
		return false, nil
	}
	if !imp.Can(PermUsersImpersonate) {
		return false, nil
	}
	u, err := r.User(ctx, im.TenantID, im.UserID)
	if err != nil {
		return false, err
	}
	if err := s.userInScope(ctx, imp, u, PermUsersImpersonate); err != nil {
		return false, nil
	}
	if err := s.checkViewAs(ctx, r, imp, u); err != nil {
		if ErrorCode(err) == EForbidden {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func permSet(perms []string) map[string]bool {
	m := make(map[string]bool, len(perms))
	for _, p := range perms {
		m[p] = true
	}
	return m
}

// CurrentImpersonation is the view-as the actor is in (the console's banner).
func (s *Service) CurrentImpersonation(ctx context.Context, a *Actor) (*Impersonation, error) {
	if a.impersonation == 0 {
		return nil, Errorf(ENotFound, "you are not viewing as another user")
	}
	return s.impersonation(ctx, a)
}

func (s *Service) impersonation(ctx context.Context, a *Actor) (*Impersonation, error) {
	// Looked up through the secret's row id; the actor only exists for a live one.
	return s.store.Read().ImpersonationByID(ctx, a.TenantID, a.impersonation)
}

// StopImpersonation ends the actor's view-as. It is the one change a
// read-only actor makes; its audit event carries the impersonator.
func (s *Service) StopImpersonation(ctx context.Context, a *Actor) error {
	if a.impersonation == 0 {
		return Errorf(ENotFound, "you are not viewing as another user")
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := tx.EndImpersonation(ctx, a.TenantID, a.impersonation, s.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "impersonation.stop", "user", a.ID, nil, map[string]any{"impersonation_id": a.impersonation})
	})
}
