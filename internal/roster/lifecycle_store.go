package roster

import (
	"context"
	"time"
)

// LifecycleReader and LifecycleTx hold the queries of invitations, passwords,
// sessions, one-time codes and the outbox.
type LifecycleReader interface {
	Invitation(ctx context.Context, tenantID, id int64) (*Invitation, error)
	// InvitationByTokenHash finds an invitation of any tenant by the hash of
	// its current token (tokens are global secrets, like API tokens).
	InvitationByTokenHash(ctx context.Context, hash []byte) (*Invitation, error)
	// PendingInvitationOfUser is the user's pending invitation, ENotFound when none.
	PendingInvitationOfUser(ctx context.Context, tenantID, userID int64) (*Invitation, error)
	ListInvitations(ctx context.Context, tenantID int64, f InvitationFilter) ([]Invitation, int, error)

	// UserForLogin finds the user whose username (case-insensitively) or
	// else email is login, with their password hash ("" when none), in one
	// query; roles, group access and agent IDs are not loaded. ENotFound
	// when there is none.
	UserForLogin(ctx context.Context, tenantID int64, login string) (*User, string, error)
	// UserForSignIn is UserForLogin and, in the same query, the rate-limit
	// windows of ipKey and of pairKeyPrefix and acctKeyPrefix each followed
	// by the found user's id (absent windows are absent): a sign-in's reads
	// in one round trip.
	UserForSignIn(ctx context.Context, tenantID int64, login, ipKey, pairKeyPrefix, acctKeyPrefix string) (*User, string, map[string]RateWindow, error)
	// PasswordHash is the user's encoded hash, "" when none is set.
	PasswordHash(ctx context.Context, tenantID, userID int64) (string, error)

	// SessionByHash finds a session of any tenant by the hash of its id.
	SessionByHash(ctx context.Context, hash []byte) (*Session, error)

	CodeOfUser(ctx context.Context, tenantID, userID int64) (*OneTimeCode, error)

	RateLimit(ctx context.Context, tenantID int64, key string) (int, time.Time, error)
	// RateLimitWindows reads several keys at once; absent keys are absent.
	RateLimitWindows(ctx context.Context, tenantID int64, keys []string) (map[string]RateWindow, error)

	ListOutbox(ctx context.Context, tenantID int64, f OutboxFilter) ([]OutboxMessage, int, error)
}

// LifecycleTx holds the writes; a transaction has both.
type LifecycleTx interface {
	CreateInvitation(ctx context.Context, inv *Invitation) error
	UpdateInvitation(ctx context.Context, inv *Invitation) error

	SetPasswordHash(ctx context.Context, tenantID, userID int64, hash string) error

	// RecordSignIn is Store.RecordSignIn inside a transaction.
	RecordSignIn(ctx context.Context, sess *Session, e *AuditEvent) error
	TouchSession(ctx context.Context, tenantID, id int64, at time.Time) error
	DeleteSession(ctx context.Context, tenantID, id int64) error
	// DeleteUserSessions ends every session of the user except exceptID
	// (0: all) and returns how many it ended.
	DeleteUserSessions(ctx context.Context, tenantID, userID, exceptID int64) (int, error)

	// PutCode stores the user's one live code, replacing an older one.
	PutCode(ctx context.Context, c *OneTimeCode) error
	SetCodeAttempts(ctx context.Context, tenantID, id int64, attempts int) error
	DeleteUserCodes(ctx context.Context, tenantID, userID int64) error

	// Rate-limit windows (auth.Counter).
	HitRateLimit(ctx context.Context, tenantID int64, key string, window time.Duration, now time.Time) (int, time.Time, error)
	ResetRateLimit(ctx context.Context, tenantID int64, key string) error

	EnqueueMessage(ctx context.Context, m *OutboxMessage) error
	// CancelPendingMessages cancels the undelivered messages with ref.
	CancelPendingMessages(ctx context.Context, tenantID int64, ref string, now time.Time) error
	// ClaimOutbox leases up to limit due messages of every tenant to the
	// caller (claim), skipping those another worker holds.
	ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]OutboxMessage, error)
	// FinishOutbox records the outcome of a delivery attempt if the caller
	// still holds the lease; ENotFound when it does not.
	FinishOutbox(ctx context.Context, m *OutboxMessage, claim string) error
	// PruneLifecycle deletes sessions past their end or unused since
	// idleCutoff, expired codes and old rate-limit windows.
	PruneLifecycle(ctx context.Context, now, idleCutoff time.Time) error
}

// RateWindow is the count of one rate-limit key in its current window.
type RateWindow struct {
	Count int
	Start time.Time
}

// Invitation statuses as stored; "expired" is a pending invitation past its
// expiry, computed when read.
const (
	InvitationPending   = "pending"
	InvitationAccepted  = "accepted"
	InvitationCancelled = "cancelled"
	InvitationExpired   = "expired"
)

// Invitation is the invitation of one invited user. The token is shown once
// (in the email, or by "copy link") and only its hash is stored.
type Invitation struct {
	ID            int64      `json:"id"`
	TenantID      int64      `json:"-"`
	UserID        int64      `json:"user_id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Username      string     `json:"username"`
	Status        string     `json:"status"`
	TokenHash     []byte     `json:"-"`
	ExpiresAt     time.Time  `json:"expires_at"`
	SendCount     int        `json:"send_count"`
	LastSentAt    time.Time  `json:"last_sent_at"`
	InvitedByKind string     `json:"invited_by_kind"`
	InvitedByID   int64      `json:"invited_by_id"`
	InvitedByName string     `json:"invited_by"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	CancelledAt   *time.Time `json:"cancelled_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// EffectiveStatus is the stored status, or "expired" for a pending
// invitation whose time is up.
func (inv *Invitation) EffectiveStatus(now time.Time) string {
	if inv.Status == InvitationPending && !now.Before(inv.ExpiresAt) {
		return InvitationExpired
	}
	return inv.Status
}

// InvitationFilter selects invitations; the store turns "expired" and
// "pending" into conditions on the expiry.
type InvitationFilter struct {
	Statuses []string
	Scope    *ScopeFilter // nil: every invitation; else those of users whose home group is in it
	Now      time.Time
	Page     int
	PerPage  int
}

// Session is a signed-in browser. The cookie carries a random id; only its
// hash is stored.
type Session struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"-"`
	UserID     int64     `json:"user_id"`
	TokenHash  []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
}

// OneTimeCode is a short-lived code to set a password, sent by email or SMS.
type OneTimeCode struct {
	ID        int64
	TenantID  int64
	UserID    int64
	CodeHash  []byte
	Channel   string
	Attempts  int
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Outbox channels and statuses.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"

	OutboxPending   = "pending"
	OutboxSent      = "sent"
	OutboxFailed    = "failed"
	OutboxCancelled = "cancelled" // superseded (a resent invitation) before delivery
	OutboxLogged    = "logged"    // no sender configured: written to the log instead
)

// OutboxMessage is an email or SMS to deliver. Its text holds SecretMarker
// where the secret (a link token or a code) goes; the secret is substituted
// at delivery and erased once the message is final.
type OutboxMessage struct {
	ID            int64      `json:"id"`
	TenantID      int64      `json:"-"`
	Channel       string     `json:"channel"`
	Recipient     string     `json:"recipient"`
	Language      string     `json:"language"`
	Kind          string     `json:"kind"`
	Ref           string     `json:"ref"`
	Subject       string     `json:"subject"`
	Text          string     `json:"text"`
	HTML          string     `json:"-"`
	Secret        string     `json:"-"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	SentAt        *time.Time `json:"sent_at"`
}

// OutboxFilter selects outbox messages of a tenant, newest first.
type OutboxFilter struct {
	Statuses []string
	Channel  string
	Page     int
	PerPage  int
}
