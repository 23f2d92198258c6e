package store_test

import (
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// rebuiltTables are the tables 0008 gives AUTOINCREMENT.
var rebuiltTables = []string{"tenants", "org_groups", "roles", "users", "api_tokens", "audit_events", "invitations", "sessions",
	"one_time_codes", "outbox_messages", "agent_ids", "interactions", "impersonations", "properties", "skills", "profiles",
	"coaching_plans", "coaching_notes"}

// openSQLiteBefore opens a SQLite database migrated up to the migration
// whose name contains name.
func openSQLiteBefore(t *testing.T, name string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "", filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateBefore(ctx, name); err != nil {
		t.Fatal(err)
	}
	return db
}

// openIdsFixture opens a copy of testdata/ids_0007.db: a SQLite database at
// migration 0007 filled through the core as it was then (commit 304aef8:
// three of each kind of row with the highest deleted again, and roles,
// group access, property values, profiles, coaching notes; the outbox and
// the audit log filled by themselves — fillDetails of that commit's
// internal/store/ids_migration_test.go). Later migrations change what the
// core writes, so the fixture is frozen rather than made anew. seen lists
// the ids each kind handed out before the upgrade.
func openIdsFixture(t *testing.T) (db *store.DB, seen map[string]map[int64]bool) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/ids_0007.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := os.ReadFile("testdata/ids_0007.json")
	if err != nil {
		t.Fatal(err)
	}
	var ids map[string][]int64
	if err := json.Unmarshal(b, &ids); err != nil {
		t.Fatal(err)
	}
	seen = map[string]map[int64]bool{}
	for kind, list := range ids {
		seen[kind] = map[int64]bool{}
		for _, id := range list {
			seen[kind][id] = true
		}
	}
	return db, seen
}

// TestIdsMigration upgrades a SQLite database with rows in every table:
// every row keeps its id, the schema is the old one with AUTOINCREMENT,
// the triggers still work, and no id, not even one deleted before the
// upgrade, is given out again.
func TestIdsMigration(t *testing.T) {
	ctx := context.Background()
	db, seen := openIdsFixture(t)
	if err := db.MigrateBefore(ctx, "ids_never_reused"); err != nil {
		t.Fatal(err)
	}
	before := schema(t, db.SQL())
	rows := tableRows(t, db.SQL())
	// On one connection, so that the pragma read below is on the
	// connection the migration used.
	db.SQL().SetMaxOpenConns(1)
	if err := db.MigrateBefore(ctx, "grants_and_tokens"); err != nil { // 0008 alone
		t.Fatal(err)
	}
	var fk int
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys after the migration: %d, %v", fk, err)
	}
	db.SQL().SetMaxOpenConns(8)
	after := schema(t, db.SQL())

	// The schema is the old one, with AUTOINCREMENT on each rebuilt id.
	for key, sqlText := range after {
		want, ok := before[key]
		if !ok {
			t.Errorf("new in the schema: %s", key)
			continue
		}
		got := sqlText
		if slices.Contains(rebuiltTables, strings.TrimPrefix(key, "table ")) {
			got = normalized(sqlText)
		}
		if got != want {
			t.Errorf("%s changed:\n%s\nwas\n%s", key, sqlText, want)
		}
	}
	for key := range before {
		if _, ok := after[key]; !ok {
			t.Errorf("gone from the schema: %s", key)
		}
	}
	for _, table := range rebuiltTables {
		if !regexp.MustCompile(`\bid\s+INTEGER PRIMARY KEY AUTOINCREMENT,`).MatchString(after["table "+table]) {
			t.Errorf("%s has no AUTOINCREMENT:\n%s", table, after["table "+table])
		}
	}
	// Every row of every table, ids included, as it was; no trigger fired.
	got := tableRows(t, db.SQL())
	for table, want := range rows {
		if !slices.Equal(got[table], want) {
			t.Errorf("rows of %s changed: %d rows, were %d", table, len(got[table]), len(want))
		}
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range rebuiltTables {
		var seq, top int64
		if err := db.SQL().QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
			coalesce((SELECT max(id) FROM `+table+`), 0)`, table).Scan(&seq, &top); err != nil {
			t.Fatal(err)
		}
		if seq < top {
			t.Errorf("sqlite_sequence of %s is %d, below its highest id %d", table, seq, top)
		}
	}

	// An id deleted before the upgrade is known from the audit log and not
	// given out again; sessions, impersonations and agent IDs are not
	// logged by id (and Roster deletes no impersonation or agent ID). After
	// the upgrade no id comes back at all.
	notLogged := []string{"sessions", "impersonations", "agent_ids"}
	if _, err := db.Migrate(ctx); err != nil { // the rest, for today's core
		t.Fatal(err)
	}
	svc := roster.NewService(db, roster.Options{})
	kinds := idKinds(t, db, "ids-after")
	// Kinds newer than the fixture (sso_providers) were made with
	// AUTOINCREMENT; they are checked below all the same.
	names := map[string]bool{}
	for _, k := range kinds {
		names[k.name] = true
	}
	for name := range seen {
		if !names[name] {
			t.Fatalf("the fixture has ids of %s, which idKinds no longer makes", name)
		}
	}
	for i, k := range kinds {
		id := k.create(t, 10+i)
		if seen[k.name][id] && !slices.Contains(notLogged, k.name) {
			t.Errorf("%s: id %d, deleted before the upgrade, given out again", k.name, id)
		}
		k.remove(t, id)
		if again := k.create(t, 20+i); again <= id {
			t.Errorf("%s: id %d after %d was deleted", k.name, again, id)
		}
	}
	checkTriggers(t, db, svc)
}

// checkTriggers makes, changes and deletes a user after the upgrade and
// sees what the triggers keep follow: counters, role copies, sign-in rows,
// the search index and the decision index's change log.
func checkTriggers(t *testing.T, db *store.DB, svc *roster.Service) {
	t.Helper()
	ctx := context.Background()
	a, top := newTenant(t, svc, "after")
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.SQL().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	changes := count("SELECT count(*) FROM authz_changes")
	u, err := svc.CreateUser(ctx, a, roster.UserInput{Username: roster.Some("zelda"), Name: roster.Some("Zelda Quist"),
		Email: roster.Some("zelda@example.com"), Language: roster.Some("en"), GroupID: roster.Some(top), Roles: roster.Some([]string{roster.RoleAgent})})
	if err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT count(*) FROM authz_changes"); n <= changes {
		t.Errorf("authz_changes: %d rows after a new user, %d before", n, changes)
	}
	if n := count("SELECT count(*) FROM user_logins WHERE tenant_id = ? AND user_id = ?", a.TenantID, u.ID); n != 1 {
		t.Errorf("user_logins rows of the new user: %d", n)
	}
	if n := count("SELECT count(*) FROM user_roles WHERE tenant_id = ? AND user_id = ? AND status = 'active' AND name_key = 'zelda quist'", a.TenantID, u.ID); n != 1 {
		t.Errorf("user_roles copies of the new user: %d", n)
	}
	page, err := svc.ListUsers(ctx, a, roster.UserQuery{Q: "elda qu", Role: roster.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != u.ID {
		t.Errorf("search for the new user: %+v", page)
	}
	if err := svc.DeleteUser(ctx, a, u.ID); err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT coalesce(sum(n), 0) FROM user_counts WHERE tenant_id = ?", a.TenantID); n != 0 {
		t.Errorf("user_counts of a tenant whose only user is deleted: %d", n)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// schema is the database's schema, "type name" to SQL text.
func schema(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT type, name, coalesce(sql, '') FROM sqlite_master")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		out[typ+" "+name] = text
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalized undoes what 0008 means to change in a table's text: the
// AUTOINCREMENT, and the quotes ALTER TABLE RENAME puts around the name.
func normalized(text string) string {
	text = strings.Replace(text, " INTEGER PRIMARY KEY AUTOINCREMENT,", " INTEGER PRIMARY KEY,", 1)
	return regexp.MustCompile(`^CREATE TABLE "(\w+)"`).ReplaceAllString(text, "CREATE TABLE $1")
}

// tableRows is every row of every ordinary table but the two a migration
// writes (schema_migrations, sqlite_sequence), each table's rows sorted.
func tableRows(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	var tables []string
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'
		AND name NOT IN ('schema_migrations', 'sqlite_sequence')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprintf("%q", vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[table])
	}
	for _, table := range rebuiltTables {
		if len(out[table]) == 0 && table != "one_time_codes" {
			t.Errorf("no rows in %s: the migration test would not show they are kept", table)
		}
	}
	return out
}

// TestIdsMigrationRefusesBrokenForeignKeys: a database whose foreign keys
// are broken already is not rebuilt; the migration fails naming the rows,
// changes nothing, and the connection has foreign keys on again.
func TestIdsMigrationRefusesBrokenForeignKeys(t *testing.T) {
	ctx := context.Background()
	db := openSQLiteBefore(t, "ids_never_reused")
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO tenants (id, slug, name, settings, created_at) VALUES (1, 'old', 'Old', '{}', 0)`,
		`INSERT INTO user_group_access (tenant_id, user_id, group_id) VALUES (1, 77, 88)`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	before := schema(t, db.SQL())

	db.SQL().SetMaxOpenConns(1)
	_, err = db.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "foreign_key_check: user_group_access row") {
		t.Fatalf("migrate: %v, want a foreign_key_check failure naming user_group_access", err)
	}
	var fk, applied int
	if err := db.SQL().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys after the failed migration: %d, %v", fk, err)
	}
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE name LIKE '%ids_never_reused%'").Scan(&applied); err != nil || applied != 0 {
		t.Fatalf("recorded as applied: %d, %v", applied, err)
	}
	if after := schema(t, db.SQL()); !maps.Equal(after, before) {
		t.Error("the failed migration changed the schema")
	}
}

// TestEveryIdAutoincrement: every table of the SQLite schema with an
// integer id takes it AUTOINCREMENT, so a table added later cannot bring
// back reused ids unnoticed.
func TestEveryIdAutoincrement(t *testing.T) {
	db := testdb.SQLite(t)
	plainID := regexp.MustCompile(`(?i)\bid\s+INTEGER\s+PRIMARY\s+KEY\b(\s+AUTOINCREMENT)?`)
	for key, text := range schema(t, db.SQL()) {
		table, ok := strings.CutPrefix(key, "table ")
		if !ok || strings.HasPrefix(table, "users_fts_") { // the search index's own tables
			continue
		}
		if m := plainID.FindStringSubmatch(text); m != nil && m[1] == "" {
			t.Errorf("%s: id INTEGER PRIMARY KEY without AUTOINCREMENT: a deleted highest id would be given out again", table)
		}
	}
}
