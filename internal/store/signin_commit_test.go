package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/roster-dev/roster/internal/testdb"
)

// TestSignInCommitsAsynchronously: on PostgreSQL the common sign-in's
// records commit without waiting for the WAL flush, and nothing else does
// (sign-outs and revocations must survive a crash of the server).
func TestSignInCommitsAsynchronously(t *testing.T) {
	if os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
		t.Skip("ROSTER_TEST_SKIP_POSTGRES=1")
	}
	db := testdb.Postgres(t)
	signIns, others, err := db.SignInCommit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if signIns != "off" || others != "on" {
		t.Errorf("synchronous_commit: %q for sign-ins, %q for the rest; want off and on", signIns, others)
	}
}
