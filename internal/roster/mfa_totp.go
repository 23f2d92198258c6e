package roster

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP (RFC 6238) by pquerna/otp: 30-second steps, six digits, SHA-1 (what
// every authenticator app reads from a QR code). A code is accepted for
// the step before and after the current one (clock drift), and only once:
// the last step used is stored per user, and a code of that step or an
// earlier one is refused.

const (
	totpPeriod = 30
	totpSkew   = 1 // steps either side of now
	// RecoveryCodeCount codes are made at enrolment, each used once.
	RecoveryCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPEnrolment is an authenticator app being set up: the key to type in
// by hand and the otpauth:// URL the QR code holds.
type TOTPEnrolment struct {
	ManualKey string `json:"manual_key"`
	URL       string `json:"url"`
}

// newTOTPSecret is a fresh 160-bit secret (RFC 4226's recommended size).
func newTOTPSecret() []byte {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return b
}

// totpKey is the otp key of secret for u, named after the organisation.
func totpKey(t *Tenant, u *User, secret []byte) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: cmp.Or(t.Settings.BrandingName, t.Name, "Roster"), AccountName: u.Username,
		Secret: secret, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

func enrolmentOf(k *otp.Key) *TOTPEnrolment {
	// Groups of four, as authenticator apps show a key typed in by hand.
	s := k.Secret()
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return &TOTPEnrolment{ManualKey: b.String(), URL: k.URL()}
}

// qrPNG renders the key's URL as a QR code in PNG.
func qrPNG(k *otp.Key) ([]byte, error) {
	img, err := k.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// totpStepOf finds the step of now, or one either side, whose code is
// code; 0 when none. Every candidate is compared, in constant time.
func totpStepOf(secret []byte, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0
	}
	enc := b32.EncodeToString(secret)
	cur := now.Unix() / totpPeriod
	var found int64
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(enc, time.Unix(step*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found
}

// openTOTP opens a sealed TOTP secret.
func (s *Service) openTOTP(tenantID int64, sealed []byte) ([]byte, error) {
	enc, err := s.openSecret(tenantID, sealed)
	if err != nil {
		return nil, err
	}
	return b32.DecodeString(enc)
}

func (s *Service) sealTOTP(tenantID int64, secret []byte) ([]byte, error) {
	return s.sealSecret(tenantID, b32.EncodeToString(secret))
}

// checkTOTPTx checks code against the user's confirmed authenticator and
// uses its step; false when it is wrong or was used already.
func (s *Service) checkTOTPTx(ctx context.Context, tx Tx, u *User, code string) (bool, error) {
	f, err := tx.TOTPFactor(ctx, u.TenantID, u.ID)
	if ErrorCode(err) == ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if f.ConfirmedAt == nil {
		return false, nil
	}
	secret, err := s.openTOTP(u.TenantID, f.Sealed)
	if err != nil {
		return false, err
	}
	step := totpStepOf(secret, code, s.Now())
	if step == 0 {
		return false, nil
	}
	return tx.UseTOTPStep(ctx, u.TenantID, u.ID, step)
}

// Recovery codes: ten of 10 characters from base32 (50 bits each), shown
// once as xxxxx-xxxxx; only a SHA-256 bound to the user is stored.

func newRecoveryCodes() []string {
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		b := make([]byte, 7)
		_, _ = rand.Read(b)
		s := strings.ToLower(b32.EncodeToString(b))[:10]
		out[i] = s[:5] + "-" + s[5:]
	}
	return out
}

func recoveryHash(tenantID, userID int64, code string) []byte {
	code = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	return HashSecret("roster recovery code " + itoa64(tenantID) + ":" + itoa64(userID) + ":" + code)
}

// looksLikeRecoveryCode: ten letters and digits, dashes and spaces aside.
func looksLikeRecoveryCode(code string) bool {
	return len(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code))) == 10
}

// putRecoveryCodesTx replaces the user's recovery codes with fresh ones.
func putRecoveryCodesTx(ctx context.Context, tx Tx, u *User) ([]string, error) {
	codes := newRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = recoveryHash(u.TenantID, u.ID, c)
	}
	return codes, tx.ReplaceRecoveryCodes(ctx, u.TenantID, u.ID, hashes)
}

// StartTOTPEnrolment begins setting up an authenticator app for the
// signed-in user: a new secret, kept unconfirmed until ConfirmTOTPEnrolment
// gets a code made with it. A confirmed authenticator must be removed first.
func (s *Service) StartTOTPEnrolment(ctx context.Context, a *Actor) (*TOTPEnrolment, error) {
	if err := s.mfaSelf(a); err != nil {
		return nil, err
	}
	var out *TOTPEnrolment
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		u, t, err := s.userAndTenant(ctx, tx, a)
		if err != nil {
			return err
		}
		if t.Settings.MFAPolicy == MFAOff {
			return Errorf(EConflict, "two-step sign-in is turned off for %s", t.Name)
		}
		f, err := tx.TOTPFactor(ctx, u.TenantID, u.ID)
		if err == nil && f.ConfirmedAt != nil {
			return Errorf(EConflict, "you have an authenticator app set up already; remove it first to set up another")
		}
		if err != nil && ErrorCode(err) != ENotFound {
			return err
		}
		secret := newTOTPSecret()
		sealed, err := s.sealTOTP(u.TenantID, secret)
		if err != nil {
			return err
		}
		k, err := totpKey(t, u, secret)
		if err != nil {
			return err
		}
		out = enrolmentOf(k)
		return tx.PutTOTPFactor(ctx, &TOTPFactor{TenantID: u.TenantID, UserID: u.ID, Sealed: sealed, CreatedAt: s.Now()})
	})
	return out, err
}

// PendingTOTPEnrolment is the enrolment StartTOTPEnrolment began, with its
// QR code as PNG; ENotFound when none is under way.
func (s *Service) PendingTOTPEnrolment(ctx context.Context, a *Actor) (*TOTPEnrolment, []byte, error) {
	if err := s.mfaSelf(a); err != nil {
		return nil, nil, err
	}
	r := s.store.Read()
	u, t, err := s.userAndTenant(ctx, r, a)
	if err != nil {
		return nil, nil, err
	}
	f, err := r.TOTPFactor(ctx, u.TenantID, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if f.ConfirmedAt != nil {
		return nil, nil, Errorf(ENotFound, "no authenticator app is being set up")
	}
	secret, err := s.openTOTP(u.TenantID, f.Sealed)
	if err != nil {
		return nil, nil, err
	}
	k, err := totpKey(t, u, secret)
	if err != nil {
		return nil, nil, err
	}
	img, err := qrPNG(k)
	return enrolmentOf(k), img, err
}

// ConfirmTOTPEnrolment finishes setting up the authenticator app with its
// first code and returns ten fresh recovery codes, shown this once.
func (s *Service) ConfirmTOTPEnrolment(ctx context.Context, a *Actor, code string) ([]string, error) {
	if err := s.mfaSelf(a); err != nil {
		return nil, err
	}
	if strings.TrimSpace(code) == "" {
		return nil, badField("code", "is required: the six digits your app shows")
	}
	if len(code) > 20 {
		return nil, badField("code", "is six digits")
	}
	var codes []string
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		u, _, err := s.userAndTenant(ctx, tx, a)
		if err != nil {
			return err
		}
		f, err := tx.TOTPFactor(ctx, u.TenantID, u.ID)
		if ErrorCode(err) == ENotFound || (err == nil && f.ConfirmedAt != nil) {
			return Errorf(EConflict, "no authenticator app is being set up; start again")
		}
		if err != nil {
			return err
		}
		secret, err := s.openTOTP(u.TenantID, f.Sealed)
		if err != nil {
			return err
		}
		step := totpStepOf(secret, code, s.Now())
		if step == 0 {
			return badField("code", "is not the code your app shows now; check the app's clock and try the next code")
		}
		codes, err = s.confirmTOTPTx(ctx, tx, a, u, f, step)
		return err
	})
	return codes, err
}

// confirmTOTPTx confirms f with the step of its first code, makes recovery
// codes and audits the enrolment.
func (s *Service) confirmTOTPTx(ctx context.Context, tx Tx, a *Actor, u *User, f *TOTPFactor, step int64) ([]string, error) {
	now := s.Now()
	f.ConfirmedAt, f.LastStep = &now, step
	if err := tx.PutTOTPFactor(ctx, f); err != nil {
		return nil, err
	}
	codes, err := putRecoveryCodesTx(ctx, tx, u)
	if err != nil {
		return nil, err
	}
	return codes, s.audit(ctx, tx, a, "mfa.totp_enrol", "user", u.ID, nil, map[string]any{"recovery_codes": len(codes)})
}

// RegenerateRecoveryCodes replaces the signed-in user's recovery codes;
// the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a *Actor) ([]string, error) {
	if err := s.mfaSelf(a); err != nil {
		return nil, err
	}
	var codes []string
	err := s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		u, _, err := s.userAndTenant(ctx, tx, a)
		if err != nil {
			return err
		}
		if st, err := s.mfaStatusTx(ctx, tx, u); err != nil {
			return err
		} else if !st.TOTP && len(st.Passkeys) == 0 {
			return Errorf(EConflict, "set up an authenticator app or a passkey first")
		}
		if codes, err = putRecoveryCodesTx(ctx, tx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "mfa.recovery_codes", "user", u.ID, nil, map[string]any{"recovery_codes": len(codes)})
	})
	return codes, err
}

// RemoveTOTP removes the signed-in user's authenticator app, unless the
// policy requires a second factor and it is their last one.
func (s *Service) RemoveTOTP(ctx context.Context, a *Actor) error {
	if err := s.mfaSelf(a); err != nil {
		return err
	}
	return s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		u, _, err := s.userAndTenant(ctx, tx, a)
		if err != nil {
			return err
		}
		st, err := s.mfaStatusTx(ctx, tx, u)
		if err != nil {
			return err
		}
		if !st.TOTP {
			return Errorf(ENotFound, "no authenticator app is set up")
		}
		if st.Required && len(st.Passkeys) == 0 {
			return Errorf(EConflict, "your organisation requires a second factor: it is your only one, so it cannot be removed (an administrator can reset it)")
		}
		if err := tx.DeleteTOTPFactor(ctx, u.TenantID, u.ID); err != nil {
			return err
		}
		if len(st.Passkeys) == 0 {
			if err := tx.ReplaceRecoveryCodes(ctx, u.TenantID, u.ID, nil); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "mfa.totp_remove", "user", u.ID, nil, nil)
	})
}
