// Package delivery delivers the outbox: a worker claims due messages (so two
// replicas never send the same one), hands them to the sender of their
// channel (SMTP for email, an SMS provider) and records the outcome, retrying
// temporary failures with exponential backoff. Messages live in the database
// until they are final, so a stopped process or a mail server that is down
// only delays them.
package delivery

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Outbox is the core's side of delivery (implemented by *roster.Service).
type Outbox interface {
	ClaimOutbox(ctx context.Context, claim string, limit int, lease time.Duration) ([]roster.OutboxMessage, error)
	FinishOutbox(ctx context.Context, m *roster.OutboxMessage, claim string, o roster.DeliveryOutcome) error
	PruneLifecycle(ctx context.Context) error
}

// Sender delivers one message of its channel. An error is temporary (the
// message is retried) unless it is wrapped with Permanent.
type Sender interface {
	Send(ctx context.Context, m *roster.OutboxMessage) error
}

// PermanentError is a failure that retrying cannot fix (a rejected address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Options configure a Worker. Zero fields take the defaults.
type Options struct {
	// Email and SMS send their channel. A LogSender (or nil) writes the
	// message to the log and marks it "logged": without --smtp-url,
	// messages stay visible in the outbox and the log.
	Email, SMS Sender
	Log        *slog.Logger
	// Poll is how often due messages are looked for when nobody kicks the
	// worker (default 2s).
	Poll time.Duration
	// Batch is how many messages one claim takes (default 20).
	Batch int
	// Lease is how long a claim holds a message: the messages of a worker
	// that dies mid-delivery are delivered by another (or the restarted)
	// worker after this (default 2 minutes). No attempt starts unless it can
	// end (SendTimeout) inside the lease, so a message is never sent by two
	// workers at once.
	Lease time.Duration
	// BackoffBase is the first retry delay, doubled per failure up to
	// BackoffMax (defaults 5s and 1h).
	BackoffBase, BackoffMax time.Duration
	// MaxAttempts marks a message failed after this many temporary
	// failures (default 30: with the defaults, more than a day of retries).
	MaxAttempts int
	// SendTimeout bounds one delivery attempt (default 60s).
	SendTimeout time.Duration
	// PruneEvery is how often expired sessions, codes and rate-limit
	// windows are deleted (default 1h).
	PruneEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Email == nil {
		o.Email = &LogSender{Log: o.Log}
	}
	if o.SMS == nil {
		o.SMS = &LogSender{Log: o.Log}
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffBase = o.BackoffMax
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 30
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 60 * time.Second
	}
	if o.SendTimeout > o.Lease/2 {
		o.SendTimeout = o.Lease / 2 // an attempt always ends well inside its lease
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Worker delivers the outbox.
type Worker struct {
	outbox Outbox
	o      Options
	kick   chan struct{}

	mu      sync.Mutex
	running bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// New returns a worker over outbox.
func New(outbox Outbox, o Options) *Worker {
	return &Worker{outbox: outbox, o: o.withDefaults(), kick: make(chan struct{}, 1)}
}

// Kick wakes the worker: a message was just queued. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Start runs the worker in the background until Stop.
func (w *Worker) Start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.running, w.cancel, w.done = true, cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.Run(ctx)
	}()
}

// Stop ends the worker: the message being sent is finished (within
// SendTimeout), claimed but unsent messages are handed back at once, and
// Stop returns when the worker has let go of the database.
func (w *Worker) Stop() {
	w.mu.Lock()
	if !w.running {
		w.mu.Unlock()
		return
	}
	w.running = false
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	cancel()
	<-done
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	poll := time.NewTicker(w.o.Poll)
	defer poll.Stop()
	nextPrune := w.o.Now()
	for {
		if now := w.o.Now(); !now.Before(nextPrune) {
			if err := w.outbox.PruneLifecycle(ctx); err != nil && ctx.Err() == nil {
				w.o.Log.Error("outbox: pruning expired sessions and codes", "err", err)
			}
			nextPrune = now.Add(w.o.PruneEvery)
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.o.Log.Error("outbox: delivering", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && n == w.o.Batch {
			continue // a full batch: more may be due right away
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-w.kick:
		}
	}
}

// RunOnce claims one batch of due messages and delivers it. It returns how
// many messages it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	claim := newClaim()
	claimed := time.Now()
	msgs, err := w.outbox.ClaimOutbox(ctx, claim, w.o.Batch, w.o.Lease)
	if err != nil {
		return 0, err
	}
	// Recording outcomes must survive the stop signal: a sent message that
	// stays "pending" would be sent twice.
	record := context.WithoutCancel(ctx)
	for i := range msgs {
		m := &msgs[i]
		if ctx.Err() != nil || time.Since(claimed)+w.o.SendTimeout > w.o.Lease {
			// Stopping, or the lease would run out during the attempt: hand
			// the rest back, unchanged, for the next claim.
			w.finish(record, m, claim, roster.DeliveryOutcome{Status: roster.OutboxPending, Retry: m.NextAttemptAt})
			continue
		}
		w.finish(record, m, claim, w.deliver(record, m))
	}
	return len(msgs), nil
}

func (w *Worker) finish(ctx context.Context, m *roster.OutboxMessage, claim string, o roster.DeliveryOutcome) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.outbox.FinishOutbox(ctx, m, claim, o); err != nil {
		// The lease runs out and the message is tried again: at worst a
		// duplicate, never a loss.
		w.o.Log.Error("outbox: recording a delivery", "id", m.ID, "status", o.Status, "err", err)
	}
}

// deliver makes one attempt and decides what follows.
func (w *Worker) deliver(ctx context.Context, m *roster.OutboxMessage) roster.DeliveryOutcome {
	sender := w.o.Email
	if m.Channel == roster.ChannelSMS {
		sender = w.o.SMS
	}
	ctx, cancel := context.WithTimeout(ctx, w.o.SendTimeout)
	defer cancel()
	err := sender.Send(ctx, m)
	log := w.o.Log.With("id", m.ID, "tenant", m.TenantID, "channel", m.Channel, "kind", m.Kind, "attempt", m.Attempts+1)
	switch {
	case err == nil && isLogSender(sender):
		return roster.DeliveryOutcome{Status: roster.OutboxLogged}
	case err == nil:
		log.Info("outbox: delivered")
		return roster.DeliveryOutcome{Status: roster.OutboxSent}
	case IsPermanent(err):
		log.Warn("outbox: delivery failed for good", "err", err)
		return roster.DeliveryOutcome{Status: roster.OutboxFailed, Error: err.Error()}
	case m.Attempts+1 >= w.o.MaxAttempts:
		log.Warn("outbox: delivery failed; no attempts left", "err", err)
		return roster.DeliveryOutcome{Status: roster.OutboxFailed, Error: fmt.Sprintf("gave up after %d attempts: %v", m.Attempts+1, err)}
	}
	retry := w.o.Now().Add(w.backoff(m.Attempts + 1))
	log.Warn("outbox: delivery failed; will retry", "err", err, "retry_at", retry)
	return roster.DeliveryOutcome{Status: roster.OutboxPending, Retry: retry, Error: err.Error()}
}

// backoff is the delay after the n-th failure: base·2^(n-1), capped, with up
// to 10% jitter so replicas do not retry in lockstep.
func (w *Worker) backoff(n int) time.Duration {
	d := w.o.BackoffBase
	for i := 1; i < n && d < w.o.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.o.BackoffMax)
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

func newClaim() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
