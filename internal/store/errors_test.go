package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if code := roster.ErrorCode(err); code != roster.EUnavailable {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, code, roster.EUnavailable)
	}
	if msg := roster.ErrorMessage(err); strings.Contains(msg, "postgres") || strings.Contains(msg, "127.0.0.1") {
		t.Fatalf("%s: the caller-safe message %q names the database", what, msg)
	}
}

// TestPostgresOutage: with the server unreachable, reads, writes and the
// start of a transaction are roster.EUnavailable; once it is back the same
// pool serves again, no reopening.
func TestPostgresOutage(t *testing.T) {
	if os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
		t.Skip("ROSTER_TEST_SKIP_POSTGRES=1")
	}
	ctx := context.Background()
	dsn, drop := testdb.NewSchema(t)
	t.Cleanup(drop)
	proxy, dsn := testdb.NewProxy(t, dsn)
	db, err := store.Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(slug string) error {
		return db.InTx(ctx, func(tx roster.Tx) error {
			return tx.CreateTenant(ctx, &roster.Tenant{Slug: slug, Name: slug, CreatedAt: time.Now()})
		})
	}
	if err := create("before"); err != nil {
		t.Fatal(err)
	}

	proxy.Down()
	_, err = db.Read().TenantBySlug(ctx, "before") // a single-row read: the error shows in Scan
	wantUnavailable(t, "read", err)
	wantUnavailable(t, "write", create("during"))
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with the database down")
	}

	proxy.Up()
	if _, err := db.Read().TenantBySlug(ctx, "before"); err != nil {
		t.Fatalf("read after the database came back: %v", err)
	}
	if err := create("after"); err != nil {
		t.Fatalf("write after the database came back: %v", err)
	}
	if _, err := db.Read().TenantBySlug(ctx, "during"); roster.ErrorCode(err) != roster.ENotFound {
		t.Fatalf("the write made during the outage: %v; want it absent", err)
	}
}

// TestSQLiteFileGone: while the database file is away, new connections
// cannot open it (the store never creates it again behind Roster's back):
// roster.EUnavailable; once it is back, the same pool serves again.
func TestSQLiteFileGone(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.SQL().SetMaxIdleConns(0) // every call opens a new connection
	path := filepath.Join(dir, "roster.db")
	if err := os.Rename(path, path+".away"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Read().TenantBySlug(ctx, "acme")
	wantUnavailable(t, "read without the file", err)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the store made a new database file: %v", err)
	}
	if err := os.Rename(path+".away", path); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Read().TenantBySlug(ctx, "acme"); roster.ErrorCode(err) != roster.ENotFound {
		t.Fatalf("read with the file back: %v; want not found", err)
	}
}

// TestSQLiteBusyIsUnavailable: the lock held past the busy timeout is an
// outage (503), not an internal error; constraint errors stay what they are.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Another process's writer, impatient: no busy timeout.
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "roster.db")+"?_txlock=immediate&_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	err = db.InTx(ctx, func(tx roster.Tx) error {
		if err := tx.CreateTenant(ctx, &roster.Tenant{Slug: "holder", Name: "Holder", CreatedAt: time.Now()}); err != nil {
			return err
		}
		_, err := other.BeginTx(ctx, nil)
		if err == nil {
			t.Fatal("a second writer began while the store held the write lock")
		}
		wantUnavailable(t, "busy", store.Classify(err))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dup := db.InTx(ctx, func(tx roster.Tx) error {
		return tx.CreateTenant(ctx, &roster.Tenant{Slug: "holder", Name: "Again", CreatedAt: time.Now()})
	})
	if code := roster.ErrorCode(dup); code != roster.EConflict {
		t.Fatalf("duplicate slug: %v (code %q), want a conflict", dup, code)
	}
}
