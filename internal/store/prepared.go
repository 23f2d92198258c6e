package store

import (
	"context"
	"database/sql"
)

// Statements of the per-request paths (a sign-in's read and writes, the
// session and API token checks, every insert: the audit event each change
// writes above all) are kept prepared on SQLite. modernc's driver compiles
// a statement on every call otherwise, triggers included, and for the
// sign-in's user query compiling cost more than running it. PostgreSQL
// needs none of this: pgx prepares each statement once per connection and
// keeps it.
//
// Only fixed query texts, or texts of a bounded set of shapes (user list
// pages without group lists, the links of a full page), go
// through here, so the cache stays as small as the code's list of them; it
// is never emptied. The first use of a
// statement inside a transaction runs unprepared while it is prepared in
// the background. A database given a full ANALYZE (sqlite_stat4 samples;
// Roster itself only runs PRAGMA optimize, which takes none) recompiles a
// kept statement whose plan depends on a bound value at each call: once,
// where an unprepared call compiled it twice.

// kept returns the statement to run query on, or nil to run it as
// usual: on PostgreSQL, and in a transaction until the statement is ready.
func (q *queries) kept(ctx context.Context, query string) *sql.Stmt {
	if q.d.dialect != SQLite || q.d.closing.Load() {
		return nil
	}
	tx, inTx := q.q.(*sql.Tx)
	var st *sql.Stmt
	if v, ok := q.d.stmts.Load(query); ok {
		st = v.(*sql.Stmt)
	} else {
		if inTx {
			// Preparing takes a connection of the pool, which a writer
			// queued behind this transaction's lock may hold: prepare in
			// the background, and run this call as usual.
			if _, busy := q.d.preparing.LoadOrStore(query, true); !busy {
				go func() {
					defer q.d.preparing.Delete(query)
					q.d.prepare(context.WithoutCancel(ctx), query)
				}()
			}
			return nil
		}
		if st = q.d.prepare(ctx, query); st == nil {
			return nil
		}
	}
	if inTx {
		// Reuses the statement prepared on the transaction's connection.
		return tx.StmtContext(ctx, st)
	}
	return st
}

// prepare prepares query on the pool and keeps it; nil when it fails (the
// call then runs as usual and reports the error itself).
func (d *DB) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if v, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	if d.closing.Load() {
		// Close swept the cache while this was being prepared.
		d.stmts.Delete(query)
		st.Close()
		return nil
	}
	return st
}

// closeStatements closes the kept statements (before the pool closes);
// calls from then on run unprepared.
func (d *DB) closeStatements() {
	d.closing.Store(true)
	d.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		d.stmts.Delete(k)
		return true
	})
}

// queryRowKept is queryRow for a fixed query text on a per-request path.
func (q *queries) queryRowKept(ctx context.Context, query string, args ...any) row {
	if st := q.kept(ctx, query); st != nil {
		return row{st.QueryRowContext(ctx, args...), q.d}
	}
	return q.queryRow(ctx, query, args...)
}

// queryKept is query for a query text of a bounded set on a per-request
// path (a user list page of a common shape, the links of a full page).
func (q *queries) queryKept(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.kept(ctx, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, q.d.mapErr(err)
	}
	return q.query(ctx, query, args...)
}

// execKept is exec for a fixed query text on a per-request path.
func (q *queries) execKept(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.kept(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, q.d.mapErr(err)
	}
	return q.exec(ctx, query, args...)
}

// prepared prepares query once for the repeated full-size chunks of a bulk
// write (parsing a statement of thousands of placeholders costs as much as
// running it); nil when not worth it or not possible.
func (q *queries) prepared(ctx context.Context, query string, worth bool) *sql.Stmt {
	p, ok := q.q.(interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	})
	if !worth || !ok {
		return nil
	}
	stmt, err := p.PrepareContext(ctx, q.d.rebind(query))
	if err != nil {
		return nil // the chunks then run unprepared, and report the error themselves
	}
	return stmt
}
