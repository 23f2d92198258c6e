package roster

import (
	"context"
	"time"
)

// SSOReader and SSOTx hold the queries of enterprise sign-in (sso*.go).
type SSOReader interface {
	SSOProvider(ctx context.Context, tenantID, id int64) (*SSOProvider, error)
	// SSOProviderAnyTenant finds a provider by id alone: /sso/{id}/start
	// names no tenant (ids are never reused, so they are unique).
	SSOProviderAnyTenant(ctx context.Context, id int64) (*SSOProvider, error)
	ListSSOProviders(ctx context.Context, tenantID int64) ([]SSOProvider, error)

	// SSOLinkedUser is the user linked to (provider, subject); 0 when none.
	SSOLinkedUser(ctx context.Context, tenantID, providerID int64, subject string) (int64, error)
	// SSOUserSubject is the subject linked to the user; "" when none.
	SSOUserSubject(ctx context.Context, tenantID, providerID, userID int64) (string, error)

	// SSOPolicy is the tenant's policy; the zero policy when none is stored.
	SSOPolicy(ctx context.Context, tenantID int64) (*SSOPolicy, error)
	// SSOProviderByDomain is the provider the tenant routes domain to;
	// ENotFound when none.
	SSOProviderByDomain(ctx context.Context, tenantID int64, domain string) (*SSOProvider, error)
}

// SSOTx holds the writes; a transaction has both.
type SSOTx interface {
	CreateSSOProvider(ctx context.Context, p *SSOProvider) error
	UpdateSSOProvider(ctx context.Context, p *SSOProvider) error
	DeleteSSOProvider(ctx context.Context, tenantID, id int64) error

	CreateSSOLink(ctx context.Context, l *SSOLink) error

	CreateSSOFlow(ctx context.Context, f *SSOFlow) error
	// TakeSSOFlow deletes the flow of stateHash and returns it (ENotFound
	// when there is none), so a state is used at most once.
	TakeSSOFlow(ctx context.Context, stateHash []byte) (*SSOFlow, error)
	DeleteExpiredSSOFlows(ctx context.Context, before time.Time) error

	// PutSSODomains replaces the email domains routed to a provider
	// (EConflict naming email_domains when another provider has one).
	PutSSODomains(ctx context.Context, tenantID, providerID int64, domains []string) error
	// ConsumeSAMLAssertion records an assertion id until it expires; false
	// when it was recorded already (a replay).
	ConsumeSAMLAssertion(ctx context.Context, tenantID, providerID int64, assertionID string, expiresAt time.Time) (bool, error)
	DeleteExpiredSAMLAssertions(ctx context.Context, before time.Time) error

	PutSSOPolicy(ctx context.Context, tenantID int64, p *SSOPolicy) error
}

// SSOLink ties an identity provider's subject to a user.
type SSOLink struct {
	TenantID   int64
	ProviderID int64
	Subject    string
	UserID     int64
	CreatedAt  time.Time
}

// SSOFlow is a sign-in between its start and its callback. The state is
// only stored hashed; the nonce and the PKCE verifier live ten minutes.
type SSOFlow struct {
	StateHash  []byte
	TenantID   int64
	ProviderID int64
	Nonce      string
	Verifier   string
	ExpiresAt  time.Time
	// TryUserID is the admin of a "try sign-in"; 0 for a real sign-in.
	TryUserID int64
}
