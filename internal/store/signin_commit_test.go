package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// TestSignInCommitsAsynchronously: on PostgreSQL the common sign-in's
// statement turns synchronous commit off for its own transaction, and the
// sign-in written inside a transaction of the usual kind (with a previous
// session ended, say) leaves it as the server has it.
func TestSignInCommitsAsynchronously(t *testing.T) {
	if os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
		t.Skip("ROSTER_TEST_SKIP_POSTGRES=1")
	}
	ctx := context.Background()
	db := testdb.Postgres(t)
	svc := roster.NewService(db, roster.Options{})
	u := newUser(t, svc, "async", "ann")
	tenantID := u.TenantID
	var server string
	if err := db.SQL().QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&server); err != nil {
		t.Fatal(err)
	}
	for _, async := range []bool{true, false} {
		at := time.Now()
		sess := &roster.Session{TenantID: tenantID, UserID: u.ID, TokenHash: []byte("token"), CreatedAt: at, LastSeenAt: at,
			ExpiresAt: at.Add(time.Hour), IP: "192.0.2.1"}
		e := &roster.AuditEvent{TenantID: tenantID, ActorKind: "user", ActorID: u.ID, ActorName: "ann", Action: "session.create",
			TargetKind: "user", TargetID: u.ID, After: []byte(`{}`), At: at}
		got, err := db.SignInCommitSetting(ctx, sess, e, async)
		if err != nil {
			t.Fatal(err)
		}
		want := server
		if async {
			want = "off"
		}
		if got != want || (!async && got == "off") {
			t.Errorf("async=%v: synchronous_commit %q after the sign-in's statement, want %q", async, got, want)
		}
	}
}
