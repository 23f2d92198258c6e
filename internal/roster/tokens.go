package roster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/authz"
)

// tokenPrefix marks Roster API tokens, so leaked ones are easy to scan for.
const tokenPrefix = "rst_"

// HashSecret is how token secrets are stored: SHA-256 suffices because the
// secret is 256 random bits, not a password.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewSecret returns a random, URL-safe secret with the given prefix.
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// TokenInput makes an API token.
type TokenInput struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	ExpiresAt *time.Time `json:"expires_at"` // nil: never
}

// maxTokenLifetime bounds expires_at: a longer-lived credential is a
// service token's business (roster token create).
const maxTokenLifetime = 5 * 366 * 24 * time.Hour

// CreateToken makes an API token that acts tenant-wide with the role in.Role.
// A token made by a person is bound to them (it works only while they are
// active and hold every permission of the role tenant-wide); one made by a
// token is bound to that token's person; the system's (the operator's CLI)
// are tenant service tokens. The secret is returned once; only its hash is
// kept.
func (s *Service) CreateToken(ctx context.Context, a *Actor, in TokenInput) (*APIToken, string, error) {
	if err := a.requireWrite(PermRolesManage); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	now := s.Now()
	var v Validation
	if name == "" || len(name) > 100 {
		v.Add("name", "must be 1 to 100 characters")
	}
	if in.Role == "" {
		v.Add("role", "is required")
	} else if len(in.Role) > 40 {
		v.Add("role", "no role with that key")
	}
	var expires *time.Time
	if in.ExpiresAt != nil {
		e := in.ExpiresAt.UTC().Truncate(time.Millisecond)
		switch {
		case !e.After(now):
			v.Add("expires_at", "must be in the future")
		case e.Sub(now) > maxTokenLifetime:
			v.Add("expires_at", "must be at most 5 years from now")
		}
		expires = &e
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if err := s.requireTenantWide(ctx, a, "an API token (it acts tenant-wide)", PermRolesManage); err != nil {
		return nil, "", err
	}
	var tok *APIToken
	secret := NewSecret(tokenPrefix)
	err := s.inTx(ctx, func(tx Tx) error {
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		g, err := s.grantorOf(ctx, tx, a, roles)
		if err != nil {
			return err
		}
		role := g.roles[in.Role]
		if role == nil {
			return oneFieldError("role", "no role with the key %q", in.Role)
		}
		if err := g.mayPutOnToken(role); err != nil {
			return err
		}
		tok = &APIToken{TenantID: a.TenantID, Name: name, RoleID: role.ID, Role: role.Key, Hash: HashSecret(secret),
			CreatedByKind: a.Kind, CreatedByName: a.Name, CreatedAt: now, ExpiresAt: expires}
		switch a.Kind {
		case ActorUser:
			id := a.ID
			tok.BoundUserID = &id
		case ActorToken:
			// Bound as its maker is, revoked with it, and never outliving it.
			parent, err := tx.Token(ctx, a.TenantID, a.ID)
			if err != nil {
				return err
			}
			tok.BoundUserID, tok.ParentID = parent.BoundUserID, &parent.ID
			if parent.ExpiresAt != nil && (tok.ExpiresAt == nil || tok.ExpiresAt.After(*parent.ExpiresAt)) {
				tok.ExpiresAt = parent.ExpiresAt
			}
		}
		tok.Service = tok.BoundUserID == nil
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token.create", "token", tok.ID, nil, tok)
	})
	if err != nil {
		return nil, "", err
	}
	return tok, secret, nil
}

// ListTokens lists the tenant's API tokens, secrets never included.
func (s *Service) ListTokens(ctx context.Context, a *Actor) ([]APIToken, error) {
	if err := a.require(PermRolesManage); err != nil {
		return nil, err
	}
	if err := s.requireTenantWide(ctx, a, "the API tokens", PermRolesManage); err != nil {
		return nil, err
	}
	return s.store.Read().ListTokens(ctx, a.TenantID)
}

// Token returns one API token of the tenant.
func (s *Service) Token(ctx context.Context, a *Actor, id int64) (*APIToken, error) {
	if err := a.require(PermRolesManage); err != nil {
		return nil, err
	}
	if err := s.requireTenantWide(ctx, a, "the API tokens", PermRolesManage); err != nil {
		return nil, err
	}
	return s.store.Read().Token(ctx, a.TenantID, id)
}

// RevokeToken ends a token at once. Its own person may always revoke it;
// others need roles.manage and could have made it themselves (nobody takes
// away a more powerful person's credentials).
func (s *Service) RevokeToken(ctx context.Context, a *Actor, id int64) error {
	if a.ReadOnly {
		return Errorf(EForbidden, "viewing as another user is read-only")
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindToken, a.TenantID, id); err != nil {
			return err
		}
		tok, err := tx.Token(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		own := a.Kind == ActorUser && tok.BoundUserID != nil && *tok.BoundUserID == a.ID
		if !own {
			if err := a.require(PermRolesManage); err != nil {
				return err
			}
			if err := s.requireTenantWide(ctx, a, "revoking API tokens", PermRolesManage); err != nil {
				return err
			}
			roles, err := tx.ListRoles(ctx, a.TenantID)
			if err != nil {
				return err
			}
			g, err := s.grantorOf(ctx, tx, a, roles)
			if err != nil {
				return err
			}
			if r := g.roles[tok.Role]; r != nil {
				if err := g.mayPutOnToken(r); err != nil {
					return Errorf(EForbidden, "the token %q carries rights you do not hold; only someone holding them can revoke it", tok.Name)
				}
			}
		}
		if tok.RevokedAt != nil {
			return conflict(ReasonTokenRevoked, "the token %q is revoked already", tok.Name)
		}
		if err := tx.RevokeToken(ctx, a.TenantID, id, s.Now()); err != nil {
			return err
		}
		after := *tok
		now := s.Now()
		after.RevokedAt = &now
		if err := s.audit(ctx, tx, a, "token.revoke", "token", id, tok, &after); err != nil {
			return err
		}
		return s.revokeTokenChildrenTx(ctx, tx, a, id)
	})
}

// revokeTokenChildrenTx revokes, with their audit events, every live token
// a revoked token made, and theirs in turn.
func (s *Service) revokeTokenChildrenTx(ctx context.Context, tx Tx, a *Actor, parentID int64) error {
	queue := []int64{parentID}
	for len(queue) > 0 {
		children, err := tx.LiveTokenChildren(ctx, a.TenantID, queue[0])
		if err != nil {
			return err
		}
		queue = queue[1:]
		for i := range children {
			c := &children[i]
			if err := tx.RevokeToken(ctx, a.TenantID, c.ID, s.Now()); err != nil {
				return err
			}
			after := *c
			now := s.Now()
			after.RevokedAt = &now
			if err := s.audit(ctx, tx, a, "token.revoke", "token", c.ID, c, &after); err != nil {
				return err
			}
			queue = append(queue, c.ID)
		}
	}
	return nil
}

// revokeUserTokensTx ends the tokens bound to a user who is deleted.
func (s *Service) revokeUserTokensTx(ctx context.Context, tx Tx, a *Actor, userID int64) error {
	revoked, err := tx.RevokeUserTokens(ctx, a.TenantID, userID, s.Now())
	if err != nil {
		return err
	}
	for i := range revoked {
		if err := s.audit(ctx, tx, a, "token.revoke", "token", revoked[i].ID, nil, &revoked[i]); err != nil {
			return err
		}
	}
	return nil
}

// tokenTouchEvery is how often a token's last_used_at is written: a busy
// integration costs one small write a minute, not one per request.
const tokenTouchEvery = time.Minute

// AuthenticateToken turns a bearer secret into an actor with the token's
// role. Revoked and expired tokens, and tokens whose person is no longer
// active or no longer holds the role's permissions tenant-wide, answer 401.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*Actor, error) {
	unauthorized := Errorf(EUnauthorized, "the bearer token is not valid")
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, unauthorized
	}
	hash := HashSecret(secret)
	// Tokens seen before come from the decision index's cache, which the
	// change log keeps fresh.
	cached, gen, err := s.cachedToken(ctx, hash)
	if err != nil {
		return nil, err
	}
	if cached == nil {
		r := s.store.Read()
		tok, err := r.TokenByHash(ctx, hash)
		if ErrorCode(err) == ENotFound || (err == nil && tok.RevokedAt != nil) {
			return nil, unauthorized
		}
		if err != nil {
			return nil, err
		}
		role, err := r.Role(ctx, tok.TenantID, tok.RoleID)
		if err != nil {
			return nil, err
		}
		cached = s.cacheToken(hash, tok, role, gen)
	}
	if !cached.ExpiresAt.IsZero() && !s.Now().Before(cached.ExpiresAt) {
		return nil, Errorf(EUnauthorized, "the bearer token has expired")
	}
	if cached.BoundUser != 0 {
		ok, err := s.authz.HoldsTenantWide(ctx, cached.TenantID, cached.BoundUser, cached.Permissions)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, Errorf(EUnauthorized, "the bearer token is no longer valid: the person who made it is not active or no longer holds its rights")
		}
	}
	s.touchToken(ctx, cached)
	return tokenActor(*cached), nil
}

// touchToken records that a token was used, at most every tokenTouchEvery.
func (s *Service) touchToken(ctx context.Context, t *authz.Token) {
	now := s.Now()
	last, _ := s.tokenTouched.Load(t.ID)
	if l, ok := last.(time.Time); ok && now.Sub(l) < tokenTouchEvery {
		return
	}
	s.tokenTouched.Store(t.ID, now)
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error { return tx.TouchToken(ctx, t.TenantID, t.ID, now) })
	if err != nil {
		s.log.Warn("api token: record last use", "token", t.ID, "err", err)
	}
}

// ListAudit returns one page of the tenant's audit log, newest first.
func (s *Service) ListAudit(ctx context.Context, a *Actor, f AuditFilter) (*Page[AuditEvent], error) {
	if err := a.require(PermAuditView); err != nil {
		return nil, err
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage == 0 {
		f.PerPage = 25
	}
	var err error
	if f.Scope, err = s.scopeOf(ctx, a, PermAuditView); err != nil {
		return nil, err
	}
	items, total, err := s.store.Read().ListAudit(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[AuditEvent]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}
