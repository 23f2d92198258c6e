package roster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
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

// CreateToken makes an API token that acts tenant-wide with the role roleKey.
// The secret is returned once; only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, a *Actor, name, roleKey string) (*APIToken, string, error) {
	if err := a.requireWrite(PermRolesManage); err != nil {
		return nil, "", err
	}
	if err := s.requireTenantWide(ctx, a, "an API token (it acts tenant-wide)", PermRolesManage); err != nil { // scope.go
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	var v Validation
	if name == "" || len(name) > 100 {
		v.Add("name", "must be 1 to 100 characters")
	}
	var tok *APIToken
	secret := NewSecret(tokenPrefix)
	err := s.store.InTx(ctx, func(tx Tx) error {
		roles, err := tx.ListRoles(ctx, a.TenantID)
		if err != nil {
			return err
		}
		var role *Role
		for i := range roles {
			if roles[i].Key == roleKey {
				role = &roles[i]
			}
		}
		if role == nil {
			v.Add("role", "no role with the key %q", roleKey)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.checkRoleGrant(ctx, tx, a, []string{roleKey}, nil); err != nil {
			return err
		}
		tok = &APIToken{TenantID: a.TenantID, Name: name, RoleID: role.ID, Hash: HashSecret(secret), CreatedAt: s.Now()}
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token.create", "token", tok.ID, nil, map[string]any{"name": name, "role": roleKey})
	})
	if err != nil {
		return nil, "", err
	}
	return tok, secret, nil
}

// AuthenticateToken turns a bearer secret into an actor with the token's role.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (*Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, Errorf(EUnauthorized, "the bearer token is not valid")
	}
	hash := HashSecret(secret)
	// Tokens seen before come from the decision index's cache, which the
	// change log keeps fresh (decisions.go).
	cached, gen, err := s.cachedTokenActor(ctx, hash)
	if cached != nil || err != nil {
		return cached, err
	}
	unauthorized := Errorf(EUnauthorized, "the bearer token is not valid")
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
	a := &Actor{TenantID: tok.TenantID, Kind: ActorToken, ID: tok.ID, Name: tok.Name, perms: map[string]bool{}}
	for _, p := range role.Permissions {
		a.perms[p] = true
	}
	s.cacheToken(hash, tok, role, gen)
	return a, nil
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
	if f.Scope, err = s.scopeOf(ctx, a, PermAuditView); err != nil { // scope.go
		return nil, err
	}
	items, total, err := s.store.Read().ListAudit(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[AuditEvent]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}
