package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Queries of the access lifecycle: passwords, sign-ins, sessions, one-time
// codes and rate limits. Invitations and the outbox have files of their own.

// loginQuery selects the user whose username or else email is login, with
// their password hash and a rank: args tenant, login, tenant, login.
func (q *queries) loginQuery() string {
	// A username wins over another user's equal email (rank 0 before 1).
	// On PostgreSQL the comparison must be in the "C" collation of the
	// unique index users_username_uq, or the index is not used.
	collate := ""
	if q.d.dialect == Postgres {
		collate = ` COLLATE "C"`
	}
	return `SELECT * FROM (
		SELECT ` + userColumns + `, u.password_hash, 0 AS rank FROM users u WHERE u.tenant_id = ? AND lower(u.username)` + collate + ` = lower(?)
		UNION ALL
		SELECT ` + userColumns + `, u.password_hash, 1 AS rank FROM users u WHERE u.tenant_id = ? AND u.email = lower(?) AND u.email <> ''
	) m ORDER BY rank LIMIT 1`
}

func (q *queries) UserForLogin(ctx context.Context, tenantID int64, login string) (*roster.User, string, error) {
	row := q.queryRow(ctx, q.loginQuery(), tenantID, login, tenantID, login)
	var hash sql.NullString
	var rank int
	u, err := scanUser(extraColumns{row, []any{&hash, &rank}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", roster.Errorf(roster.ENotFound, "no such login")
	}
	if err != nil {
		return nil, "", err
	}
	return &u, hash.String, nil
}

func (q *queries) UserForSignIn(ctx context.Context, tenantID int64, login, ipKey, pairKeyPrefix, acctKeyPrefix string) (*roster.User, string, map[string]roster.RateWindow, error) {
	row := q.queryRowKept(ctx, `SELECT l.*, ip.count, ip.window_start, pair.count, pair.window_start, acct.count, acct.window_start
		FROM (`+q.loginQuery()+`) l
		LEFT JOIN rate_limits ip ON ip.tenant_id = l.tenant_id AND ip.key = ?
		LEFT JOIN rate_limits pair ON pair.tenant_id = l.tenant_id AND pair.key = CAST(? AS TEXT) || l.id
		LEFT JOIN rate_limits acct ON acct.tenant_id = l.tenant_id AND acct.key = CAST(? AS TEXT) || l.id`,
		tenantID, login, tenantID, login, ipKey, pairKeyPrefix, acctKeyPrefix)
	var hash sql.NullString
	var rank int
	var ipCount, ipStart, pairCount, pairStart, acctCount, acctStart sql.NullInt64
	u, err := scanUser(extraColumns{row, []any{&hash, &rank, &ipCount, &ipStart, &pairCount, &pairStart, &acctCount, &acctStart}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil, roster.Errorf(roster.ENotFound, "no such login")
	}
	if err != nil {
		return nil, "", nil, err
	}
	windows := map[string]roster.RateWindow{}
	id := strconv.FormatInt(u.ID, 10)
	for _, w := range []struct {
		key          string
		count, start sql.NullInt64
	}{{ipKey, ipCount, ipStart}, {pairKeyPrefix + id, pairCount, pairStart}, {acctKeyPrefix + id, acctCount, acctStart}} {
		if w.count.Valid {
			windows[w.key] = roster.RateWindow{Count: int(w.count.Int64), Start: fromMS(w.start.Int64)}
		}
	}
	return &u, hash.String, windows, nil
}

// extraColumns scans columns that follow the ones a scan function knows.
type extraColumns struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (e extraColumns) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

func (q *queries) PasswordHash(ctx context.Context, tenantID, userID int64) (string, error) {
	var h sql.NullString
	err := q.queryRow(ctx, `SELECT password_hash FROM users WHERE tenant_id = ? AND id = ?`, tenantID, userID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("user", userID)
	}
	return h.String, err
}

func (q *queries) SetPasswordHash(ctx context.Context, tenantID, userID int64, hash string) error {
	var h any
	if hash != "" {
		h = hash
	}
	res, err := q.exec(ctx, `UPDATE users SET password_hash = ? WHERE tenant_id = ? AND id = ?`, h, tenantID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("user", userID)
	}
	return nil
}

// RecordSignIn on the pool: on PostgreSQL one statement, atomic by itself,
// which saves the round trips of BEGIN, COMMIT and two more statements on
// every sign-in (where the database shares the CPUs with password hashing,
// they cost a few per cent of the sign-in rate). SQLite runs in-process and
// takes a transaction.
//
// On PostgreSQL that statement also commits asynchronously: it sets
// synchronous_commit off for its own transaction (set_config, local), so
// the sign-in does not wait for the WAL flush, which on a shared machine
// costs as much as the rest of the write. What a crash of the database
// server or its machine (not of Roster) can lose is the sign-ins of its
// last moments (at most three times wal_writer_delay: 600 ms at the
// default): their sessions, last-login times and audit events together,
// never one without the others, so those users sign in again and the audit
// log never names a session that does not exist; after a failover to an
// asynchronous standby, what it had not received. Any later synchronous
// commit makes them durable too. A sign-in that also ends a previous
// session, rehashes or resets a window runs in a transaction of the usual
// kind, as do sign-outs, revocations and every other write.
func (d *DB) RecordSignIn(ctx context.Context, sess *roster.Session, e *roster.AuditEvent) error {
	if d.dialect == Postgres {
		return (&queries{q: d.db, d: d}).recordSignIn(ctx, sess, e, true)
	}
	return d.InTx(ctx, func(tx roster.Tx) error { return tx.RecordSignIn(ctx, sess, e) })
}

// RecordSignIn writes a sign-in's session, last-login time and audit event
// (see roster.Store): one statement on PostgreSQL, three on SQLite.
func (q *queries) RecordSignIn(ctx context.Context, sess *roster.Session, e *roster.AuditEvent) error {
	return q.recordSignIn(ctx, sess, e, false)
}

// recordSignIn is RecordSignIn; async (PostgreSQL, outside a transaction)
// commits the statement without waiting for the WAL flush (DB.RecordSignIn).
func (q *queries) recordSignIn(ctx context.Context, sess *roster.Session, e *roster.AuditEvent, async bool) error {
	head, err := sessionIDHead(e.After)
	if err != nil {
		return err
	}
	if q.d.dialect != Postgres {
		if err := q.createSession(ctx, sess); err != nil {
			return err
		}
		if _, err := q.execKept(ctx, `UPDATE user_logins SET last_login_at = ? WHERE tenant_id = ? AND user_id = ?`,
			ms(sess.CreatedAt), sess.TenantID, sess.UserID); err != nil {
			return err
		}
		e.After = json.RawMessage(head + strconv.FormatInt(sess.ID, 10) + "}")
		return q.AddAudit(ctx, e)
	}
	// The setting is local to the statement's transaction; it is made
	// because the final SELECT reads c (a CTE nobody reads is not run).
	asyncCTE, asyncFrom := "", ""
	if async {
		asyncCTE, asyncFrom = `c AS (SELECT set_config('synchronous_commit', 'off', true)),`, ", c"
	}
	err = q.queryRow(ctx, `WITH `+asyncCTE+` s AS (
			INSERT INTO sessions (tenant_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id),
		l AS (UPDATE user_logins SET last_login_at = ? WHERE tenant_id = ? AND user_id = ?),
		a AS (INSERT INTO audit_events (tenant_id, actor_kind, actor_id, actor_name, impersonator_id, action,
			target_kind, target_id, before, after, ip, user_agent, request_id, at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT) || s.id || '}', ?, ?, ?, ? FROM s RETURNING id)
		SELECT s.id, a.id FROM s, a`+asyncFrom,
		sess.TenantID, sess.UserID, sess.TokenHash, ms(sess.CreatedAt), ms(sess.LastSeenAt), ms(sess.ExpiresAt), sess.IP, sess.UserAgent,
		ms(sess.CreatedAt), sess.TenantID, sess.UserID,
		e.TenantID, e.ActorKind, e.ActorID, e.ActorName, e.ImpersonatorID, e.Action, e.TargetKind, e.TargetID,
		nullText(e.Before), head, e.IP, e.UserAgent, e.RequestID, ms(e.At)).Scan(&sess.ID, &e.ID)
	if err != nil {
		return q.d.mapErr(err)
	}
	e.After = json.RawMessage(head + strconv.FormatInt(sess.ID, 10) + "}")
	return nil
}

// sessionIDHead is after, a JSON object, without its closing brace and
// with the key "session_id" added last; the id and "}" complete it.
func sessionIDHead(after json.RawMessage) (string, error) {
	a := strings.TrimSpace(string(after))
	if a == "" || a == "null" {
		a = "{}"
	}
	if !strings.HasPrefix(a, "{") || !strings.HasSuffix(a, "}") || !json.Valid([]byte(a)) {
		return "", fmt.Errorf("store: audit after of a sign-in must be a JSON object, got %q", a)
	}
	head := strings.TrimSpace(a[:len(a)-1])
	if head != "{" {
		head += ","
	}
	return head + `"session_id":`, nil
}

func (q *queries) createSession(ctx context.Context, s *roster.Session) error {
	var err error
	s.ID, err = q.insert(ctx, `INSERT INTO sessions (tenant_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.TenantID, s.UserID, s.TokenHash, ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt),
		s.IP, s.UserAgent)
	return err
}

func (q *queries) SessionByHash(ctx context.Context, hash []byte) (*roster.Session, error) {
	var s roster.Session
	var created, seen, expires int64
	err := q.queryRowKept(ctx, `SELECT id, tenant_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent
		FROM sessions WHERE token_hash = ?`, hash).Scan(&s.ID, &s.TenantID, &s.UserID, &s.TokenHash, &created, &seen, &expires,
		&s.IP, &s.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such session")
	}
	if err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	return &s, nil
}

func (q *queries) TouchSession(ctx context.Context, tenantID, id int64, at time.Time) error {
	_, err := q.execKept(ctx, `UPDATE sessions SET last_seen_at = ? WHERE tenant_id = ? AND id = ?`, ms(at), tenantID, id)
	return err
}

func (q *queries) DeleteSession(ctx context.Context, tenantID, id int64) error {
	_, err := q.exec(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return err
}

func (q *queries) DeleteUserSessions(ctx context.Context, tenantID, userID, exceptID int64) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND user_id = ? AND id <> ?`, tenantID, userID, exceptID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (q *queries) PutCode(ctx context.Context, c *roster.OneTimeCode) error {
	var err error
	c.ID, err = q.insert(ctx, `INSERT INTO one_time_codes (tenant_id, user_id, code_hash, channel, attempts, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET code_hash = excluded.code_hash, channel = excluded.channel,
			attempts = excluded.attempts, expires_at = excluded.expires_at, created_at = excluded.created_at`,
		c.TenantID, c.UserID, c.CodeHash, c.Channel, c.Attempts, ms(c.ExpiresAt), ms(c.CreatedAt))
	return err
}

func (q *queries) CodeOfUser(ctx context.Context, tenantID, userID int64) (*roster.OneTimeCode, error) {
	var c roster.OneTimeCode
	var expires, created int64
	err := q.queryRow(ctx, `SELECT id, tenant_id, user_id, code_hash, channel, attempts, expires_at, created_at
		FROM one_time_codes WHERE tenant_id = ? AND user_id = ?`, tenantID, userID).Scan(&c.ID, &c.TenantID, &c.UserID,
		&c.CodeHash, &c.Channel, &c.Attempts, &expires, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no code")
	}
	if err != nil {
		return nil, err
	}
	c.ExpiresAt, c.CreatedAt = fromMS(expires), fromMS(created)
	return &c, nil
}

func (q *queries) SetCodeAttempts(ctx context.Context, tenantID, id int64, attempts int) error {
	_, err := q.exec(ctx, `UPDATE one_time_codes SET attempts = ? WHERE tenant_id = ? AND id = ?`, attempts, tenantID, id)
	return err
}

func (q *queries) DeleteUserCodes(ctx context.Context, tenantID, userID int64) error {
	_, err := q.exec(ctx, `DELETE FROM one_time_codes WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
	return err
}

// HitRateLimit counts one event in one statement, so concurrent requests on
// several replicas never lose a count.
func (q *queries) HitRateLimit(ctx context.Context, tenantID int64, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	var n int
	var start int64
	cutoff := ms(now) - window.Milliseconds()
	err := q.queryRow(ctx, `INSERT INTO rate_limits (tenant_id, key, window_start, count) VALUES (?, ?, ?, 1)
		ON CONFLICT (tenant_id, key) DO UPDATE SET
			count = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.count + 1 END,
			window_start = CASE WHEN rate_limits.window_start <= ? THEN excluded.window_start ELSE rate_limits.window_start END
		RETURNING count, window_start`, tenantID, key, ms(now), cutoff, cutoff).Scan(&n, &start)
	if err != nil {
		return 0, time.Time{}, q.d.mapErr(err)
	}
	return n, fromMS(start), nil
}

func (q *queries) RateLimit(ctx context.Context, tenantID int64, key string) (int, time.Time, error) {
	var n int
	var start int64
	err := q.queryRow(ctx, `SELECT count, window_start FROM rate_limits WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&n, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, fromMS(start), nil
}

func (q *queries) RateLimitWindows(ctx context.Context, tenantID int64, keys []string) (map[string]roster.RateWindow, error) {
	out := make(map[string]roster.RateWindow, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := q.query(ctx, `SELECT key, count, window_start FROM rate_limits WHERE tenant_id = ? AND key IN (`+placeholders(len(keys))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var w roster.RateWindow
		var start int64
		if err := rows.Scan(&k, &w.Count, &start); err != nil {
			return nil, err
		}
		w.Start = fromMS(start)
		out[k] = w
	}
	return out, rows.Err()
}

func (q *queries) ResetRateLimit(ctx context.Context, tenantID int64, key string) error {
	_, err := q.exec(ctx, `DELETE FROM rate_limits WHERE tenant_id = ? AND key = ?`, tenantID, key)
	return err
}

func (q *queries) PruneLifecycle(ctx context.Context, now, idleCutoff time.Time) error {
	day := int64(24 * time.Hour / time.Millisecond)
	for _, stmt := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM sessions WHERE expires_at <= ?`, ms(now)},
		{`DELETE FROM sessions WHERE last_seen_at <= ?`, ms(idleCutoff)},
		{`DELETE FROM one_time_codes WHERE expires_at <= ?`, ms(now)},
		// Every limit's window is far shorter than a day.
		{`DELETE FROM rate_limits WHERE window_start <= ?`, ms(now) - day},
	} {
		if _, err := q.exec(ctx, stmt.sql, stmt.arg); err != nil {
			return err
		}
	}
	return nil
}
