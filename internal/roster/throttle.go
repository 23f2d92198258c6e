package roster

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/auth"
)

// Throttling (docs/rules.md, "Throttling"): failures stop the source that
// fails, counted per client address and account together and per client
// address; the account itself is only slowed, by a delay every source
// waits, so knowing a username is not enough to keep its owner out.

// userAccountPrefix starts the account key of a known user.
const userAccountPrefix = "user:"

// accountKey names an account for rate limits: the user when the login is
// known, else the login as typed, so known and unknown logins are throttled
// alike and the throttle reveals nothing.
func accountKey(userID int64, login string) string {
	if userID != 0 {
		return userAccountPrefix + itoa64(userID)
	}
	return "login:" + strings.ToLower(login)
}

// pairKey names the window of one client address failing on one account.
// The address comes first and cannot hold "|" (it is cleaned here), so two
// different pairs never share a key whatever a login contains.
func pairKey(what, ip, account string) string {
	return limitKey(what, "pair", strings.ReplaceAll(ip, "|", "_")+"|"+account)
}

// keyedLimit is a rate limit applied to one key.
type keyedLimit struct {
	limit auth.Limit
	key   string
}

// blockedAny reports how long the longest of limits still blocks (0: none),
// reading every key in one query, and returns the windows it read. extra
// keys are read along (for a delay).
func blockedAny(ctx context.Context, r Reader, tenantID int64, now time.Time, limits []keyedLimit, extra ...string) (time.Duration, map[string]RateWindow, error) {
	keys := make([]string, 0, len(limits)+len(extra))
	for _, l := range limits {
		if l.limit.Max > 0 {
			keys = append(keys, l.key)
		}
	}
	windows, err := r.RateLimitWindows(ctx, tenantID, append(keys, extra...))
	if err != nil {
		return 0, nil, err
	}
	return longestWait(limits, windows, now), windows, nil
}

// longestWait is how long the longest of limits blocks, given their windows.
func longestWait(limits []keyedLimit, windows map[string]RateWindow, now time.Time) time.Duration {
	var longest time.Duration
	for _, l := range limits {
		if w, ok := windows[l.key]; ok && l.limit.Max > 0 {
			longest = max(longest, l.limit.Wait(w.Count, w.Start, now))
		}
	}
	return longest
}

// hitAll counts one event on every limit.
func hitAll(ctx context.Context, tx Tx, tenantID int64, now time.Time, limits []keyedLimit) error {
	for _, l := range limits {
		if _, err := l.limit.Hit(ctx, tx, tenantID, l.key, now); err != nil {
			return err
		}
	}
	return nil
}

// accountDelay is how long an attempt on the account of window acct waits.
func accountDelay(b auth.Backoff, windows map[string]RateWindow, acct string, now time.Time) time.Duration {
	w, ok := windows[acct]
	if !ok {
		return 0
	}
	return b.Delay(w.Count, w.Start, now)
}

// waitingRoom counts the delayed attempts waiting on this replica, so one
// source cannot pile up waiting requests: one per client address and
// account, a few per address. It never refuses a source for what other
// sources do, which is what keeps it from becoming a lock.
type waitingRoom struct {
	mu      sync.Mutex
	waiting map[string]int
}

// enter takes a place for the pair and its address; false when either is
// full. leave gives it back.
func (w *waitingRoom) enter(pair, ip string, perIP int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = map[string]int{}
	}
	if w.waiting[pair] >= 1 || w.waiting[ip] >= perIP {
		return false
	}
	w.waiting[pair]++
	w.waiting[ip]++
	return true
}

func (w *waitingRoom) leave(pair, ip string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range []string{pair, ip} {
		if w.waiting[k]--; w.waiting[k] <= 0 {
			delete(w.waiting, k)
		}
	}
}

// waitDelay waits out an account's delay outside any transaction, lock or
// hash slot. A second delayed attempt of the same pair, or too many of one
// address, is refused at once with the delay as Retry-After.
func (s *Service) waitDelay(ctx context.Context, lc *lifecycle, delay time.Duration, pair, ip string) error {
	if delay <= 0 {
		return nil
	}
	if !lc.waiting.enter(pair, ip, lc.opts.SignInDelayedPerIP) {
		return rateLimited("sign-ins waiting at once from your address", delay)
	}
	defer lc.waiting.leave(pair, ip)
	if err := lc.opts.Wait(ctx, delay); err != nil {
		// The client gave up (or the server is stopping): nothing was
		// checked or counted. Not an internal error, so nothing is logged
		// for a client that disconnects on purpose.
		return rateLimited("sign-ins waiting", delay)
	}
	return nil
}
