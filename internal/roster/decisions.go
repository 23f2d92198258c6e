package roster

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/authz"
)

// initAuthz gives the service its decision index.
func (s *Service) initAuthz() {
	s.authz = authz.New(authzSource{s.store}, authz.Options{Logger: s.log})
}

// RunAuthzSync follows the change log for the writes of other processes
// (every authz.DefaultPollInterval) until ctx ends. Without it, a partition
// still syncs before it answers once it is older than authz.DefaultMaxStale.
func (s *Service) RunAuthzSync(ctx context.Context) {
	s.authz.Run(ctx, authz.DefaultPollInterval)
}

// inTx runs fn in a write transaction and, once it has committed, brings the
// decision index up to date with it: this process never answers from a state
// older than its own writes. Every write of the core goes through here or
// through inTxOutsideDecisions.
func (s *Service) inTx(ctx context.Context, fn func(tx Tx) error) error {
	if isDryRun(ctx) {
		return s.rolledBack(ctx, fn)
	}
	if err := s.store.InTx(ctx, fn); err != nil {
		return err
	}
	if err := s.authz.SyncAfter(context.WithoutCancel(ctx), s.authz.Stamp()); err != nil {
		// The write is committed; the index catches up on its next read
		// (which then fails loudly if the database is still away).
		s.log.Warn("authz: sync after commit", "err", err)
		s.authz.Invalidate()
	}
	return nil
}

type dryRunKey struct{}

// errDryRun rolls back the transaction of a dry run once fn has succeeded.
var errDryRun = errors.New("dry run: rolled back")

// withDryRun returns ctx under which every inTx runs its function to the
// end, every rule and write included, and then rolls it back: a preview
// that answers exactly what the change would (bulk actions).
func withDryRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, dryRunKey{}, true)
}

func isDryRun(ctx context.Context) bool { v, _ := ctx.Value(dryRunKey{}).(bool); return v }

// rolledBack runs fn in a write transaction that never commits: fn's error,
// or nil when it would have committed. Nothing changed, so the decision
// index has nothing to read.
func (s *Service) rolledBack(ctx context.Context, fn func(tx Tx) error) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// inTxOutsideDecisions runs fn in a write transaction that changes nothing
// the decision index holds — sessions, last-login times, password hashes,
// rate limits, audit events — so no sync of the index follows its commit:
// on PostgreSQL that is one query less on every sign-in. Writes of other
// processes still reach the index through its poll.
func (s *Service) inTxOutsideDecisions(ctx context.Context, fn func(tx Tx) error) error {
	return s.store.InTx(ctx, fn)
}

// authzSource reads the decision index's data through the store.
type authzSource struct{ store Store }

func (src authzSource) Head(ctx context.Context) (authz.Cursor, error) {
	return src.store.Read().AuthzHead(ctx)
}

func (src authzSource) Changes(ctx context.Context, cur authz.Cursor) ([]authz.Change, authz.Cursor, error) {
	return src.store.Read().AuthzChanges(ctx, cur)
}

func (src authzSource) PruneChanges(ctx context.Context, before time.Time) error {
	return src.store.PruneAuthzChanges(ctx, before)
}

func (src authzSource) LoadTenant(ctx context.Context, tenantID int64) (*authz.TenantData, error) {
	return src.store.Read().AuthzTenant(ctx, tenantID)
}

func (src authzSource) Roles(ctx context.Context, tenantID int64, ids []int64) ([]authz.Role, error) {
	return src.store.Read().AuthzRoles(ctx, tenantID, ids)
}

func (src authzSource) Groups(ctx context.Context, tenantID int64, ids []int64) ([]authz.Group, error) {
	return src.store.Read().AuthzGroups(ctx, tenantID, ids)
}

func (src authzSource) Users(ctx context.Context, tenantID int64, ids []int64) ([]authz.User, error) {
	return src.store.Read().AuthzUsers(ctx, tenantID, ids)
}

func (src authzSource) Agents(ctx context.Context, tenantID int64, ids []int64) ([]authz.Agent, error) {
	return src.store.Read().AuthzAgents(ctx, tenantID, ids)
}

// CheckInput is a decision request: may user UserID use Permission on the
// data of GroupID and/or AgentID (both optional)?
type CheckInput struct {
	UserID     int64  `json:"user_id"`
	Permission string `json:"permission"`
	GroupID    int64  `json:"group_id"`
	AgentID    int64  `json:"agent_id"`
}

// mayDecideFor lets the host platform (authz.check, tenant scope for
// tokens; a scoped user only for users they may see) ask about a user, and
// anyone ask about themself.
func (s *Service) mayDecideFor(ctx context.Context, a *Actor, userID int64) error {
	if a.Kind == ActorUser && a.ID == userID {
		return nil
	}
	if err := a.require(PermAuthzCheck); err != nil {
		return err
	}
	if userID < 1 || a.system || a.Kind != ActorUser {
		return nil
	}
	sf, err := s.scopeOf(ctx, a, PermAuthzCheck)
	if err != nil || sf == nil {
		return err
	}
	u, err := s.store.Read().User(ctx, a.TenantID, userID)
	if err != nil {
		return err
	}
	if !sf.userVisible(u) {
		return Errorf(ENotFound, "no user with id %d", userID)
	}
	return nil
}

// Check answers the decision API's check from the index.
func (s *Service) Check(ctx context.Context, a *Actor, in CheckInput) (bool, error) {
	if err := s.mayDecideFor(ctx, a, in.UserID); err != nil {
		return false, err
	}
	var v Validation
	if in.UserID < 1 {
		v.Add("user_id", "is required")
	}
	if !IsPermission(in.Permission) {
		v.Add("permission", "%q is not a permission; see GET /api/v1/permissions", in.Permission)
	}
	if in.GroupID < 0 {
		v.Add("group_id", "must be a group id")
	}
	if in.AgentID < 0 {
		v.Add("agent_id", "must be an agent ID id")
	}
	if err := v.Err(); err != nil {
		return false, err
	}
	ok, err := s.authz.Check(ctx, a.TenantID, in.UserID, in.Permission, in.GroupID, in.AgentID)
	if errors.Is(err, authz.ErrUnknownUser) {
		return false, Errorf(ENotFound, "no user with id %d", in.UserID)
	}
	return ok, err
}

// Visible is the decision API's scope answer: everything, or these groups
// (subtrees expanded) and these agent IDs (the user's own and those whose
// group is in the list).
type Visible struct {
	All      bool    `json:"all"`
	GroupIDs []int64 `json:"group_ids"`
	AgentIDs []int64 `json:"agent_ids"`
}

// Scope answers the decision API's scope from the index: what the user may
// see through all their roles, or through those granting permission.
func (s *Service) Scope(ctx context.Context, a *Actor, userID int64, permission string) (*Visible, error) {
	if err := s.mayDecideFor(ctx, a, userID); err != nil {
		return nil, err
	}
	var v Validation
	if userID < 1 {
		v.Add("user_id", "is required")
	}
	var perms []string
	if permission != "" {
		if !IsPermission(permission) {
			v.Add("permission", "%q is not a permission; see GET /api/v1/permissions", permission)
		}
		perms = []string{permission}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	vis, err := s.authz.VisibleTo(ctx, a.TenantID, userID, perms...)
	if errors.Is(err, authz.ErrUnknownUser) {
		return nil, Errorf(ENotFound, "no user with id %d", userID)
	}
	if err != nil {
		return nil, err
	}
	return &Visible{All: vis.All, GroupIDs: vis.GroupIDs, AgentIDs: vis.AgentIDs}, nil
}

// cachedToken is the fast path of AuthenticateToken: a token seen before,
// not revoked (revocations and role changes drop it from the cache through
// the change log). On a miss it returns the cache generation to pass to
// cacheToken after reading the token from the database.
func (s *Service) cachedToken(ctx context.Context, hash []byte) (*authz.Token, int64, error) {
	gen, err := s.authz.TokenGen(ctx)
	if err != nil {
		return nil, 0, err
	}
	t, ok, err := s.authz.Token(ctx, [32]byte(hash))
	if err != nil || !ok {
		return nil, gen, err
	}
	return &t, gen, nil
}

func tokenActor(t authz.Token) *Actor {
	// The permission set is shared, never written: actors only read it.
	return &Actor{TenantID: t.TenantID, Kind: ActorToken, ID: t.ID, Name: t.Name, perms: t.Permissions, roleID: t.RoleID}
}

// cacheToken remembers a token read from the database under gen (the
// cache generation taken before reading it) and returns the entry.
func (s *Service) cacheToken(hash []byte, tok *APIToken, role *Role, gen int64) *authz.Token {
	perms := make(map[string]bool, len(role.Permissions))
	for _, p := range role.Permissions {
		perms[p] = true
	}
	t := authz.Token{ID: tok.ID, TenantID: tok.TenantID, RoleID: tok.RoleID, Name: tok.Name, Permissions: perms}
	if tok.BoundUserID != nil {
		t.BoundUser = *tok.BoundUserID
	}
	if tok.ExpiresAt != nil {
		t.ExpiresAt = *tok.ExpiresAt
	}
	s.authz.PutToken([32]byte(hash), t, gen)
	return &t
}
