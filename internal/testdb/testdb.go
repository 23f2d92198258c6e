// Package testdb gives tests a fresh, migrated Roster database on SQLite and
// on PostgreSQL, so every store and core test runs against both.
//
// PostgreSQL is found through ROSTER_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). Each database gets
// its own schema, dropped afterwards, so parallel runs never collide. When
// PostgreSQL cannot be reached the test fails: a run that silently skipped it
// would claim more than it proved. ROSTER_TEST_SKIP_POSTGRES=1 is the only
// way to skip it, meant for quick local loops.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/roster-dev/roster/internal/store"
)

// DefaultPostgres is the server the test machines run.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the base URL of the test server.
func PostgresURL() string {
	if u := os.Getenv("ROSTER_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultPostgres
}

// Each runs fn as one subtest per database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv("ROSTER_TEST_SKIP_POSTGRES") == "1" {
			t.Skip("ROSTER_TEST_SKIP_POSTGRES=1")
		}
		fn(t, Postgres(t))
	})
}

// SQLite opens a migrated database in a temporary folder.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "", filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Postgres opens a migrated database in a new schema of the test server.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn, drop := NewSchema(t)
	db, err := store.Open(context.Background(), dsn, "")
	if err != nil {
		t.Fatalf("PostgreSQL is required for the store tests (%s): %v", PostgresURL(), err)
	}
	t.Cleanup(func() { db.Close(); drop() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// NewSchema creates an empty schema on the test server and returns a DSN
// whose search_path points at it, and a function that drops it.
func NewSchema(t testing.TB) (dsn string, drop func()) {
	t.Helper()
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Ping(); err != nil {
		admin.Close()
		t.Fatalf("PostgreSQL is required for the store tests (%s): %v", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "roster_test_" + hex.EncodeToString(b)
	// The extensions live in public once per database; every schema uses
	// them. Made here, before parallel migrations would race to make them.
	for _, ext := range []string{"pg_trgm", "btree_gin"} {
		if _, err := admin.Exec(`CREATE EXTENSION IF NOT EXISTS ` + ext + ` WITH SCHEMA public`); err != nil {
			t.Logf("create extension %s: %v", ext, err)
		}
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	qv := u.Query()
	qv.Set("search_path", schema+",public")
	u.RawQuery = qv.Encode()
	return u.String(), func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	}
}
