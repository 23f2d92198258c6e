package store

import (
	"context"
	"strings"
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

// SignInCommit is synchronous_commit on the connections that record
// sign-ins, and on the others.
func (d *DB) SignInCommit(ctx context.Context) (signIns, others string, err error) {
	if err = d.signIns.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&signIns); err != nil {
		return
	}
	err = d.db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&others)
	return
}
