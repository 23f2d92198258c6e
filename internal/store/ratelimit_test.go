package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestUserForSignInWindows: the sign-in's one read returns the address's,
// the pair's and the account's windows of the user it finds, and no other
// user's or address's.
func TestUserForSignInWindows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		a, top := newTenant(t, svc, "windows")
		var ids []int64
		for _, name := range []string{"kim", "lee"} {
			u, err := svc.CreateUser(ctx, a, roster.UserInput{Username: roster.Some(name), Email: roster.Some(name + "@example.com"),
				Language: roster.Some("en"), GroupID: roster.Some(top)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		kim, lee := strconv.FormatInt(ids[0], 10), strconv.FormatInt(ids[1], 10)
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		hits := map[string]int{
			"signin:ip:192.0.2.1": 3, "signin:pair:192.0.2.1|user:" + kim: 2, "signin:acct:user:" + kim: 7,
			"signin:pair:192.0.2.1|user:" + lee: 4, "signin:acct:user:" + lee: 5, "signin:ip:192.0.2.2": 9,
		}
		err := db.InTx(ctx, func(tx roster.Tx) error {
			for key, n := range hits {
				for range n {
					if _, _, err := tx.HitRateLimit(ctx, a.TenantID, key, 15*time.Minute, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		u, _, windows, err := db.Read().UserForSignIn(ctx, a.TenantID, "KIM", "signin:ip:192.0.2.1", "signin:pair:192.0.2.1|user:", "signin:acct:user:")
		if err != nil || u.ID != ids[0] {
			t.Fatalf("UserForSignIn: %v, %v", u, err)
		}
		want := map[string]int{"signin:ip:192.0.2.1": 3, "signin:pair:192.0.2.1|user:" + kim: 2, "signin:acct:user:" + kim: 7}
		if len(windows) != len(want) {
			t.Fatalf("windows %v, want %v", windows, want)
		}
		for key, n := range want {
			if w := windows[key]; w.Count != n || !w.Start.Equal(now) {
				t.Errorf("%s: %+v, want %d from %v", key, w, n, now)
			}
		}
		// Absent windows are absent.
		_, _, windows, err = db.Read().UserForSignIn(ctx, a.TenantID, "kim", "signin:ip:198.51.100.1", "signin:pair:198.51.100.1|user:", "signin:nothing:")
		if err != nil || len(windows) != 0 {
			t.Fatalf("windows %v, %v; want none", windows, err)
		}
	})
}
