package roster

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/authz"
)

// Service is the core: every front door (REST, console, SCIM, CLI) calls it,
// so each rule, permission check and audit write exists once.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	authz  *authz.Index // the decision index
	lc     *lifecycle   // invitations, passwords, sessions, codes
	lcOnce sync.Once

	// tenantIDs caches slug -> tenant id for sign-ins and codes: tenants
	// are never renamed nor deleted, so an entry never goes stale, and a
	// sign-in saves a round trip. Unknown slugs are not cached.
	tenantIDs sync.Map
	// tokenTouched: token id -> when its last_used_at was last written.
	tokenTouched sync.Map

	scimPages scimPages // where SCIM pages in id order ended

	hooks *webhookConfig
	sso   ssoState // enterprise sign-in
	mfa   mfaState // multi-factor authentication (mfa*.go)
}

// Options configure a Service.
type Options struct {
	Clock  func() time.Time // defaults to time.Now
	Logger *slog.Logger     // defaults to slog.Default()
	// Lifecycle configures invitations, passwords, sessions and codes.
	Lifecycle LifecycleOptions
	// Webhooks configures the secret key and the destinations of webhooks.
	Webhooks WebhookOptions
	// SecretKey (32 bytes) seals stored secrets such as identity providers'
	// client secrets; none: a random key for this process only (tests).
	SecretKey []byte
	// HTTPClient reaches identity providers; nil: one with a timeout.
	HTTPClient *http.Client
	// SSOAllowLoopbackHTTP lets identity providers' issuers be plain http
	// on this machine (tests, a local IdP); otherwise https only, so a
	// tenant admin cannot point Roster at its own host's services.
	SSOAllowLoopbackHTTP bool
}

// NewService returns the core over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, now: opts.Clock, log: opts.Logger, lc: newLifecycle(opts.Lifecycle), hooks: newWebhookConfig(opts.Webhooks)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.initSSO(opts)
	s.initMFA()
	s.initAuthz()
	return s
}

// Now is the service clock, truncated to milliseconds (the stored precision).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// Actor is who is calling: a signed-in user, an API token or the system.
type Actor struct {
	TenantID       int64
	Kind           string
	ID             int64
	Name           string
	Language       string // a signed-in user's language, for the words a front door shows them
	ImpersonatorID *int64
	ReadOnly       bool
	IP             string
	UserAgent      string
	perms          map[string]bool
	system         bool
	impersonation  int64 // the view-as this actor is ; 0: none
	roleID         int64 // a token's role
}

// SystemActor acts for the platform operator (CLI, demo loader, workers):
// every permission, recorded as "system" in the audit log.
func SystemActor(tenantID int64) *Actor {
	return &Actor{TenantID: tenantID, Kind: ActorSystem, Name: "system", system: true}
}

// Can reports whether the actor holds permission p.
func (a *Actor) Can(p string) bool { return a.system || a.perms[p] }

// Permissions lists the actor's permissions in catalogue order.
func (a *Actor) Permissions() []string {
	var out []string
	for _, p := range permissionCatalogue {
		if a.Can(p.Key) {
			out = append(out, p.Key)
		}
	}
	return out
}

// require fails with EForbidden unless the actor holds one of perms.
func (a *Actor) require(perms ...string) error {
	for _, p := range perms {
		if a.Can(p) {
			return nil
		}
	}
	return forbiddenBy(ReasonPermissionMissing, "this needs the permission %q", perms[0])
}

// requireWrite is require for mutations: an impersonating (read-only) actor
// may look but never change anything.
func (a *Actor) requireWrite(perms ...string) error {
	if a.ReadOnly {
		return forbiddenBy(ReasonReadOnly, "viewing as another user is read-only")
	}
	return a.require(perms...)
}

// audit writes one event in tx, the transaction of the change it records,
// and the webhook deliveries the event makes: every
// door's changes reach the tenant's webhooks this way, with no code of their own.
func (s *Service) audit(ctx context.Context, tx Tx, a *Actor, action, targetKind string, targetID int64, before, after any) error {
	e := s.auditEvent(ctx, a, action, targetKind, targetID, before, after)
	if err := tx.AddAudit(ctx, e); err != nil {
		return err
	}
	return s.emitWebhooks(ctx, tx, e)
}

// auditEvent is the event audit writes.
func (s *Service) auditEvent(ctx context.Context, a *Actor, action, targetKind string, targetID int64, before, after any) *AuditEvent {
	return &AuditEvent{
		TenantID:       a.TenantID,
		ActorKind:      a.Kind,
		ActorID:        a.ID,
		ActorName:      a.Name,
		ImpersonatorID: a.ImpersonatorID,
		Action:         action,
		TargetKind:     targetKind,
		TargetID:       targetID,
		Before:         mustJSON(before),
		After:          mustJSON(after),
		IP:             clientText(a.IP, 100),
		UserAgent:      clientText(a.UserAgent, 400),
		RequestID:      RequestID(ctx),
		At:             s.Now(),
	}
}

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types reach here; a failure is a programming error.
		panic("roster: audit snapshot: " + err.Error())
	}
	return b
}

// Opt is an optional input field: Set when the field was given, Null when it
// was given as null. PATCH bodies use it to tell "leave" from "clear".
type Opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

// Some returns a set Opt.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, V: v} }

// UnmarshalJSON records that the field was present.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		var zero T
		o.V = zero
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// ActorForUser builds the actor of a signed-in user: the union of the
// permissions of all their roles. Only active users can act.
func (s *Service) ActorForUser(ctx context.Context, tenantID, userID int64) (*Actor, error) {
	r := s.store.Read()
	u, err := r.User(ctx, tenantID, userID)
	if ErrorCode(err) == ENotFound {
		return nil, Errorf(EUnauthorized, "the session is not valid")
	}
	if err != nil {
		return nil, err
	}
	if u.Status != StatusActive {
		return nil, Errorf(EUnauthorized, "the account is %s", u.Status)
	}
	roles, err := r.ListRoles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	a := &Actor{TenantID: tenantID, Kind: ActorUser, ID: u.ID, Name: u.Username, Language: u.Language, perms: map[string]bool{}}
	for _, role := range roles {
		if slices.Contains(u.Roles, role.Key) {
			for _, p := range role.Permissions {
				a.perms[p] = true
			}
		}
	}
	return a, nil
}
