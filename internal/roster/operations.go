package roster

import (
	"context"
	"time"

	"github.com/roster-dev/roster/internal/authz"
	"github.com/roster-dev/roster/internal/phone"
)

// Operations: what the operator's commands (roster doctor) and the metrics
// read across every tenant. No front door of a tenant reaches these.

// OperationsReader are the cross-tenant queries of operations.
type OperationsReader interface {
	// OutboxBacklog counts the pending messages and returns the creation
	// time of the oldest (nil when none is pending).
	OutboxBacklog(ctx context.Context) (pending int, oldest *time.Time, err error)
	// EachStoredPhone calls fn for every user with a mobile or ring-to
	// number, by tenant and id.
	EachStoredPhone(ctx context.Context, fn func(StoredPhone) error) error
}

// StoredPhone is a user's numbers as stored.
type StoredPhone struct {
	TenantID       int64
	TenantSlug     string
	UserID         int64
	Username       string
	Mobile, RingTo string
}

// OutboxBacklog is the delivery queue: how many messages wait and since when.
type OutboxBacklog struct {
	Pending int
	Oldest  *time.Time // the oldest pending message's creation; nil when none
}

// OutboxBacklog reads the delivery queue of every tenant.
func (s *Service) OutboxBacklog(ctx context.Context) (OutboxBacklog, error) {
	n, oldest, err := s.store.Read().OutboxBacklog(ctx)
	return OutboxBacklog{Pending: n, Oldest: oldest}, err
}

// DecisionIndexStats describe this process's decision index.
func (s *Service) DecisionIndexStats() authz.Stats { return s.authz.Stats() }

// PhoneIssue is a stored number the rules of today refuse or would store
// differently (numbers stored before the number plans were checked).
type PhoneIssue struct {
	TenantID   int64
	TenantSlug string
	UserID     int64
	Username   string
	Field      string // "mobile" or "ring_to"
	Stored     string
	// Canonical is the number's one E.164 form when it is valid for its
	// field but stored otherwise; "" when no rewrite can make it valid.
	Canonical string
	Problem   string
}

// PhoneIssues checks every stored mobile and ring-to number as input is
// checked.
func (s *Service) PhoneIssues(ctx context.Context) ([]PhoneIssue, error) {
	var out []PhoneIssue
	check := func(p StoredPhone, field, stored string, normalize func(string) (string, error)) {
		if stored == "" {
			return
		}
		is := PhoneIssue{TenantID: p.TenantID, TenantSlug: p.TenantSlug, UserID: p.UserID, Username: p.Username, Field: field, Stored: stored}
		switch n, err := normalize(stored); {
		case err != nil:
			is.Problem = field + " " + err.Error()
		case n != stored:
			is.Canonical = n
			is.Problem = "not in canonical form " + n
		default:
			return
		}
		out = append(out, is)
	}
	err := s.store.Read().EachStoredPhone(ctx, func(p StoredPhone) error {
		check(p, "mobile", p.Mobile, phone.NormalizeMobile)
		check(p, "ring_to", p.RingTo, phone.Normalize)
		return nil
	})
	return out, err
}

// FixPhone rewrites the number of is to its canonical form, audited as
// user.phone_canonicalised by the system, if it is still stored as found.
func (s *Service) FixPhone(ctx context.Context, is PhoneIssue) error {
	if is.Canonical == "" {
		return Errorf(EInvalid, "%s of user %d has no canonical form to rewrite it to", is.Field, is.UserID)
	}
	_, err := s.changeUser(ctx, SystemActor(is.TenantID), is.UserID, "user.phone_canonicalised", func(_ Tx, u, before *User) error {
		field := &u.Mobile
		if is.Field == "ring_to" {
			field = &u.RingTo
		}
		if *field != is.Stored {
			return Errorf(EConflict, "%s of user %d changed since it was checked", is.Field, is.UserID)
		}
		*field = is.Canonical
		return nil
	})
	return err
}
