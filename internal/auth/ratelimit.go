package auth

import (
	"context"
	"time"
)

// Counter keeps rate-limit windows. Roster's store implements it with a
// table, so replicas behind a load balancer share the counts.
type Counter interface {
	// HitRateLimit adds one to key's window, starting a new window when the
	// old one is over, and returns the count and the window's start.
	HitRateLimit(ctx context.Context, tenantID int64, key string, window time.Duration, now time.Time) (int, time.Time, error)
	// RateLimit reads key's window without changing it (count 0 when none).
	RateLimit(ctx context.Context, tenantID int64, key string) (int, time.Time, error)
	// ResetRateLimit forgets key (after a success).
	ResetRateLimit(ctx context.Context, tenantID int64, key string) error
}

// Limit allows Max events per fixed Window and key.
type Limit struct {
	Max    int
	Window time.Duration
}

// Blocked reports how long key stays blocked (0: not blocked).
func (l Limit) Blocked(ctx context.Context, c Counter, tenantID int64, key string, now time.Time) (time.Duration, error) {
	if l.Max <= 0 {
		return 0, nil
	}
	n, start, err := c.RateLimit(ctx, tenantID, key)
	if err != nil {
		return 0, err
	}
	return l.retryAfter(n, start, now), nil
}

// Hit counts one event and reports how long key is blocked afterwards.
func (l Limit) Hit(ctx context.Context, c Counter, tenantID int64, key string, now time.Time) (time.Duration, error) {
	if l.Max <= 0 {
		return 0, nil
	}
	n, start, err := c.HitRateLimit(ctx, tenantID, key, l.Window, now)
	if err != nil {
		return 0, err
	}
	return l.retryAfter(n, start, now), nil
}

// Wait is how long a window with n events that started at start blocks at now.
func (l Limit) Wait(n int, start, now time.Time) time.Duration {
	if l.Max <= 0 {
		return 0
	}
	return l.retryAfter(n, start, now)
}

func (l Limit) retryAfter(n int, start, now time.Time) time.Duration {
	end := start.Add(l.Window)
	if n < l.Max || !now.Before(end) {
		return 0
	}
	return end.Sub(now)
}

// Backoff is a progressive delay that slows attempts without ever refusing
// them: none for the first Free events of a fixed Window, then Base, doubled
// for every further event, never more than Max.
type Backoff struct {
	Free      int
	Base, Max time.Duration
	Window    time.Duration
}

// Delay is how long the next attempt waits when the window that started at
// start holds n events at now (0 once the window is over).
func (b Backoff) Delay(n int, start, now time.Time) time.Duration {
	if b.Base <= 0 || n < b.Free || !now.Before(start.Add(b.Window)) {
		return 0
	}
	d := b.Base
	for i := b.Free; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
