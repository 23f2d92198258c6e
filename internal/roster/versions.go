package roster

import (
	"context"
	"fmt"
	"time"
)

// Versions guard against lost updates. Every single resource has a version:
// the millisecond of its last change (updated_at; a token's revocation or
// creation). A front door that was shown a version can pass it on with
// IfVersion; the use case then compares it with the stored one inside its
// transaction, after locking the row, so of two callers who read the same
// version only the first to write wins and the other gets EStale.

type versionKey struct{}

// IfVersion returns ctx asking the use cases it is passed to change or delete
// their resource only while its version is still v.
func IfVersion(ctx context.Context, v int64) context.Context {
	return context.WithValue(ctx, versionKey{}, v)
}

// Version is the version of a resource last changed at t.
func Version(t time.Time) int64 { return t.UnixMilli() }

// Versioned resource kinds, as LockVersion knows them.
const (
	KindUser         = "user"
	KindGroup        = "group"
	KindRole         = "role"
	KindProperty     = "property" // by key
	KindSkill        = "skill"
	KindProfile      = "profile"
	KindCoachingPlan = "coaching plan"
	KindToken        = "token"
	KindInvitation   = "invitation"
	KindWebhook      = "webhook"
)

// checkVersion runs first in a use case's transaction: when ctx carries an
// expected version (IfVersion), it locks the resource's row and refuses with
// EStale when the stored version differs. A resource that does not exist is
// left to the use case's own not-found answer. ref is the id, or the key of a
// property.
func (s *Service) checkVersion(ctx context.Context, tx Tx, kind string, tenantID int64, ref any) error {
	want, ok := ctx.Value(versionKey{}).(int64)
	if !ok {
		return nil
	}
	at, err := tx.LockVersion(ctx, kind, tenantID, ref)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil
		}
		return err
	}
	if got := Version(at); got != want {
		return &Error{Code: EStale, Reason: ReasonStale, Message: fmt.Sprintf(
			"the %s was changed by someone else since you read it (your version %d, now %d): read it again and redo your change", kind, want, got)}
	}
	return nil
}

// nextUpdate is the change time of a resource last changed at prev: now, but
// always later than prev, so two changes within one millisecond still make
// two versions.
func (s *Service) nextUpdate(prev time.Time) time.Time {
	now := s.Now()
	if !now.After(prev) {
		return prev.Add(time.Millisecond)
	}
	return now
}

// touch records a change of a resource kept outside its own row (its
// property values, its profile switches): it gets a new version.
func (s *Service) touch(ctx context.Context, tx Tx, kind string, tenantID, id int64, prev time.Time) (time.Time, error) {
	at := s.nextUpdate(prev)
	return at, tx.TouchVersion(ctx, kind, tenantID, id, at)
}
