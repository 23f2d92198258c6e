package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Queries and tools of operations: the outbox backlog and stored numbers
// across tenants, migrations outstanding, backups.

func (q *queries) OutboxBacklog(ctx context.Context) (int, *time.Time, error) {
	var n int
	var oldest sql.NullInt64
	err := q.queryRow(ctx, `SELECT count(*), min(created_at) FROM outbox_messages WHERE status = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return 0, nil, q.d.mapErr(err)
	}
	return n, fromNullMS(oldest), nil
}

func (q *queries) EachStoredPhone(ctx context.Context, fn func(roster.StoredPhone) error) error {
	rows, err := q.query(ctx, `SELECT u.tenant_id, t.slug, u.id, u.username, u.mobile, u.ring_to
		FROM users u JOIN tenants t ON t.id = u.tenant_id
		WHERE u.mobile <> '' OR u.ring_to <> '' ORDER BY u.tenant_id, u.id`)
	if err != nil {
		return q.d.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p roster.StoredPhone
		if err := rows.Scan(&p.TenantID, &p.TenantSlug, &p.UserID, &p.Username, &p.Mobile, &p.RingTo); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return q.d.mapErr(rows.Err())
}

// PendingMigrations names the embedded migrations the database has not
// applied (all of them when it has none).
func (d *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	if err := d.createMigrationsTable(ctx); err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	rows, err := d.db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var pending []string
	for _, m := range d.migrations() {
		if !applied[m.version] {
			pending = append(pending, m.name)
		}
	}
	return pending, nil
}

// ErrBackupPostgres is BackupTo's answer on PostgreSQL.
var ErrBackupPostgres = fmt.Errorf("roster backup copies SQLite databases only; back up PostgreSQL with its own tools, " +
	"e.g. pg_dump --format=custom --file=roster.dump \"$ROSTER_DB\" (consistent while Roster runs), restored with pg_restore")

// BackupTo writes a consistent copy of the SQLite database to path with
// VACUUM INTO: one read transaction, so writers of a running server go on
// and the copy is the database as of one moment. path must not exist.
func (d *DB) BackupTo(ctx context.Context, path string) error {
	if d.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists; a backup never overwrites a file", path)
	}
	if _, err := d.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// Read the copy back as a restore would, before anyone relies on it.
	cp, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer cp.Close()
	var res string
	if err := cp.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		return fmt.Errorf("the backup %s does not pass integrity_check (%s, %v)", path, res, err)
	}
	return nil
}
