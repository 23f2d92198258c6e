package store

import (
	"context"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// MigrateBefore applies the migrations that come before the first whose
// file name contains name, as a database made by an older Roster has them.
func (d *DB) MigrateBefore(ctx context.Context, name string) error {
	if err := d.createMigrationsTable(ctx); err != nil {
		return err
	}
	for _, m := range d.migrations() {
		if strings.Contains(m.name, name) {
			return nil
		}
		if _, err := d.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// SignInCommitSetting writes a sign-in's records as DB.RecordSignIn does
// (async) or as a transaction's RecordSignIn does, inside a transaction it
// rolls back, and reports synchronous_commit in that transaction after.
func (d *DB) SignInCommitSetting(ctx context.Context, sess *roster.Session, e *roster.AuditEvent, async bool) (string, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := (&queries{q: tx, d: d}).recordSignIn(ctx, sess, e, async); err != nil {
		return "", err
	}
	var v string
	err = tx.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v)
	return v, err
}

// KeptStatements is how many statements are kept prepared, once those
// being prepared in the background are done.
func (d *DB) KeptStatements() int {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		busy := false
		d.preparing.Range(func(any, any) bool { busy = true; return false })
		if !busy {
			break
		}
	}
	n := 0
	d.stmts.Range(func(any, any) bool { n++; return true })
	return n
}

// KeptInTransaction is how many of the kept statements a transaction runs
// prepared.
func (d *DB) KeptInTransaction(ctx context.Context) (int, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q, n := &queries{q: tx, d: d}, 0
	d.stmts.Range(func(k, _ any) bool {
		if q.kept(ctx, k.(string)) != nil {
			n++
		}
		return true
	})
	return n, nil
}
