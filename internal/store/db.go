// Package store implements roster.Store with hand-written SQL for SQLite
// (embedded default) and PostgreSQL. Both dialects share the queries; the few
// differences live in the dialect type.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/roster-dev/roster/internal/roster"
)

//go:embed migrations
var migrationFiles embed.FS

// Dialect names the SQL flavour.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a Roster database.
type DB struct {
	db      *sql.DB
	dialect Dialect
	// stmts and preparing: the statements kept prepared;
	// closing: Close has begun, nothing more is kept.
	stmts, preparing sync.Map
	closing          atomic.Bool
}

// Open connects to dsn: a postgres:// URL selects PostgreSQL, anything else
// is ignored and SQLite at dataDir/roster.db is used (the folder is created).
func Open(ctx context.Context, dsn, dataDir string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", withConnectTimeout(dsn))
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
		d := &DB{db: db, dialect: Postgres}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		return d, nil
	}
	if dsn != "" && !strings.HasPrefix(dsn, "sqlite:") && !strings.HasPrefix(dsn, "file:") {
		return nil, fmt.Errorf("--db must be a postgres:// URL, or empty for SQLite in the data folder (got %q)", dsn)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		if dataDir == "" {
			dataDir = "roster-data"
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		path = filepath.Join(dataDir, "roster.db")
	}
	// Write transactions take the lock up front (BEGIN IMMEDIATE), so two
	// writers queue on busy_timeout instead of failing on lock upgrade.
	// Checkpoints every 10,000 WAL pages (40 MB) instead of 1,000: a bulk
	// write (an ingest batch dirties thousands of index pages) otherwise
	// checkpoints after nearly every commit, copying the same hot pages to
	// the database file again each time; the WAL file is cut back to 64 MB
	// after a checkpoint.
	q := "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(10000)&_pragma=journal_size_limit(67108864)"
	if err := createSQLiteFile(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+q+"&mode=rw")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	d := &DB{db: db, dialect: SQLite}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return d, nil
}

// Dialect tells which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// SQL exposes the connection pool to tools (benchmark loaders, tests).
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the pool; on SQLite it first lets the planner refresh its statistics.
func (d *DB) Close() error {
	if d.dialect == SQLite {
		_, _ = d.db.Exec("PRAGMA optimize")
	}
	d.closeStatements()
	return d.db.Close()
}

// Ping checks that the database answers and is migrated.
func (d *DB) Ping(ctx context.Context) error {
	var n int
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("database not ready: %w", err)
	}
	if n < len(d.migrations()) {
		return fmt.Errorf("database not migrated: %d of %d migrations applied", n, len(d.migrations()))
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func (d *DB) migrations() []migration {
	dir := "migrations/" + string(d.dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		panic(err) // embedded at build time
	}
	var ms []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			panic("store: migration file without a version: " + e.Name())
		}
		b, _ := migrationFiles.ReadFile(dir + "/" + e.Name())
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms
}

// Migrate applies the embedded migrations that are not applied yet, in order,
// each in its own transaction together with its record. On PostgreSQL an
// advisory lock keeps replicas that start together from racing.
func (d *DB) Migrate(ctx context.Context) (applied int, err error) {
	if err := d.createMigrationsTable(ctx); err != nil {
		return 0, err
	}
	for _, m := range d.migrations() {
		done, err := d.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// createMigrationsTable makes the record of applied migrations.
func (d *DB) createMigrationsTable(ctx context.Context) error {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	if _, err := d.db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	return nil
}

// foreignKeysOff, as a migration's first line, marks one that rebuilds
// tables by SQLite's ALTER TABLE procedure: it runs with foreign keys off.
const foreignKeysOff = "-- roster:foreign-keys-off"

func (d *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	if d.dialect == SQLite && strings.HasPrefix(m.sql, foreignKeysOff) {
		return d.applyWithoutForeignKeys(ctx, m)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if d.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7326015)"); err != nil {
			return false, err
		}
	}
	done, err := d.runMigration(ctx, tx, m)
	if err != nil || !done {
		return false, err
	}
	return true, tx.Commit()
}

// applyWithoutForeignKeys applies m on a connection of its own with foreign
// keys off (with them on, DROP TABLE deletes its rows and cascades into
// child tables), checks every foreign key before it commits, and turns them
// on again before the connection goes back to the pool. The pragma cannot
// change inside a transaction, hence the connection.
func (d *DB) applyWithoutForeignKeys(ctx context.Context, m migration) (applied bool, err error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return false, err
	}
	defer func() {
		if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); onErr != nil {
			// Never back into the pool without foreign keys.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("turn foreign keys on again: %w", onErr)
			}
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	done, err := d.runMigration(ctx, tx, m)
	if err != nil || !done {
		return false, err
	}
	if err := foreignKeyViolations(ctx, tx); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// runMigration applies m in tx with its record, unless it is recorded already.
func (d *DB) runMigration(ctx context.Context, tx *sql.Tx, m migration) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, d.rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, nil
}

// foreignKeyViolations reports the first rows PRAGMA foreign_key_check finds.
func foreignKeyViolations(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var found []string
	for rows.Next() && len(found) < 5 {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		found = append(found, fmt.Sprintf("%s row %d refers to a missing %s", table, rowid.Int64, parent))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(found) > 0 {
		return fmt.Errorf("foreign_key_check: %s", strings.Join(found, "; "))
	}
	return nil
}

// IntegrityCheck runs the database's own consistency check (SQLite) and
// reports a foreign key violation anywhere.
func (d *DB) IntegrityCheck(ctx context.Context) error {
	if d.dialect != SQLite {
		return nil
	}
	var res string
	if err := d.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
	}
	rows, err := d.db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("foreign_key_check found violations")
	}
	return rows.Err()
}

// InTx runs fn in a write transaction.
func (d *DB) InTx(ctx context.Context, fn func(roster.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return classify(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(&queries{q: tx, d: d}); err != nil {
		return classify(err)
	}
	if err := tx.Commit(); err != nil {
		return d.mapErr(err)
	}
	return nil
}

// Read returns the read queries on the pool, outside a transaction.
func (d *DB) Read() roster.Reader { return &queries{q: d.db, d: d} }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements roster.Tx over a pool or a transaction.
type queries struct {
	q querier
	d *DB
}

func (q *queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := q.q.ExecContext(ctx, q.d.rebind(query), args...)
	return res, q.d.mapErr(err)
}

func (q *queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.q.QueryContext(ctx, q.d.rebind(query), args...)
	return rows, q.d.mapErr(err)
}

func (q *queries) queryRow(ctx context.Context, query string, args ...any) row {
	return row{q.q.QueryRowContext(ctx, q.d.rebind(query), args...), q.d}
}

// insert runs an INSERT ... RETURNING id and returns the id.
// Its query texts are all fixed, so it runs them prepared.
func (q *queries) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := q.queryRowKept(ctx, query+" RETURNING id", args...).Scan(&id); err != nil {
		return 0, q.d.mapErr(err)
	}
	return id, nil
}

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL. Queries never
// contain a literal question mark.
func (d *DB) rebind(query string) string {
	if d.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// mapErr turns constraint violations into the core's conflict errors, naming
// the field where the violated index tells it, and outages into
// roster.EUnavailable.
func (d *DB) mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	var sqErr *sqlite.Error
	unique, foreign := false, false
	var detail string
	switch {
	case errors.As(err, &pgErr):
		unique, foreign = pgErr.Code == "23505", pgErr.Code == "23503"
		detail = pgErr.ConstraintName + " " + pgErr.Detail
	case errors.As(err, &sqErr):
		unique = sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		foreign = sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
		detail = sqErr.Error()
	}
	switch {
	case unique:
		for _, f := range []string{"username", "email", "agent_number", "slug", "key"} {
			if strings.Contains(detail, f) {
				return &roster.Error{Code: roster.EConflict, Reason: f + "_taken", Message: "the " + strings.ReplaceAll(f, "_", " ") + " is in use already",
					Fields: []roster.FieldError{{Field: f, Message: "is in use already"}}}
			}
		}
		return &roster.Error{Code: roster.EConflict, Reason: roster.ReasonDuplicate, Message: "this would create a duplicate"}
	case foreign:
		return roster.Errorf(roster.EConflict, "this refers to something that does not exist, or is still referred to")
	}
	return classify(err) // an outage becomes roster.EUnavailable
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func notFound(kind string, id int64) error {
	return roster.Errorf(roster.ENotFound, "no %s with id %d", kind, id)
}
