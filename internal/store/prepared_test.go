package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestKeptStatements: on SQLite the per-request statements are prepared
// once and kept (PostgreSQL's driver keeps its own); kept statements used in
// a transaction run on its connection, so they see its uncommitted writes
// and vanish with its rollback, as the same statements run unprepared do.
func TestKeptStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{})
		u := newUser(t, svc, "kept", "kim")
		signIn := func(tx roster.Tx, token string) {
			t.Helper()
			at := time.Now()
			sess := &roster.Session{TenantID: u.TenantID, UserID: u.ID, TokenHash: []byte(token), CreatedAt: at, LastSeenAt: at,
				ExpiresAt: at.Add(time.Hour), IP: "192.0.2.1"}
			e := &roster.AuditEvent{TenantID: u.TenantID, ActorKind: "user", ActorID: u.ID, ActorName: "kim", Action: "session.create",
				TargetKind: "user", TargetID: u.ID, After: []byte(`{}`), At: at}
			if err := tx.RecordSignIn(ctx, sess, e); err != nil {
				t.Fatal(err)
			}
		}
		found := func(r roster.Reader, token string) bool {
			t.Helper()
			_, err := r.SessionByHash(ctx, []byte(token))
			if err != nil && roster.ErrorCode(err) != roster.ENotFound {
				t.Fatal(err)
			}
			return err == nil
		}
		db.KeptStatements() // waits for what making the user prepared in the background
		// Twice each: the first use in a transaction prepares in the
		// background, the second runs kept.
		for round := range 2 {
			if round == 1 && db.Dialect() == store.SQLite {
				n := db.KeptStatements()
				inTx, err := db.KeptInTransaction(ctx)
				if err != nil || inTx != n {
					t.Fatalf("a transaction runs %d of %d kept statements prepared (%v)", inTx, n, err)
				}
			}
			for _, token := range []string{"committed", "rolled-back"} {
				token += string(rune('0' + round))
				rollback := errors.New("roll back")
				err := db.InTx(ctx, func(tx roster.Tx) error {
					signIn(tx, token)
					if !found(tx, token) {
						t.Errorf("round %d: the transaction does not see its own session %q", round, token)
					}
					if token[0] == 'r' {
						return rollback
					}
					return nil
				})
				if err != nil && !errors.Is(err, rollback) {
					t.Fatal(err)
				}
				if got, want := found(db.Read(), token), token[0] == 'c'; got != want {
					t.Errorf("round %d: session %q found after the transaction: %v, want %v", round, token, got, want)
				}
			}
			got, _, _, err := db.Read().UserForSignIn(ctx, u.TenantID, "KIM", "signin:ip:192.0.2.1", "signin:pair:192.0.2.1|user:", "signin:acct:user:")
			if err != nil || got.ID != u.ID {
				t.Fatalf("round %d: UserForSignIn: %v, %v", round, got, err)
			}
		}
		n := db.KeptStatements()
		if db.Dialect() == store.SQLite {
			// The sign-in's read, its three writes, and the session lookup
			// at least.
			if n < 5 {
				t.Errorf("SQLite keeps %d statements prepared, want at least 5", n)
			}
		} else if n != 0 {
			t.Errorf("PostgreSQL: %d statements kept by the store, want none (pgx keeps its own)", n)
		}
	})
}
