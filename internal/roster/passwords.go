package roster

import (
	"context"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/auth"
)

// CodeRequest asks for a one-time code to set a password ("forgot password /
// need new password", seed 003).
type CodeRequest struct {
	Tenant    string
	Login     string // username or email
	Channel   string // "email" (default) or "sms"
	IP        string
	UserAgent string
}

// anonymousActor records a request made without credentials.
func anonymousActor(tenantID int64, ip, userAgent string) *Actor {
	return &Actor{TenantID: tenantID, Kind: ActorSystem, Name: "anonymous", IP: ip, UserAgent: userAgent}
}

// RequestPasswordCode sends an active user a one-time code by email or SMS.
// Its answer is the same whether or not the account exists, has a password
// or has an address for the channel, and it takes at least
// ForgotMinDuration, so neither answer nor timing tells accounts apart. Only
// too many requests from one client address get a different answer.
func (s *Service) RequestPasswordCode(ctx context.Context, in CodeRequest) error {
	lc := s.lcState()
	start := time.Now()
	defer func() {
		wait := lc.opts.ForgotMinDuration - time.Since(start)
		if wait <= 0 {
			return
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}()
	in.Tenant, in.Login, in.Channel = strings.TrimSpace(in.Tenant), strings.TrimSpace(in.Login), strings.TrimSpace(in.Channel)
	in.Tenant, in.Login, in.IP, in.UserAgent = clientText(in.Tenant, 200), clientText(in.Login, 300), clientText(in.IP, 100), clientText(in.UserAgent, 400)
	var v Validation
	if in.Tenant == "" {
		v.Add("tenant", "is required")
	}
	if in.Login == "" {
		v.Add("login", "is required: your username or email address")
	} else if len(in.Login) > 254 {
		v.Add("login", "is too long")
	}
	if in.Channel == "" {
		in.Channel = ChannelEmail
	}
	if in.Channel != ChannelEmail && in.Channel != ChannelSMS {
		v.Add("channel", "must be email or sms")
	}
	if err := v.Err(); err != nil {
		return err
	}
	t, err := s.TenantBySlug(ctx, in.Tenant)
	if ErrorCode(err) == ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	r := s.store.Read()
	now := s.Now()
	ipLimit := []keyedLimit{{lc.opts.CodeRequestsPerIP, limitKey("code", "ip", in.IP)}}
	if wait, _, err := blockedAny(ctx, r, t.ID, now, ipLimit); err != nil {
		return err
	} else if wait > 0 {
		return rateLimited("code requests from your address", wait)
	}
	u, _, err := findLogin(ctx, r, t.ID, in.Login)
	if err != nil {
		return err
	}
	if ErrorCode(s.passwordAllowed(ctx, t.ID, u)) == EForbidden {
		u = nil // "SSO required" : no code, and the same answer
	}
	acctLimit := []keyedLimit{{lc.opts.CodeRequestsPerAccount, limitKey("code", "acct", accountKey(userIDOf(u), in.Login))}}
	acctWait, _, err := blockedAny(ctx, r, t.ID, now, acctLimit)
	if err != nil {
		return err
	}
	recipient := ""
	if u != nil && u.Status == StatusActive && acctWait == 0 {
		recipient = u.Email
		if in.Channel == ChannelSMS {
			recipient = u.Mobile
		}
	}
	code := auth.NewCode()
	err = s.inTx(ctx, func(tx Tx) error {
		if err := hitAll(ctx, tx, t.ID, now, append(ipLimit, acctLimit...)); err != nil {
			return err
		}
		if recipient == "" {
			return nil
		}
		c := &OneTimeCode{TenantID: t.ID, UserID: u.ID, CodeHash: auth.HashCode(t.ID, u.ID, code), Channel: in.Channel,
			ExpiresAt: now.Add(lc.opts.CodeTTL), CreatedAt: now}
		if err := tx.PutCode(ctx, c); err != nil {
			return err
		}
		d := messageData{Tenant: tenantDisplayName(t), Name: u.Name, Username: u.Username, Code: SecretMarker,
			Minutes: int(lc.opts.CodeTTL / time.Minute)}
		if _, err := s.enqueueTx(ctx, tx, t.ID, in.Channel, recipient, u.Language, "code", "user:"+itoa64(u.ID), code, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, anonymousActor(t.ID, in.IP, in.UserAgent), "user.code_request", "user", u.ID, nil,
			map[string]any{"channel": in.Channel, "expires_at": c.ExpiresAt})
	})
	if err != nil {
		return err
	}
	if recipient != "" {
		s.notifyOutbox()
	}
	return nil
}

// ResetInput sets a password with a one-time code.
type ResetInput struct {
	Tenant    string
	Login     string
	Code      string
	Password  string
	IP        string
	UserAgent string
}

func errBadCode() error {
	return badField("code", "the code is wrong or has expired; ask for a new code if you need one")
}

// ResetPassword sets an active user's password with their one-time code and
// ends all their sessions. A code survives CodeAttempts wrong tries; wrong
// codes are also counted per client address and account together and per
// client address, and past those limits that source is refused until the
// window ends (never the account: the owner elsewhere is not held back).
// Unknown accounts are answered and counted exactly like wrong codes.
func (s *Service) ResetPassword(ctx context.Context, in ResetInput) error {
	lc := s.lcState()
	in.Tenant, in.Login = strings.TrimSpace(in.Tenant), strings.TrimSpace(in.Login)
	in.Tenant, in.Login, in.IP, in.UserAgent = clientText(in.Tenant, 200), clientText(in.Login, 300), clientText(in.IP, 100), clientText(in.UserAgent, 400)
	in.Code = auth.NormalizeCode(strings.TrimSpace(in.Code))
	var v Validation
	if in.Tenant == "" {
		v.Add("tenant", "is required")
	}
	if in.Login == "" {
		v.Add("login", "is required: your username or email address")
	} else if len(in.Login) > 254 {
		v.Add("login", "is too long")
	}
	if in.Code == "" {
		v.Add("code", "is required")
	} else if len(in.Code) > 32 {
		v.Add("code", "is too long")
	}
	if in.Password == "" {
		v.Add("password", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	t, err := s.TenantBySlug(ctx, in.Tenant)
	if ErrorCode(err) == ENotFound {
		return errBadCode()
	}
	if err != nil {
		return err
	}
	r := s.store.Read()
	now := s.Now()
	u, _, err := findLogin(ctx, r, t.ID, in.Login)
	if err != nil {
		return err
	}
	if err := s.passwordAllowed(ctx, t.ID, u); err != nil { // "SSO required"
		return err
	}
	uid := userIDOf(u)
	limits := []keyedLimit{{lc.opts.CodeFailuresPerIP, limitKey("reset", "ip", in.IP)},
		{lc.opts.CodeFailuresPerPair, pairKey("reset", in.IP, accountKey(uid, in.Login))}}
	if wait, _, err := blockedAny(ctx, r, t.ID, now, limits); err != nil {
		return err
	} else if wait > 0 {
		return rateLimited("wrong codes from your address", wait)
	}
	var code *OneTimeCode
	if u != nil {
		code, err = r.CodeOfUser(ctx, t.ID, uid)
		if err != nil && ErrorCode(err) != ENotFound {
			return err
		}
	}
	good := false
	if code != nil && u.Status == StatusActive && now.Before(code.ExpiresAt) && code.Attempts < lc.opts.CodeAttempts {
		good = auth.Equal(auth.HashCode(t.ID, u.ID, in.Code), code.CodeHash)
	} else {
		_ = auth.Equal(auth.HashCode(t.ID, uid, in.Code), make([]byte, 32)) // the same work either way
	}
	if !good {
		err := s.inTx(ctx, func(tx Tx) error {
			if code != nil {
				// Count the try on the code; a code out of tries is gone.
				cur, err := tx.CodeOfUser(ctx, t.ID, u.ID)
				if err == nil && cur.ID == code.ID {
					if cur.Attempts+1 >= lc.opts.CodeAttempts || !now.Before(cur.ExpiresAt) {
						err = tx.DeleteUserCodes(ctx, t.ID, u.ID)
					} else {
						err = tx.SetCodeAttempts(ctx, t.ID, cur.ID, cur.Attempts+1)
					}
				}
				if err != nil && ErrorCode(err) != ENotFound {
					return err
				}
			}
			return hitAll(ctx, tx, t.ID, now, limits)
		})
		if err != nil {
			return err
		}
		return errBadCode()
	}
	// The code is right: only now judge the password, so a weak password
	// costs no try and the answer to a wrong code never depends on it.
	if msg := auth.NewPolicy(t.Settings.MinPasswordLength).Check(in.Password, u.Username, u.Email, u.Name); msg != "" {
		return badField("password", "%s", msg)
	}
	hash, err := lc.hasher.Hash(in.Password)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		cur, err := tx.CodeOfUser(ctx, t.ID, u.ID)
		if ErrorCode(err) == ENotFound || (err == nil && cur.ID != code.ID) {
			return errBadCode() // used or replaced meanwhile
		}
		if err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, t.ID, u.ID, hash); err != nil {
			return err
		}
		if err := tx.DeleteUserCodes(ctx, t.ID, u.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, t.ID, u.ID, 0); err != nil {
			return err
		}
		if err := tx.ResetRateLimit(ctx, t.ID, limits[1].key); err != nil {
			return err
		}
		return s.audit(ctx, tx, userActor(u, in.IP, in.UserAgent), "user.password_reset", "user", u.ID, nil,
			map[string]any{"channel": code.Channel})
	})
}

// ChangePassword sets the signed-in user's new password after checking the
// current one, and ends every other session of theirs. sessionToken is the
// session the change is made from; it stays signed in.
func (s *Service) ChangePassword(ctx context.Context, a *Actor, sessionToken, current, next string) error {
	if a.Kind != ActorUser {
		return Errorf(EForbidden, "only a signed-in user can change their password")
	}
	if a.ReadOnly || a.ImpersonatorID != nil {
		return Errorf(EForbidden, "viewing as another user is read-only")
	}
	lc := s.lcState()
	var v Validation
	if current == "" {
		v.Add("current_password", "is required")
	}
	if next == "" {
		v.Add("new_password", "is required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, a.ID)
	if err != nil {
		return err
	}
	t, err := r.TenantByID(ctx, a.TenantID)
	if err != nil {
		return err
	}
	now := s.Now()
	// Guessing the current password is guessing a sign-in: the same windows
	// of this address, which only the session's holder drives.
	limits := []keyedLimit{{lc.opts.SignInPerIP, limitKey("signin", "ip", a.IP)},
		{lc.opts.SignInPerPair, pairKey("signin", a.IP, accountKey(u.ID, ""))}}
	if wait, _, err := blockedAny(ctx, r, a.TenantID, now, limits); err != nil {
		return err
	} else if wait > 0 {
		return rateLimited("wrong passwords from your address", wait)
	}
	hash, err := r.PasswordHash(ctx, a.TenantID, a.ID)
	if err != nil {
		return err
	}
	ok := false
	if hash != "" {
		ok, _, _ = lc.hasher.Verify(current, hash)
	}
	if !ok {
		if err := s.inTx(ctx, func(tx Tx) error { return hitAll(ctx, tx, a.TenantID, now, limits) }); err != nil {
			return err
		}
		return badField("current_password", "is wrong")
	}
	if msg := auth.NewPolicy(t.Settings.MinPasswordLength).Check(next, u.Username, u.Email, u.Name); msg != "" {
		return badField("new_password", "%s", msg)
	}
	newHash, err := lc.hasher.Hash(next)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		var keep int64
		if sessionToken != "" {
			if sess, err := tx.SessionByHash(ctx, HashSecret(sessionToken)); err == nil && sess.UserID == u.ID && sess.TenantID == u.TenantID {
				keep = sess.ID
			}
		}
		if err := tx.SetPasswordHash(ctx, a.TenantID, u.ID, newHash); err != nil {
			return err
		}
		ended, err := tx.DeleteUserSessions(ctx, a.TenantID, u.ID, keep)
		if err != nil {
			return err
		}
		if err := tx.DeleteUserCodes(ctx, a.TenantID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.password_change", "user", u.ID, nil, map[string]any{"other_sessions_ended": ended})
	})
}
