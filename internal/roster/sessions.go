package roster

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster/internal/auth"
)

// sessionTokenPrefix marks session ids (the cookie value).
const sessionTokenPrefix = "rss_"

// SignInInput is a sign-in request. Login is the username or the email.
type SignInInput struct {
	Tenant    string
	Login     string
	Password  string
	IP        string
	UserAgent string
	// Previous is the session cookie the browser sent along, if any: it is
	// ended, so every sign-in starts a fresh session id (no fixation).
	Previous string
}

// SignedIn is a new session. Token goes into the cookie and exists nowhere
// else. Session names the tenant and the user; SessionUser loads the user.
type SignedIn struct {
	Session *Session
	Token   string
	// Single sign-on only: the provider, and whether the IdP asserted a
	// second factor (SAML AuthnContextClassRef; OIDC amr/acr).
	ProviderID  int64
	MFAAsserted bool
	// Try is the report of a "try sign-in": no session was
	// made, Session and Token are empty.
	Try *SSOTryResult
	// MFA, instead of a session, is the second-factor step the sign-in
	// waits for (mfa_signin.go); Session and Token are then empty.
	MFA *MFAStep
}

// errBadLogin is the one answer to a wrong password, an unknown login and an
// account without a password, so the answer tells nothing about accounts.
func errBadLogin() error {
	return Errorf(EUnauthorized, "the username, email or password is wrong")
}

// findLogin finds the user whose username, or else email, is login, with
// their password hash; nil when there is none.
func findLogin(ctx context.Context, r Reader, tenantID int64, login string) (*User, string, error) {
	u, hash, err := r.UserForLogin(ctx, tenantID, login)
	if ErrorCode(err) == ENotFound {
		return nil, "", nil
	}
	return u, hash, err
}

func userIDOf(u *User) int64 {
	if u == nil {
		return 0
	}
	return u.ID
}

// SignIn checks a password and starts a session. Failures stop the failing
// source: past the limits per client address and account, and per client
// address, that source is refused without a check until the window ends.
// The account's failures from every source only delay each attempt (at most
// SignInDelay.Max), so its owner, from another address, still gets in.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (*SignedIn, error) {
	lc := s.lcState()
	in.Tenant, in.Login = strings.TrimSpace(in.Tenant), strings.TrimSpace(in.Login)
	// Text from the client reaches queries and rate-limit keys: valid UTF-8
	// only (PostgreSQL refuses anything else), bounded. A login longer than
	// 254 bytes is refused below, before the cut could matter.
	in.Tenant, in.IP, in.UserAgent = clientText(in.Tenant, 200), clientText(in.IP, 100), clientText(in.UserAgent, 400)
	in.Login = strings.ToValidUTF8(in.Login, "\uFFFD")
	var v Validation
	if in.Tenant == "" {
		v.Add("tenant", "is required")
	}
	if in.Login == "" {
		v.Add("login", "is required: your username or email address")
	} else if len(in.Login) > 254 {
		v.Add("login", "is too long")
	}
	if in.Password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := s.store.Read()
	// Tenant slugs are public (they are in every sign-in URL); an unknown one
	// is answered at once, costing no hash.
	tenantID, err := s.tenantIDBySlug(ctx, in.Tenant)
	if ErrorCode(err) == ENotFound {
		return nil, errBadLogin()
	}
	if err != nil {
		return nil, err
	}
	// The user and the three windows in one round trip; an unknown login's
	// windows take a second.
	ipKey := limitKey("signin", "ip", in.IP)
	u, hash, windows, err := r.UserForSignIn(ctx, tenantID, in.Login, ipKey,
		pairKey("signin", in.IP, userAccountPrefix), limitKey("signin", "acct", userAccountPrefix))
	if ErrorCode(err) == ENotFound {
		u, hash, err = nil, "", nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.passwordAllowed(ctx, tenantID, u); err != nil { // "SSO required"
		return nil, err
	}
	account := accountKey(userIDOf(u), in.Login)
	acctKey, pair := limitKey("signin", "acct", account), pairKey("signin", in.IP, account)
	now := s.Now()
	limits := []keyedLimit{{lc.opts.SignInPerIP, ipKey}, {lc.opts.SignInPerPair, pair}}
	var wait time.Duration
	if u == nil {
		wait, windows, err = blockedAny(ctx, r, tenantID, now, limits, acctKey)
		if err != nil {
			return nil, err
		}
	} else {
		wait = longestWait(limits, windows, now)
	}
	if wait > 0 {
		return nil, rateLimited("failed sign-ins from your address", wait)
	}
	// Every attempt on the account waits its delay before the check, the
	// right password too, so the answer's timing tells nothing.
	if err := s.waitDelay(ctx, lc, accountDelay(lc.opts.SignInDelay, windows, acctKey, now), pair, ipKey); err != nil {
		return nil, err
	}
	ok, rehash := false, false
	if hash != "" {
		ok, rehash, err = lc.hasher.Verify(in.Password, hash)
		if err != nil {
			s.log.Error("stored password hash unreadable", "tenant", tenantID, "user", u.ID, "err", err)
			ok = false
		}
	} else {
		// No account, or none with a password: spend the time a check takes.
		dummy, err := lc.dummyHash()
		if err != nil {
			return nil, err
		}
		_, _, _ = lc.hasher.Verify(in.Password, dummy)
	}
	if !ok {
		counted := append(limits, keyedLimit{auth.Limit{Max: 1, Window: lc.opts.SignInDelay.Window}, acctKey})
		err := s.inTxOutsideDecisions(ctx, func(tx Tx) error { return hitAll(ctx, tx, tenantID, now, counted) })
		if err != nil {
			return nil, err
		}
		if step, err := s.mfaAfterPassword(ctx, tenantID, u, account, false, in, nil); err != nil || step != nil {
			return &SignedIn{MFA: step}, err
		}
		return nil, errBadLogin()
	}
	if u.Status != StatusActive {
		// With a second factor on, not even this says the password was right.
		if step, err := s.mfaAfterPassword(ctx, tenantID, u, account, false, in, nil); err != nil || step != nil {
			return &SignedIn{MFA: step}, err
		}
		// The password was right, so saying why is safe and helps.
		return nil, Errorf(EForbidden, "this account is %s; ask your administrator", u.Status)
	}
	var newHash string
	if rehash {
		if newHash, err = lc.hasher.Hash(in.Password); err != nil {
			return nil, err
		}
	}
	var previous []byte
	if in.Previous != "" {
		previous = HashSecret(in.Previous)
	}
	if step, err := s.mfaAfterPassword(ctx, tenantID, u, account, true, in, previous); err != nil {
		return nil, err
	} else if step != nil {
		if newHash != "" {
			err := s.inTxOutsideDecisions(ctx, func(tx Tx) error { return tx.SetPasswordHash(ctx, tenantID, u.ID, newHash) })
			if err != nil {
				return nil, err
			}
		}
		return &SignedIn{MFA: step}, nil
	}
	token := NewSecret(sessionTokenPrefix)
	sess := &Session{TenantID: tenantID, UserID: u.ID, TokenHash: HashSecret(token), CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(lc.opts.SessionMax), IP: in.IP, UserAgent: in.UserAgent}
	// Success forgets this source's failures on the account, nothing else:
	// not the address's (an attacker's success on their own account would
	// clear their budget) and not the account's (each of the owner's
	// sign-ins would give an attacker fresh undelayed tries).
	_, failed := windows[pair]
	actor := userActor(u, in.IP, in.UserAgent)
	e := s.auditEvent(ctx, actor, "session.create", "user", u.ID, nil, map[string]any{"expires_at": sess.ExpiresAt})
	if in.Previous == "" && newHash == "" && !failed {
		// The common case, in one write (one statement on PostgreSQL).
		err = s.store.RecordSignIn(ctx, sess, e)
	} else {
		err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
			if in.Previous != "" {
				if old, err := tx.SessionByHash(ctx, HashSecret(in.Previous)); err == nil {
					if err := tx.DeleteSession(ctx, old.TenantID, old.ID); err != nil {
						return err
					}
				} else if ErrorCode(err) != ENotFound {
					return err
				}
			}
			if newHash != "" {
				if err := tx.SetPasswordHash(ctx, tenantID, u.ID, newHash); err != nil {
					return err
				}
			}
			if failed {
				if err := tx.ResetRateLimit(ctx, tenantID, pair); err != nil {
					return err
				}
			}
			return tx.RecordSignIn(ctx, sess, e)
		})
	}
	if err != nil {
		return nil, err
	}
	return &SignedIn{Session: sess, Token: token}, nil
}

// SessionUser is the signed-in user of a session with their permissions
// (the union over their roles, in catalogue order).
func (s *Service) SessionUser(ctx context.Context, sess *Session) (*User, []string, error) {
	r := s.store.Read()
	u, err := r.User(ctx, sess.TenantID, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	roles, err := r.ListRoles(ctx, sess.TenantID)
	if err != nil {
		return nil, nil, err
	}
	return u, permissionsOf(roles, u.Roles), nil
}

// permissionsOf is the union of the permissions of the roles with keys, in
// catalogue order.
func permissionsOf(roles []Role, keys []string) []string {
	held := map[string]bool{}
	for _, r := range roles {
		if slices.Contains(keys, r.Key) {
			for _, p := range r.Permissions {
				held[p] = true
			}
		}
	}
	out := []string{}
	for _, p := range permissionCatalogue {
		if held[p.Key] {
			out = append(out, p.Key)
		}
	}
	return out
}

// sessionTouchEvery bounds writes: last use is recorded at most this often,
// which is far finer than the idle timeout.
const sessionTouchEvery = time.Minute

// AuthenticateSession turns a session cookie into the signed-in user's
// actor. Expired sessions (idle or absolute) and sessions of users who are
// no longer active do not work.
func (s *Service) AuthenticateSession(ctx context.Context, token string) (*Actor, *Session, error) {
	invalid := Errorf(EUnauthorized, "your session has ended; sign in again")
	if !strings.HasPrefix(token, sessionTokenPrefix) {
		return nil, nil, invalid
	}
	r := s.store.Read()
	sess, err := r.SessionByHash(ctx, HashSecret(token))
	if ErrorCode(err) == ENotFound {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	idle, _ := s.SessionLifetimes()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
		if err := s.inTxOutsideDecisions(ctx, func(tx Tx) error { return tx.DeleteSession(ctx, sess.TenantID, sess.ID) }); err != nil {
			return nil, nil, err
		}
		return nil, nil, invalid
	}
	a, err := s.ActorForUser(ctx, sess.TenantID, sess.UserID)
	if err != nil {
		if ErrorCode(err) == EUnauthorized {
			return nil, nil, invalid
		}
		return nil, nil, err
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		sess.LastSeenAt = now
		if err := s.inTxOutsideDecisions(ctx, func(tx Tx) error { return tx.TouchSession(ctx, sess.TenantID, sess.ID, now) }); err != nil {
			return nil, nil, err
		}
	}
	return a, sess, nil
}

// SignOut ends the session of token. Ending a session that has ended
// already is not an error.
func (s *Service) SignOut(ctx context.Context, token, ip, userAgent string) error {
	if token == "" {
		return nil
	}
	return s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		sess, err := tx.SessionByHash(ctx, HashSecret(token))
		if ErrorCode(err) == ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteSession(ctx, sess.TenantID, sess.ID); err != nil {
			return err
		}
		a := &Actor{TenantID: sess.TenantID, Kind: ActorUser, ID: sess.UserID, IP: ip, UserAgent: userAgent}
		if u, err := tx.User(ctx, sess.TenantID, sess.UserID); err == nil {
			a.Name = u.Username
		}
		return s.audit(ctx, tx, a, "session.delete", "user", sess.UserID, map[string]any{"session_id": sess.ID}, nil)
	})
}

// CurrentUser is the signed-in user's own record.
func (s *Service) CurrentUser(ctx context.Context, a *Actor) (*User, error) {
	if a.Kind != ActorUser {
		return nil, Errorf(EForbidden, "this needs a signed-in user, not an API token")
	}
	return s.store.Read().User(ctx, a.TenantID, a.ID)
}

// clientText makes text a client sent (a user agent, an address) safe to
// store: valid UTF-8 (PostgreSQL refuses anything else), at most n bytes,
// cut at a character boundary.
func clientText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// newSessionTx starts a session for u in tx, for sign-ins that checked the
// person another way (single sign-on, sso_link.go): a fresh id, the
// browser's previous session ended, last login set, audited with after.
func (s *Service) newSessionTx(ctx context.Context, tx Tx, u *User, ip, userAgent, previous string, after map[string]any) (*SignedIn, error) {
	var prev []byte
	if previous != "" {
		prev = HashSecret(previous)
	}
	return s.newSessionTxHash(ctx, tx, u, ip, userAgent, prev, after)
}

// newSessionTxHash is newSessionTx with the previous session's hash.
func (s *Service) newSessionTxHash(ctx context.Context, tx Tx, u *User, ip, userAgent string, previous []byte, after map[string]any) (*SignedIn, error) {
	lc := s.lcState()
	if previous != nil {
		if old, err := tx.SessionByHash(ctx, previous); err == nil {
			if err := tx.DeleteSession(ctx, old.TenantID, old.ID); err != nil {
				return nil, err
			}
		} else if ErrorCode(err) != ENotFound {
			return nil, err
		}
	}
	now := s.Now()
	token := NewSecret(sessionTokenPrefix)
	sess := &Session{TenantID: u.TenantID, UserID: u.ID, TokenHash: HashSecret(token), CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(lc.opts.SessionMax), IP: ip, UserAgent: userAgent}
	after["expires_at"] = sess.ExpiresAt
	e := s.auditEvent(ctx, userActor(u, ip, userAgent), "session.create", "user", u.ID, nil, after)
	if err := tx.RecordSignIn(ctx, sess, e); err != nil {
		return nil, err
	}
	return &SignedIn{Session: sess, Token: token}, nil
}
