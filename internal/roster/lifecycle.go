package roster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/auth"
)

// LifecycleOptions configure invitations, passwords, sessions, one-time codes
// and their rate limits. Zero fields take the defaults.
type LifecycleOptions struct {
	// PublicURL is the base of links in emails (default http://127.0.0.1:8080).
	PublicURL string
	// Argon2 are the password hashing costs (default OWASP: 19 MiB, t=2, p=1).
	Argon2 auth.Params
	// SessionIdle ends a session unused this long (default 8h); SessionMax
	// ends every session this long after sign-in (default 7 days).
	SessionIdle, SessionMax time.Duration
	// CodeTTL is how long a one-time code works (default 10 minutes) and
	// CodeAttempts how many wrong tries it survives (default 5).
	CodeTTL      time.Duration
	CodeAttempts int
	// Failed sign-ins stop the source that fails: per client address and
	// account together (default 5 per 15 minutes) and per client address
	// across accounts (default 50 per 15 minutes); past either, that source
	// is refused (429) until the window ends.
	SignInPerPair, SignInPerIP auth.Limit
	// SignInDelay slows every sign-in to an account with recent failures
	// from any source, but never refuses one (default: none for the first 5
	// failures in 15 minutes, then 1 s doubling up to 30 s). So the owner,
	// from an address of their own, always gets in.
	SignInDelay auth.Backoff
	// SignInDelayedPerIP bounds the delayed sign-ins one client address may
	// have waiting at once on a replica (default 10; one per account).
	SignInDelayedPerIP int
	// Code requests per account (default 5 per hour, silently: nothing is
	// sent past it) and per client address (default 30 per hour, 429).
	CodeRequestsPerAccount, CodeRequestsPerIP auth.Limit
	// Wrong codes per client address and account together (default 10 per
	// hour) and per client address (default 50 per hour).
	CodeFailuresPerPair, CodeFailuresPerIP auth.Limit
	// Wait waits d before a delayed sign-in, returning early with ctx's
	// error (default: a timer). Tests make it advance their clock.
	Wait func(ctx context.Context, d time.Duration) error
	// ForgotMinDuration pads every forgot-password answer to at least this
	// long, so its timing does not tell whether the account exists
	// (default 100ms).
	ForgotMinDuration time.Duration
}

func (o LifecycleOptions) withDefaults() LifecycleOptions {
	if o.PublicURL == "" {
		o.PublicURL = "http://127.0.0.1:8080"
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.SessionIdle == 0 {
		o.SessionIdle = 8 * time.Hour
	}
	if o.SessionMax == 0 {
		o.SessionMax = 7 * 24 * time.Hour
	}
	if o.CodeTTL == 0 {
		o.CodeTTL = 10 * time.Minute
	}
	if o.CodeAttempts == 0 {
		o.CodeAttempts = 5
	}
	def := func(l *auth.Limit, max int, window time.Duration) {
		if *l == (auth.Limit{}) {
			*l = auth.Limit{Max: max, Window: window}
		}
	}
	def(&o.SignInPerPair, 5, 15*time.Minute)
	def(&o.SignInPerIP, 50, 15*time.Minute)
	if o.SignInDelay == (auth.Backoff{}) {
		o.SignInDelay = auth.Backoff{Free: 5, Base: time.Second, Max: 30 * time.Second, Window: 15 * time.Minute}
	}
	if o.SignInDelay.Window <= 0 {
		o.SignInDelay.Window = 15 * time.Minute // the account's failures are counted in it
	}
	if o.SignInDelayedPerIP == 0 {
		o.SignInDelayedPerIP = 10
	}
	if o.Wait == nil {
		o.Wait = sleep
	}
	def(&o.CodeRequestsPerAccount, 5, time.Hour)
	def(&o.CodeRequestsPerIP, 30, time.Hour)
	def(&o.CodeFailuresPerPair, 10, time.Hour)
	def(&o.CodeFailuresPerIP, 50, time.Hour)
	if o.ForgotMinDuration == 0 {
		o.ForgotMinDuration = 100 * time.Millisecond
	}
	return o
}

// lifecycle is the Service's state for the access lifecycle.
type lifecycle struct {
	opts      LifecycleOptions
	hasher    *auth.Hasher
	templates *messageTemplates

	waiting waitingRoom // delayed sign-ins waiting on this replica

	mu       sync.Mutex
	notify   func() // wakes the outbox worker; may be nil
	dummy    string // a hash to verify against when there is no account
	dummyErr error
	once     sync.Once
}

func newLifecycle(o LifecycleOptions) *lifecycle {
	o = o.withDefaults()
	return &lifecycle{opts: o, hasher: auth.NewHasher(o.Argon2), templates: mustParseTemplates()}
}

// lc returns the lifecycle state, made with defaults when the Service was
// built without it.
func (s *Service) lcState() *lifecycle {
	s.lcOnce.Do(func() {
		if s.lc == nil {
			s.lc = newLifecycle(LifecycleOptions{})
		}
	})
	return s.lc
}

// PublicURL is the base of links in emails.
func (s *Service) PublicURL() string {
	lc := s.lcState()
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.opts.PublicURL
}

// SetPublicURL changes the base of links, for a server that learns its
// address only when it listens. Call it before serving.
func (s *Service) SetPublicURL(u string) {
	if u == "" {
		return
	}
	lc := s.lcState()
	lc.mu.Lock()
	lc.opts.PublicURL = strings.TrimRight(u, "/")
	lc.mu.Unlock()
}

// SessionIdle and SessionMax are the session lifetimes.
func (s *Service) SessionLifetimes() (idle, max time.Duration) {
	o := s.lcState().opts
	return o.SessionIdle, o.SessionMax
}

// OnOutbox registers fn to be called after a transaction that queued
// messages (the outbox worker's wake-up). Call it before serving.
func (s *Service) OnOutbox(fn func()) {
	lc := s.lcState()
	lc.mu.Lock()
	lc.notify = fn
	lc.mu.Unlock()
}

func (s *Service) notifyOutbox() {
	lc := s.lcState()
	lc.mu.Lock()
	fn := lc.notify
	lc.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// dummyHash is verified against when a sign-in names no usable account, so
// the answer takes as long as a wrong password would.
func (lc *lifecycle) dummyHash() (string, error) {
	lc.once.Do(func() { lc.dummy, lc.dummyErr = lc.hasher.Hash("not a password: timing equaliser") })
	return lc.dummy, lc.dummyErr
}

// userActor is a user acting for themselves through a public flow (accepting
// an invitation, signing in, setting a password with a code).
func userActor(u *User, ip, userAgent string) *Actor {
	return &Actor{TenantID: u.TenantID, Kind: ActorUser, ID: u.ID, Name: u.Username, IP: ip, UserAgent: userAgent}
}

// revokeAccessTx ends everything that lets the user in: sessions, live
// one-time codes and a pending invitation (cancelled, with its unsent mail).
// Deactivation and deletion call it in their transaction, so access ends at
// the moment they commit.
func (s *Service) revokeAccessTx(ctx context.Context, tx Tx, a *Actor, userID int64) error {
	if _, err := tx.DeleteUserSessions(ctx, a.TenantID, userID, 0); err != nil {
		return err
	}
	if err := tx.DeleteUserCodes(ctx, a.TenantID, userID); err != nil {
		return err
	}
	inv, err := tx.PendingInvitationOfUser(ctx, a.TenantID, userID)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return s.cancelInvitationTx(ctx, tx, a, inv)
}

// rateLimited is the error of a throttled request; it says when to try
// again, in words and (RetryAfter) for the Retry-After header.
func rateLimited(what string, retry time.Duration) error {
	retry = max((retry + time.Second - 1).Truncate(time.Second), time.Second) // whole seconds, never early
	when := fmt.Sprintf("%d second%s", int(retry/time.Second), plural(int(retry/time.Second)))
	if retry >= 90*time.Second {
		mins := int(retry.Round(time.Minute) / time.Minute)
		when = fmt.Sprintf("%d minute%s", mins, plural(mins))
	}
	e := Errorf(ELimited, "too many %s; try again in %s", what, when)
	e.RetryAfter = retry
	return e
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// limitKey names a rate-limit window: what is limited and for whom.
func limitKey(what, kind string, v any) string { return fmt.Sprintf("%s:%s:%v", what, kind, v) }

// badField is an invalid-input error naming one field.
func badField(field, format string, args ...any) error {
	var v Validation
	v.Add(field, format, args...)
	return v.Err()
}
