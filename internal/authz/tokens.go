package authz

import (
	"context"
	"time"
)

// Token is a valid API token as authentication needs it, cached by the hash
// of its secret so that a bearer request needs no database round trip. The
// change log drops an entry when its token is revoked or changed, or when its
// role changes.
type Token struct {
	ID, TenantID, RoleID int64
	Name                 string
	Permissions          map[string]bool // shared by every request: read only
	// BoundUser is the person the token is bound to (0: a service token):
	// it works only while HoldsTenantWide says they hold its permissions.
	BoundUser int64
	ExpiresAt time.Time // zero: never
}

// TokenGen returns the token cache's generation; pass it to PutToken. Call
// it before reading the token from the database: it makes sure the index
// follows the change log from here on, so a revocation committed after the
// read reaches the cache.
func (x *Index) TokenGen(ctx context.Context) (int64, error) {
	if !x.started.Load() {
		x.syncMu.Lock()
		err := x.startLocked(ctx)
		x.syncMu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return x.tokenGen.Load(), nil
}

// Token returns the cached token with that secret hash.
func (x *Index) Token(ctx context.Context, hash [32]byte) (Token, bool, error) {
	if err := x.fresh(ctx); err != nil {
		return Token{}, false, err
	}
	x.tokMu.RLock()
	t, ok := x.tokens[hash]
	x.tokMu.RUnlock()
	return t, ok, nil
}

// PutToken caches a token read from the database. gen is TokenGen taken
// before that read: when token changes were applied since, what was read may
// be outdated already, and it is not cached.
func (x *Index) PutToken(hash [32]byte, t Token, gen int64) {
	x.tokMu.Lock()
	defer x.tokMu.Unlock()
	if !x.started.Load() || x.tokenGen.Load() != gen || len(x.tokens) > 100_000 {
		return
	}
	x.tokens[hash] = t
}

// dropTokens forgets cached tokens with these ids or roles.
func (x *Index) dropTokens(tokenIDs, roleIDs []int64) {
	if len(tokenIDs) == 0 && len(roleIDs) == 0 {
		return
	}
	drop := map[int64]bool{}
	for _, id := range tokenIDs {
		drop[id] = true
	}
	roles := map[int64]bool{}
	for _, id := range roleIDs {
		roles[id] = true
	}
	x.tokMu.Lock()
	defer x.tokMu.Unlock()
	x.tokenGen.Add(1)
	for h, t := range x.tokens {
		if drop[t.ID] || roles[t.RoleID] {
			delete(x.tokens, h)
		}
	}
}

// HoldsTenantWide reports whether the user is active and holds every one of
// perms through a role with the tenant scope: what a token bound to them
// needs to keep working, since a token acts tenant-wide.
func (x *Index) HoldsTenantWide(ctx context.Context, tenantID, userID int64, perms map[string]bool) (bool, error) {
	p, err := x.partition(ctx, tenantID)
	if err != nil {
		return false, err
	}
	u, err := x.userLocked(ctx, p, userID)
	if err == ErrUnknownUser {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer p.mu.RUnlock()
	if !u.active {
		return false, nil
	}
	for perm := range perms {
		held := false
		for _, rid := range u.roles {
			if r := p.roles[rid]; r != nil && r.width == widthTenant {
				if _, ok := r.perms[perm]; ok {
					held = true
					break
				}
			}
		}
		if !held {
			return false, nil
		}
	}
	return true, nil
}
