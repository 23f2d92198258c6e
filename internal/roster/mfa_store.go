package roster

import (
	"context"
	"time"
)

// MFAReader holds the reads of multi-factor authentication (mfa*.go).
type MFAReader interface {
	// TOTPFactor is the user's authenticator app; ENotFound when none.
	TOTPFactor(ctx context.Context, tenantID, userID int64) (*TOTPFactor, error)
	// RecoveryCodesLeft counts the user's unused codes.
	RecoveryCodesLeft(ctx context.Context, tenantID, userID int64) (int, error)
	Passkeys(ctx context.Context, tenantID, userID int64) ([]Passkey, error)
	// PasskeyByCredentialID finds a credential in the tenant; ENotFound when none.
	PasskeyByCredentialID(ctx context.Context, tenantID int64, credentialID []byte) (*Passkey, error)
	// MFAChallengeByHash finds a live or expired challenge; ENotFound when none.
	MFAChallengeByHash(ctx context.Context, tokenHash []byte) (*MFAChallenge, error)
}

// MFATx holds the writes of multi-factor authentication.
type MFATx interface {
	// PutTOTPFactor stores f, replacing the user's previous one.
	PutTOTPFactor(ctx context.Context, f *TOTPFactor) error
	// UseTOTPStep records step as used when it is later than the last one;
	// false when it is not (the code was used already), so a code works once
	// even when two requests race.
	UseTOTPStep(ctx context.Context, tenantID, userID, step int64) (bool, error)
	DeleteTOTPFactor(ctx context.Context, tenantID, userID int64) error

	// ReplaceRecoveryCodes deletes the user's codes and stores hashes.
	ReplaceRecoveryCodes(ctx context.Context, tenantID, userID int64, hashes [][]byte) error
	// UseRecoveryCode marks the unused code with hash used; false when there is none.
	UseRecoveryCode(ctx context.Context, tenantID, userID int64, hash []byte, at time.Time) (bool, error)

	CreatePasskey(ctx context.Context, p *Passkey) error
	// PasskeyUsed stores the credential as the authenticator left it (its
	// sign counter) and the time of use.
	PasskeyUsed(ctx context.Context, p *Passkey) error
	DeletePasskey(ctx context.Context, tenantID, userID, id int64) error

	// DeleteFactors removes every factor of the user (TOTP, recovery codes,
	// passkeys) and reports how many there were.
	DeleteFactors(ctx context.Context, tenantID, userID int64) (int, error)

	CreateMFAChallenge(ctx context.Context, c *MFAChallenge) error
	// UpdateMFAChallenge stores the ceremony and the enrolment secret.
	UpdateMFAChallenge(ctx context.Context, c *MFAChallenge) error
	DeleteMFAChallenge(ctx context.Context, id int64) error
	DeleteExpiredMFAChallenges(ctx context.Context, before time.Time) error
}

// TOTPFactor is a user's authenticator app. Sealed is the secret sealed
// under the server's key (sealSecret); ConfirmedAt is nil until the first
// code was entered.
type TOTPFactor struct {
	TenantID    int64
	UserID      int64
	Sealed      []byte
	ConfirmedAt *time.Time
	LastStep    int64
	CreatedAt   time.Time
}

// Passkey is a WebAuthn credential of a user. Credential is go-webauthn's
// Credential as JSON.
type Passkey struct {
	ID           int64      `json:"id"`
	TenantID     int64      `json:"-"`
	UserID       int64      `json:"-"`
	Name         string     `json:"name"`
	CredentialID []byte     `json:"-"`
	Credential   []byte     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
}

// MFAChallenge is a sign-in between its password and its second factor.
type MFAChallenge struct {
	ID        int64
	TokenHash []byte
	TenantID  int64
	// UserID is the user the login named (0: none); Account the rate-limit
	// account key of the login (throttle.go).
	UserID     int64
	Account    string
	PasswordOK bool
	Stage      string // MFAStageVerify or MFAStageEnrol
	// Ceremony is a passkey ceremony under way (webauthn.SessionData as JSON).
	Ceremony string
	// EnrolSecret is the sealed TOTP secret offered at the enrol stage.
	EnrolSecret  []byte
	PreviousHash []byte
	IP           string
	UserAgent    string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// The stages of a challenge.
const (
	MFAStageVerify = "verify"
	MFAStageEnrol  = "enrol"
)
