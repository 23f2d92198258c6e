package roster

import (
	"context"
	"strings"
	"time"

	"github.com/pquerna/otp"
)

// The second-factor step of sign-in (docs/mfa.md, "Sign-in"). With the
// tenant's policy other than off, a password sign-in that passes does not
// start a session when the user has a factor or must enrol one: it starts
// a challenge instead, a row found by the hash of a token the browser keeps
// in its own cookie. A challenge is not a session: AuthenticateSession
// never accepts it, so it reaches nothing but its own step.
//
// A wrong password (or an unknown login) starts a challenge too, one that
// can only fail, so the step never tells whether the password was right:
// the answer to both comes with the second factor's, in one message. The
// password's failure is counted at once, as without MFA; success only
// forgets this source's failures when the second factor passes too.

// MFAChallengeTTL is how long the second-factor step waits.
const MFAChallengeTTL = 10 * time.Minute

// MFAStep is a sign-in waiting for its second factor (Stage verify) or for
// the user to set one up (Stage enrol). Token goes into its own cookie.
type MFAStep struct {
	Token     string    `json:"challenge"`
	Stage     string    `json:"stage"`
	ExpiresAt time.Time `json:"expires_at"`
}

const mfaTokenPrefix = "rsm_"

// errBadSecondFactor is the one answer to a wrong code, a wrong password
// before it, an unknown login and a step that has ended.
func errBadSecondFactor() error {
	return Errorf(EUnauthorized, "the username, password or code is wrong, or the sign-in took too long; sign in again")
}

// mfaAfterPassword decides what follows a password check for the tenant:
// nil when MFA is off (the sign-in continues as without it), else a
// challenge when one is needed. u is nil for an unknown login.
func (s *Service) mfaAfterPassword(ctx context.Context, tenantID int64, u *User, account string, passwordOK bool, in SignInInput, previous []byte) (*MFAStep, error) {
	p, err := s.tenantMFAPolicy(ctx, tenantID)
	if err != nil || p.policy == MFAOff {
		return nil, err
	}
	c := &MFAChallenge{TenantID: tenantID, UserID: userIDOf(u), Account: account, PasswordOK: passwordOK, Stage: MFAStageVerify,
		PreviousHash: previous, IP: in.IP, UserAgent: in.UserAgent}
	if passwordOK {
		r := s.store.Read()
		full, err := r.User(ctx, tenantID, u.ID) // the sign-in's read leaves out the roles
		if err != nil {
			return nil, err
		}
		st, err := s.mfaStatusTx(ctx, r, full)
		if err != nil {
			return nil, err
		}
		switch {
		case st.Enrolled():
		case st.Required:
			c.Stage = MFAStageEnrol
			if c.EnrolSecret, err = s.sealTOTP(tenantID, newTOTPSecret()); err != nil {
				return nil, err
			}
		default:
			return nil, nil // optional and none set up: signed in by the password
		}
	}
	return s.createChallenge(ctx, c)
}

func (s *Service) createChallenge(ctx context.Context, c *MFAChallenge) (*MFAStep, error) {
	token := NewSecret(mfaTokenPrefix)
	now := s.Now()
	c.TokenHash, c.CreatedAt, c.ExpiresAt = HashSecret(token), now, now.Add(MFAChallengeTTL)
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		if err := tx.DeleteExpiredMFAChallenges(ctx, now); err != nil {
			return err
		}
		return tx.CreateMFAChallenge(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return &MFAStep{Token: token, Stage: c.Stage, ExpiresAt: c.ExpiresAt}, nil
}

// challenge finds the live challenge of token; errBadSecondFactor when none.
func (s *Service) challenge(ctx context.Context, r Reader, token string) (*MFAChallenge, error) {
	if !strings.HasPrefix(token, mfaTokenPrefix) {
		return nil, errBadSecondFactor()
	}
	c, err := r.MFAChallengeByHash(ctx, HashSecret(token))
	if ErrorCode(err) == ENotFound {
		return nil, errBadSecondFactor()
	}
	if err != nil {
		return nil, err
	}
	if !s.Now().Before(c.ExpiresAt) {
		return nil, errBadSecondFactor()
	}
	return c, nil
}

// MFAStepInfo is what the step's page shows: its stage, and whether the
// tenant offers passkeys there.
type MFAStepInfo struct {
	Stage string
	// Enrolment is the authenticator to set up (Stage enrol).
	Enrolment *TOTPEnrolment
}

// SecondFactorStep describes the challenge of token, for its page.
func (s *Service) SecondFactorStep(ctx context.Context, token string) (*MFAStepInfo, error) {
	r := s.store.Read()
	c, err := s.challenge(ctx, r, token)
	if err != nil {
		return nil, err
	}
	info := &MFAStepInfo{Stage: c.Stage}
	if c.Stage == MFAStageEnrol {
		k, err := s.enrolKey(ctx, r, c)
		if err != nil {
			return nil, err
		}
		info.Enrolment = enrolmentOf(k)
	}
	return info, nil
}

// EnrolmentQR is the QR code (PNG) of the enrol stage of token.
func (s *Service) EnrolmentQR(ctx context.Context, token string) ([]byte, error) {
	r := s.store.Read()
	c, err := s.challenge(ctx, r, token)
	if err != nil {
		return nil, err
	}
	if c.Stage != MFAStageEnrol {
		return nil, Errorf(ENotFound, "nothing to set up")
	}
	k, err := s.enrolKey(ctx, r, c)
	if err != nil {
		return nil, err
	}
	return qrPNG(k)
}

func (s *Service) enrolKey(ctx context.Context, r Reader, c *MFAChallenge) (*otp.Key, error) {
	secret, err := s.openTOTP(c.TenantID, c.EnrolSecret)
	if err != nil {
		return nil, err
	}
	u, err := r.User(ctx, c.TenantID, c.UserID)
	if err != nil {
		return nil, err
	}
	t, err := r.TenantByID(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	return totpKey(t, u, secret)
}

// SecondFactorInput is the code typed at the step.
type SecondFactorInput struct {
	Token     string
	Code      string
	IP        string
	UserAgent string
}

// mfaLimits are the step's throttles: per client address and account
// together, and per client address. Every guess also costs a password
// sign-in, whose own throttle and account delay apply.
func (s *Service) mfaLimits(c *MFAChallenge, ip string) []keyedLimit {
	lc := s.lcState()
	return []keyedLimit{{lc.opts.CodeFailuresPerPair, pairKey("mfa", ip, c.Account)}, {lc.opts.CodeFailuresPerIP, limitKey("mfa", "ip", ip)}}
}

// CompleteSecondFactor checks the code (six digits from the authenticator
// app, or a recovery code) of the challenge of token and starts the
// session. The challenge ends whatever the outcome: a wrong code means
// signing in again, password included.
func (s *Service) CompleteSecondFactor(ctx context.Context, in SecondFactorInput) (*SignedIn, error) {
	in.IP, in.UserAgent = clientText(in.IP, 100), clientText(in.UserAgent, 400)
	code := strings.TrimSpace(in.Code)
	if code == "" {
		return nil, badField("code", "is required: the six digits your app shows, or a recovery code")
	}
	if len(code) > 40 {
		return nil, badField("code", "is six digits, or a recovery code of ten letters and digits")
	}
	c, err := s.challenge(ctx, s.store.Read(), in.Token)
	if err != nil {
		return nil, err
	}
	if c.Stage != MFAStageVerify {
		return nil, errBadSecondFactor()
	}
	return s.finishChallenge(ctx, c, in.IP, in.UserAgent, func(tx Tx, u *User) (string, error) {
		if looksLikeRecoveryCode(code) {
			ok, err := tx.UseRecoveryCode(ctx, u.TenantID, u.ID, recoveryHash(u.TenantID, u.ID, code), s.Now())
			return map[bool]string{true: "recovery_code"}[ok], err
		}
		ok, err := s.checkTOTPTx(ctx, tx, u, code)
		return map[bool]string{true: "totp"}[ok], err
	})
}

// finishChallenge is the end of every second-factor step: throttled, the
// challenge deleted, check run only when the password was right (it
// returns the factor that passed, "" for none), and on success a session
// started as a password sign-in starts one.
func (s *Service) finishChallenge(ctx context.Context, c *MFAChallenge, ip, userAgent string, check func(tx Tx, u *User) (string, error)) (*SignedIn, error) {
	now := s.Now()
	limits := s.mfaLimits(c, ip)
	wait, _, err := blockedAny(ctx, s.store.Read(), c.TenantID, now, limits)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, rateLimited("wrong codes from your address", wait)
	}
	var out *SignedIn
	failed := false
	err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		if err := tx.DeleteMFAChallenge(ctx, c.ID); err != nil {
			return err
		}
		factor := ""
		var u *User
		if c.PasswordOK {
			var err error
			if u, err = tx.User(ctx, c.TenantID, c.UserID); err != nil && ErrorCode(err) != ENotFound {
				return err
			}
			if u != nil && u.Status == StatusActive {
				if factor, err = check(tx, u); err != nil {
					return err
				}
			}
		}
		if factor == "" {
			failed = true
			return hitAll(ctx, tx, c.TenantID, now, limits)
		}
		// Both factors passed: forget this source's failures on the account.
		if err := tx.ResetRateLimit(ctx, c.TenantID, pairKey("signin", c.IP, c.Account)); err != nil {
			return err
		}
		var err error
		out, err = s.newSessionTxHash(ctx, tx, u, ip, userAgent, c.PreviousHash, map[string]any{"via": "password", "mfa": factor})
		return err
	})
	if err != nil {
		return nil, err
	}
	if failed {
		return nil, errBadSecondFactor()
	}
	return out, nil
}

// CompleteEnrolment finishes the enrol stage: the first code of the new
// authenticator confirms it, and the session starts. The recovery codes
// come back to be shown this once.
func (s *Service) CompleteEnrolment(ctx context.Context, in SecondFactorInput) (*SignedIn, []string, error) {
	in.IP, in.UserAgent = clientText(in.IP, 100), clientText(in.UserAgent, 400)
	code := strings.TrimSpace(in.Code)
	if code == "" {
		return nil, nil, badField("code", "is required: the six digits your app shows")
	}
	if len(code) > 20 {
		return nil, nil, badField("code", "is six digits")
	}
	c, err := s.challenge(ctx, s.store.Read(), in.Token)
	if err != nil {
		return nil, nil, err
	}
	if c.Stage != MFAStageEnrol {
		return nil, nil, errBadSecondFactor()
	}
	secret, err := s.openTOTP(c.TenantID, c.EnrolSecret)
	if err != nil {
		return nil, nil, err
	}
	step := totpStepOf(secret, code, s.Now())
	if step == 0 {
		// The person has shown their password already: a mistyped code may
		// be tried again within the challenge.
		return nil, nil, badField("code", "is not the code your app shows now; check the app's clock and try the next code")
	}
	var codes []string
	var out *SignedIn
	err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		if err := tx.DeleteMFAChallenge(ctx, c.ID); err != nil {
			return err
		}
		u, err := tx.User(ctx, c.TenantID, c.UserID)
		if ErrorCode(err) == ENotFound || (err == nil && u.Status != StatusActive) {
			return errBadSecondFactor()
		}
		if err != nil {
			return err
		}
		a := userActor(u, in.IP, in.UserAgent)
		f := &TOTPFactor{TenantID: u.TenantID, UserID: u.ID, Sealed: c.EnrolSecret, CreatedAt: s.Now()}
		if codes, err = s.confirmTOTPTx(ctx, tx, a, u, f, step); err != nil {
			return err
		}
		if err := tx.ResetRateLimit(ctx, c.TenantID, pairKey("signin", c.IP, c.Account)); err != nil {
			return err
		}
		out, err = s.newSessionTxHash(ctx, tx, u, in.IP, in.UserAgent, c.PreviousHash, map[string]any{"via": "password", "mfa": "totp_enrol"})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return out, codes, nil
}

// CancelSecondFactor ends the challenge of token (the person went back).
func (s *Service) CancelSecondFactor(ctx context.Context, token string) error {
	c, err := s.challenge(ctx, s.store.Read(), token)
	if err != nil {
		return nil
	}
	return s.inTxOutsideDecisions(ctx, func(tx Tx) error { return tx.DeleteMFAChallenge(ctx, c.ID) })
}
