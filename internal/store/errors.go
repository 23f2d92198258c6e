package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/roster-dev/roster/internal/roster"
)

// Outages. An error that means the database cannot be reached or cannot
// serve right now (PostgreSQL down, refusing connections or shutting down,
// the network gone, SQLite's file locked past the busy timeout, moved,
// unreadable or on a full disk) becomes roster.EUnavailable, which the front
// doors answer with 503 and Retry-After. The transaction it happened in is
// rolled back, so nothing is half-written, and nothing has to be restarted
// when the database is back: the pool drops broken connections and opens
// new ones on the next request.

// classify turns an outage into roster.EUnavailable (keeping the driver's
// error as its cause, for the log) and returns every other error as it is.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var re *roster.Error
	if errors.As(err, &re) {
		return err
	}
	if isOutage(err) {
		return roster.Unavailable(err)
	}
	return err
}

// isOutage reports whether err says the database is unreachable or cannot
// serve now, rather than that the statement or its data was wrong.
func isOutage(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var sqErr *sqlite.Error
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr): // no connection could be made, whatever the reason
		return true
	case errors.As(err, &pgErr):
		return pgOutage(pgErr.Code)
	case errors.As(err, &sqErr):
		return sqliteOutage(sqErr.Code())
	case errors.As(err, &netErr):
		return true
	}
	for _, target := range []error{
		driver.ErrBadConn, sql.ErrConnDone, pgconn.ErrConnClosed, io.ErrUnexpectedEOF,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ETIMEDOUT,
		context.DeadlineExceeded, // the database did not answer in time
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// pgOutage: SQLSTATE classes 08 (connection exception), 53 (insufficient
// resources: too many connections, disk full), 58 (system error: I/O), and
// 57P01-57P03 (the server is shutting down, crashed or starting up); 25006
// is a write sent to a standby after a failover.
func pgOutage(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "58"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "25006":
		return true
	}
	return false
}

// sqliteOutage: the primary result codes of a database that is busy past
// the busy timeout, locked, unreadable or unwritable (a file that was moved
// or deleted reports SQLITE_READONLY_DBMOVED), full or cannot be opened.
func sqliteOutage(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

// row is a *sql.Row whose Scan classifies the error of the query it ran
// (a single-row query reports a failed connection only there).
type row struct {
	*sql.Row
	d *DB
}

func (r row) Scan(dest ...any) error { return r.d.mapErr(r.Row.Scan(dest...)) }

// createSQLiteFile makes the database file if there is none yet (an empty
// file is an empty SQLite database). The pool then opens it with mode=rw,
// never creating it: a file that is moved or deleted while Roster runs is an
// outage (SQLITE_CANTOPEN, 503) until it is back, not a new, empty database
// that new connections would quietly write to.
func createSQLiteFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return f.Close()
}

// defaultConnectTimeout bounds how long a request waits for a new
// PostgreSQL connection: without it a server that drops packets holds
// each request for the operating system's TCP timeout (minutes) before it
// can be answered with 503.
const defaultConnectTimeout = "5"

// withConnectTimeout adds connect_timeout to a postgres:// URL that does not
// set one itself.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // the driver reports what is wrong with it
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return dsn
	}
	q.Set("connect_timeout", defaultConnectTimeout)
	u.RawQuery = q.Encode()
	return u.String()
}
