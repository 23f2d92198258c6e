package roster_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// throttled is a fixture whose sign-in delays pass on its clock: every wait
// is recorded and moves the clock on by its length.
type throttled struct {
	*fixture
	t     *testing.T
	mu    sync.Mutex
	waits []time.Duration
	// block, when set, is called by a wait instead (it may block).
	block func(ctx context.Context) error
}

func newThrottled(t *testing.T, db *store.DB, slug string) *throttled {
	th := &throttled{t: t}
	th.fixture = lifecycleFixture(t, db, slug, func(o *roster.LifecycleOptions) {
		o.Wait = func(ctx context.Context, d time.Duration) error {
			th.mu.Lock()
			block := th.block
			th.waits = append(th.waits, d)
			if block == nil {
				*th.clock = th.clock.Add(d)
			}
			th.mu.Unlock()
			if block != nil {
				return block(ctx)
			}
			return nil
		}
	})
	return th
}

// takeWaits returns the waits recorded since the last call.
func (th *throttled) takeWaits() []time.Duration {
	th.mu.Lock()
	defer th.mu.Unlock()
	w := th.waits
	th.waits = nil
	return w
}

// signInFrom signs in from ip and returns how long it waited and the error.
func (th *throttled) signInFrom(ip, login, password string) (time.Duration, error) {
	th.takeWaits()
	_, err := th.svc.SignIn(th.ctx, roster.SignInInput{Tenant: th.tenant.Slug, Login: login, Password: password, IP: ip})
	var waited time.Duration
	for _, w := range th.takeWaits() {
		waited += w
	}
	return waited, err
}

// withPassword creates a user with roles and gives them goodPassword by code.
func (th *throttled) withPassword(username string, roles ...string) *roster.User {
	t := th.t
	t.Helper()
	in := th.userInput(username)
	if len(roles) > 0 {
		in.Roles = roster.Some(roles)
	}
	u, err := th.svc.CreateUser(th.ctx, th.admin, in)
	must(t, err)
	must(t, th.svc.RequestPasswordCode(th.ctx, roster.CodeRequest{Tenant: th.tenant.Slug, Login: username, IP: "10.9.9.9"}))
	msgs := th.delivered(t)
	must(t, th.svc.ResetPassword(th.ctx, roster.ResetInput{Tenant: th.tenant.Slug, Login: username, Code: codeOf(t, msgs[len(msgs)-1]),
		Password: goodPassword, IP: "10.9.9.9"}))
	return u
}

// wantLimited checks err is a 429 with a Retry-After within (0, most].
func wantLimited(t *testing.T, err error, most time.Duration) {
	t.Helper()
	wantCode(t, err, roster.ELimited)
	if s := int(roster.RetryAfter(err) / time.Second); s <= 0 || time.Duration(s)*time.Second > most+time.Second {
		t.Fatalf("Retry-After = %d s for %q, want 1..%v", s, err, most)
	}
}

// defaultDelays are the waits of attempts 1..12 on an account whose every
// earlier attempt failed (the defaults: 5 free, then 1 s doubling to 30 s).
var defaultDelays = []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
	16 * time.Second, 30 * time.Second, 30 * time.Second}

func TestSignInThrottle(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, th *throttled)
	}{
		{"attacker from one address cannot keep the admin out", func(t *testing.T, th *throttled) {
			th.withPassword("boss", "admin")
			for i := range 50 {
				_, err := th.signInFrom("192.0.2.66", "boss", fmt.Sprintf("guess-%d", i))
				if i < 5 {
					wantCode(t, err, roster.EUnauthorized)
				} else {
					wantLimited(t, err, 15*time.Minute)
				}
			}
			// The pair is stopped, the right password included ...
			_, err := th.signInFrom("192.0.2.66", "boss", goodPassword)
			wantLimited(t, err, 15*time.Minute)
			// ... the owner from elsewhere gets in after the account's delay.
			waited, err := th.signInFrom("203.0.113.5", "boss", goodPassword)
			must(t, err)
			if waited != time.Second {
				t.Fatalf("the owner waited %v after 5 failures, want 1s", waited)
			}
		}},
		{"attacker from many addresses only delays the owner, at most 30 s", func(t *testing.T, th *throttled) {
			th.withPassword("boss", "admin")
			for a := range 20 {
				for i := range 6 {
					_, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", a), "boss", "wrong")
					if i < 5 {
						wantCode(t, err, roster.EUnauthorized)
					} else {
						wantLimited(t, err, 15*time.Minute)
					}
				}
			}
			for range 3 {
				waited, err := th.signInFrom("203.0.113.5", "boss", goodPassword)
				must(t, err)
				if waited != 30*time.Second {
					t.Fatalf("the owner waited %v after 100 failures, want the cap of 30s", waited)
				}
			}
		}},
		{"delays grow and cap", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			var got []time.Duration
			for i := range defaultDelays {
				// A new address every time: only the account's delay applies.
				waited, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", i), "anna", "wrong")
				wantCode(t, err, roster.EUnauthorized)
				got = append(got, waited)
			}
			if !slices.Equal(got, defaultDelays) {
				t.Fatalf("delays %v, want %v", got, defaultDelays)
			}
		}},
		{"unknown login behaves exactly like a known one", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			outcome := func(login string) []string {
				var out []string
				for i := range 14 {
					ip := "192.0.2.10"
					if i%2 == 1 {
						ip = fmt.Sprintf("198.51.100.%d", i) // fresh addresses drive the delay
					}
					waited, err := th.signInFrom(ip, login, "wrong")
					out = append(out, fmt.Sprintf("%s|%s|%d|%v", roster.ErrorCode(err), err, int(roster.RetryAfter(err)/time.Second), waited))
				}
				return out
			}
			start := *th.clock
			known := outcome("anna")
			*th.clock = start.Add(time.Hour) // both start from expired windows
			unknown := outcome("nobody-at-all")
			if !slices.Equal(known, unknown) {
				t.Fatalf("known and unknown logins differ:\n%s\n%s", strings.Join(known, "\n"), strings.Join(unknown, "\n"))
			}
			if !slices.ContainsFunc(known, func(s string) bool { return strings.HasPrefix(s, roster.ELimited) }) {
				t.Fatalf("the sequence never reached a limit: %v", known)
			}
		}},
		{"per-address cap across accounts", func(t *testing.T, th *throttled) {
			th.withPassword("otto")
			for i := range 50 {
				_, err := th.signInFrom("192.0.2.99", fmt.Sprintf("user%02d", i), "wrong")
				wantCode(t, err, roster.EUnauthorized)
			}
			_, err := th.signInFrom("192.0.2.99", "otto", goodPassword)
			wantLimited(t, err, 15*time.Minute)
			_, err = th.signInFrom("192.0.2.100", "otto", goodPassword)
			must(t, err)
		}},
		{"windows expire", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			for i := range 10 {
				_, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", i%2), "anna", "wrong")
				wantCode(t, err, roster.EUnauthorized)
			}
			_, err := th.signInFrom("198.51.100.0", "anna", goodPassword)
			wantLimited(t, err, 15*time.Minute)
			*th.clock = th.clock.Add(15 * time.Minute)
			waited, err := th.signInFrom("198.51.100.0", "anna", goodPassword)
			must(t, err)
			if waited != 0 {
				t.Fatalf("waited %v after the window ended", waited)
			}
		}},
		{"a success forgets only its own pair", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			th.withPassword("mallory")
			// mallory's own successes do not clear her address's failures.
			ip := "192.0.2.13"
			failures := 0
			for round := 0; failures < 50; round++ {
				for i := 0; i < 4 && failures < 50; i++ {
					_, err := th.signInFrom(ip, fmt.Sprintf("victim%d-%d", round, i), "wrong")
					wantCode(t, err, roster.EUnauthorized)
					failures++
				}
				_, err := th.signInFrom(ip, "mallory", goodPassword)
				if failures < 50 {
					must(t, err)
				} else {
					wantLimited(t, err, 15*time.Minute)
				}
			}
			// anna's typos from her address are forgotten by her success:
			// she may mistype four more times without being stopped.
			home := "203.0.113.20"
			for range 4 {
				_, err := th.signInFrom(home, "anna", "typo")
				wantCode(t, err, roster.EUnauthorized)
			}
			_, err := th.signInFrom(home, "anna", goodPassword)
			must(t, err)
			for range 4 {
				_, err := th.signInFrom(home, "anna", "typo")
				wantCode(t, err, roster.EUnauthorized)
			}
			waited, err := th.signInFrom(home, "anna", goodPassword)
			must(t, err)
			// ... but not the account's: eight failures keep their delay.
			if waited != 8*time.Second {
				t.Fatalf("waited %v with eight failures in the window, want 8s", waited)
			}
		}},
		{"a source waits one delayed attempt per account at a time", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			for i := range 5 {
				_, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", i), "anna", "wrong")
				wantCode(t, err, roster.EUnauthorized)
			}
			entered, release := make(chan struct{}), make(chan struct{})
			th.mu.Lock()
			th.block = func(ctx context.Context) error {
				entered <- struct{}{}
				<-release
				return nil
			}
			th.mu.Unlock()
			done := make(chan error)
			go func() {
				_, err := th.svc.SignIn(th.ctx, roster.SignInInput{Tenant: th.tenant.Slug, Login: "anna", Password: "wrong", IP: "192.0.2.7"})
				done <- err
			}()
			<-entered
			// The same pair again while the first waits: refused at once.
			_, err := th.svc.SignIn(th.ctx, roster.SignInInput{Tenant: th.tenant.Slug, Login: "anna", Password: goodPassword, IP: "192.0.2.7"})
			wantLimited(t, err, time.Second)
			// Another address is not held back by it.
			go func() {
				_, err := th.svc.SignIn(th.ctx, roster.SignInInput{Tenant: th.tenant.Slug, Login: "anna", Password: goodPassword, IP: "203.0.113.1"})
				done <- err
			}()
			<-entered
			close(release)
			errs := []error{<-done, <-done}
			if roster.ErrorCode(errs[0])+roster.ErrorCode(errs[1]) != roster.EUnauthorized || (errs[0] != nil && errs[1] != nil) {
				t.Fatalf("want one wrong password and one success, got %v", errs)
			}
		}},
		{"a sign-in given up while waiting counts nothing", func(t *testing.T, th *throttled) {
			th.withPassword("anna")
			for i := range 5 {
				_, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", i), "anna", "wrong")
				wantCode(t, err, roster.EUnauthorized)
			}
			th.mu.Lock()
			th.block = func(ctx context.Context) error { return context.Canceled }
			th.mu.Unlock()
			_, err := th.signInFrom("192.0.2.7", "anna", "wrong")
			wantLimited(t, err, time.Second) // not an internal error: nothing to log
			th.mu.Lock()
			th.block = nil
			th.mu.Unlock()
			// Still five failures: the next waits 1 s, not 2 s.
			waited, err := th.signInFrom("192.0.2.8", "anna", goodPassword)
			must(t, err)
			if waited != time.Second {
				t.Fatalf("waited %v, want 1s", waited)
			}
		}},
		{"changing the password is not blocked by an attacker", func(t *testing.T, th *throttled) {
			u := th.withPassword("anna")
			for a := range 3 {
				for range 5 {
					_, err := th.signInFrom(fmt.Sprintf("198.51.100.%d", a), "anna", "wrong")
					wantCode(t, err, roster.EUnauthorized)
				}
			}
			a := &roster.Actor{TenantID: u.TenantID, Kind: roster.ActorUser, ID: u.ID, Name: "anna", IP: "203.0.113.4"}
			must(t, th.svc.ChangePassword(th.ctx, a, "", goodPassword, "a-brand-new-passphrase-9"))
			// Wrong current passwords stop that address (it guesses a password).
			for range 5 {
				wantField(t, th.svc.ChangePassword(th.ctx, a, "", "wrong", "another-new-passphrase-1"), "current_password")
			}
			wantLimited(t, th.svc.ChangePassword(th.ctx, a, "", "a-brand-new-passphrase-9", "another-new-passphrase-1"), 15*time.Minute)
		}},
	}
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) { c.run(t, newThrottled(t, db, fmt.Sprintf("thr%d", i))) })
		}
	})
}

func TestCodeThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		th := newThrottled(t, db, "codes")
		ctx := th.ctx
		th.withPassword("boss", "admin")
		*th.clock = th.clock.Add(2 * time.Hour)
		reset := func(ip, login, code string) error {
			return th.svc.ResetPassword(ctx, roster.ResetInput{Tenant: "codes", Login: login, Code: code, Password: "a-new-long-passphrase-3", IP: ip})
		}
		request := func(ip, login string) error {
			return th.svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "codes", Login: login, IP: ip})
		}
		// An attacker's wrong codes stop the attacker: 10 per address and
		// account, and each code dies after 5 of them.
		for i := range 12 {
			if i%5 == 0 {
				must(t, request("192.0.2.66", "boss")) // a live code to guess at
			}
			err := reset("192.0.2.66", "boss", fmt.Sprintf("%08d", i))
			if i < 10 {
				wantField(t, err, "code")
			} else {
				wantLimited(t, err, time.Hour)
			}
		}
		th.delivered(t)
		// The owner from elsewhere asks for a code and uses it.
		must(t, request("203.0.113.5", "boss"))
		msgs := th.delivered(t)
		if len(msgs) != 1 {
			t.Fatalf("%d codes for the owner, want 1", len(msgs))
		}
		must(t, reset("203.0.113.5", "boss", codeOf(t, msgs[0])))
		// An unknown login is stopped exactly alike.
		for i := range 11 {
			err := reset("192.0.2.67", "ghost", fmt.Sprintf("%08d", i))
			if i < 10 {
				wantField(t, err, "code")
			} else {
				wantLimited(t, err, time.Hour)
			}
		}
		// Per address across accounts: 50 wrong codes, then 429.
		for i := range 50 {
			wantField(t, reset("192.0.2.68", fmt.Sprintf("someone%02d", i), "12345678"), "code")
		}
		wantLimited(t, reset("192.0.2.68", "boss", "12345678"), time.Hour)
		// Requests per account stay silent past the limit; per address 429.
		*th.clock = th.clock.Add(2 * time.Hour)
		for range 7 {
			must(t, request(fmt.Sprintf("198.51.100.%d", 7), "boss"))
		}
		if n := len(th.delivered(t)); n != 5 {
			t.Fatalf("%d codes sent for 7 requests, want 5", n)
		}
		var last error
		for i := 0; i < 40 && last == nil; i++ {
			last = request("198.51.100.8", fmt.Sprintf("someone%02d", i))
		}
		wantLimited(t, last, time.Hour)
	})
}
