package roster

import (
	"context"
	"strconv"
	"time"
)

// Idempotency keys let a client retry a create safely: the first request
// with a key runs, and its answer is kept for 24 hours per tenant, actor
// and key; a retry with the same key gets that answer again and creates
// nothing new. The same key with another request is refused (EReused).
// The core keeps answers opaque: front doors decide what an answer is.

// IdempotencyWindow is how long a key and its answer are kept.
const IdempotencyWindow = 24 * time.Hour

// idempotencyLost: a key reserved this long ago without an answer belongs
// to a request that never finished (a crash); a retry runs again.
const idempotencyLost = 5 * time.Minute

// MaxIdempotencyKey is the longest key accepted.
const MaxIdempotencyKey = 255

// IdempotentAnswer is the answer kept for a key; Status 0 while the first
// request still runs.
type IdempotentAnswer struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// IdempotencyRecord is one key as the store keeps it.
type IdempotencyRecord struct {
	TenantID    int64
	Actor       string // "user:12", "token:3"
	Key         string
	Fingerprint string // a hash of the request: method, route, body
	Answer      IdempotentAnswer
	CreatedAt   time.Time
}

// idempotencyTx: the store's side.
type idempotencyTx interface {
	// ReserveIdempotencyKey inserts rec unless its key exists; it returns
	// the existing record, or nil when rec was inserted.
	ReserveIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) (*IdempotencyRecord, error)
	FinishIdempotencyKey(ctx context.Context, rec *IdempotencyRecord) error
	DeleteIdempotencyKey(ctx context.Context, tenantID int64, actor, key string) error
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) error
}

func idempotencyActor(a *Actor) string {
	return a.Kind + ":" + strconv.FormatInt(a.ID, 10)
}

// BeginIdempotent reserves key for the actor's request with fingerprint.
// It returns the kept answer of an earlier request with the same key, or
// nil when this request is the first: the caller then runs it and calls
// FinishIdempotent with its answer (or AbandonIdempotent when it failed in
// a way worth retrying).
func (s *Service) BeginIdempotent(ctx context.Context, a *Actor, key, fingerprint string) (*IdempotentAnswer, error) {
	if len(key) > MaxIdempotencyKey || !printableASCII(key) || key == "" {
		return nil, &Error{Code: EInvalid, Message: "the input is not valid", Fields: []FieldError{{Field: "Idempotency-Key",
			Message: "must be 1 to 255 printable ASCII characters (a UUID is a good key)"}}}
	}
	now := s.Now()
	rec := &IdempotencyRecord{TenantID: a.TenantID, Actor: idempotencyActor(a), Key: key, Fingerprint: fingerprint, CreatedAt: now}
	var answer *IdempotentAnswer
	err := s.inTx(ctx, func(tx Tx) error {
		if err := tx.PurgeIdempotencyKeys(ctx, now.Add(-IdempotencyWindow)); err != nil {
			return err
		}
		old, err := tx.ReserveIdempotencyKey(ctx, rec)
		if err != nil || old == nil {
			return err
		}
		if old.Answer.Status == 0 && now.Sub(old.CreatedAt) > idempotencyLost {
			// The first request never finished: this one takes its place.
			if err := tx.DeleteIdempotencyKey(ctx, a.TenantID, rec.Actor, key); err != nil {
				return err
			}
			_, err := tx.ReserveIdempotencyKey(ctx, rec)
			return err
		}
		if old.Fingerprint != fingerprint {
			return &Error{Code: EReused, Reason: ReasonIdempotencyKeyReused,
				Message: "this Idempotency-Key was used for another request within the last 24 hours; use a new key for a new request"}
		}
		if old.Answer.Status == 0 {
			return conflict(ReasonIdempotencyKeyInUse, "the first request with this Idempotency-Key is still running; try again in a moment")
		}
		answer = &old.Answer
		return nil
	})
	return answer, err
}

// FinishIdempotent keeps the answer of the first request with key.
func (s *Service) FinishIdempotent(ctx context.Context, a *Actor, key string, answer IdempotentAnswer) error {
	rec := &IdempotencyRecord{TenantID: a.TenantID, Actor: idempotencyActor(a), Key: key, Answer: answer}
	return s.inTx(ctx, func(tx Tx) error { return tx.FinishIdempotencyKey(ctx, rec) })
}

// AbandonIdempotent forgets key, so that a retry runs again.
func (s *Service) AbandonIdempotent(ctx context.Context, a *Actor, key string) error {
	return s.inTx(ctx, func(tx Tx) error { return tx.DeleteIdempotencyKey(ctx, a.TenantID, idempotencyActor(a), key) })
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
