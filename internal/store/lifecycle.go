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

// Queries of the access lifecycle: invitations, passwords, sessions,
// one-time codes, rate limits and the outbox.

const invitationColumns = `id, tenant_id, user_id, email, name, username, token_hash, status, expires_at, send_count,
	last_sent_at, invited_by_kind, invited_by_id, invited_by_name, accepted_at, cancelled_at, created_at, updated_at`

func scanInvitation(s interface{ Scan(...any) error }) (roster.Invitation, error) {
	var inv roster.Invitation
	var expires, lastSent, created, updated int64
	var accepted, cancelled sql.NullInt64
	err := s.Scan(&inv.ID, &inv.TenantID, &inv.UserID, &inv.Email, &inv.Name, &inv.Username, &inv.TokenHash, &inv.Status,
		&expires, &inv.SendCount, &lastSent, &inv.InvitedByKind, &inv.InvitedByID, &inv.InvitedByName, &accepted, &cancelled,
		&created, &updated)
	inv.ExpiresAt, inv.LastSentAt, inv.CreatedAt, inv.UpdatedAt = fromMS(expires), fromMS(lastSent), fromMS(created), fromMS(updated)
	inv.AcceptedAt, inv.CancelledAt = fromNullMS(accepted), fromNullMS(cancelled)
	return inv, err
}

func (q *queries) CreateInvitation(ctx context.Context, inv *roster.Invitation) error {
	var err error
	inv.ID, err = q.insert(ctx, `INSERT INTO invitations (tenant_id, user_id, email, name, username, token_hash, status, expires_at,
		send_count, last_sent_at, invited_by_kind, invited_by_id, invited_by_name, accepted_at, cancelled_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.TenantID, inv.UserID, inv.Email, inv.Name, inv.Username, inv.TokenHash, inv.Status, ms(inv.ExpiresAt),
		inv.SendCount, ms(inv.LastSentAt), inv.InvitedByKind, inv.InvitedByID, inv.InvitedByName, nullMS(inv.AcceptedAt),
		nullMS(inv.CancelledAt), ms(inv.CreatedAt), ms(inv.UpdatedAt))
	return err
}

func (q *queries) oneInvitation(ctx context.Context, where string, args ...any) (*roster.Invitation, error) {
	inv, err := scanInvitation(q.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such invitation")
	}
	if err != nil {
		return nil, err
	}
	return &inv, nil
}

func (q *queries) Invitation(ctx context.Context, tenantID, id int64) (*roster.Invitation, error) {
	inv, err := q.oneInvitation(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil, notFound("invitation", id)
	}
	return inv, err
}

func (q *queries) InvitationByTokenHash(ctx context.Context, hash []byte) (*roster.Invitation, error) {
	return q.oneInvitation(ctx, `token_hash = ?`, hash)
}

func (q *queries) PendingInvitationOfUser(ctx context.Context, tenantID, userID int64) (*roster.Invitation, error) {
	return q.oneInvitation(ctx, `tenant_id = ? AND user_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1`, tenantID, userID)
}

func (q *queries) UpdateInvitation(ctx context.Context, inv *roster.Invitation) error {
	res, err := q.exec(ctx, `UPDATE invitations SET email = ?, name = ?, username = ?, token_hash = ?, status = ?, expires_at = ?,
		send_count = ?, last_sent_at = ?, accepted_at = ?, cancelled_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		inv.Email, inv.Name, inv.Username, inv.TokenHash, inv.Status, ms(inv.ExpiresAt), inv.SendCount, ms(inv.LastSentAt), nullMS(inv.AcceptedAt),
		nullMS(inv.CancelledAt), ms(inv.UpdatedAt), inv.TenantID, inv.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("invitation", inv.ID)
	}
	return nil
}

func (q *queries) ListInvitations(ctx context.Context, tenantID int64, f roster.InvitationFilter) ([]roster.Invitation, int, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if len(f.Statuses) > 0 {
		var or []string
		for _, st := range f.Statuses {
			switch st {
			case roster.InvitationPending:
				or = append(or, "(status = 'pending' AND expires_at > ?)")
				args = append(args, ms(f.Now))
			case roster.InvitationExpired:
				or = append(or, "(status = 'pending' AND expires_at <= ?)")
				args = append(args, ms(f.Now))
			default:
				or = append(or, "status = ?")
				args = append(args, st)
			}
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.Scope != nil { // a scoped actor: invitations of users in their groups (coaching.go)
		c, a := scopeCondition(f.Scope, tenantID, "user_id")
		where = append(where, c)
		args = append(args, a...)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM invitations WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	rows, err := q.query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, inv)
	}
	return out, total, rows.Err()
}

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

const outboxColumns = `id, tenant_id, channel, recipient, language, kind, ref, subject, body_text, body_html, secret, status,
	attempts, next_attempt_at, last_error, created_at, updated_at, sent_at`

func scanOutbox(s interface{ Scan(...any) error }) (roster.OutboxMessage, error) {
	var m roster.OutboxMessage
	var secret sql.NullString
	var next, created, updated int64
	var sent sql.NullInt64
	err := s.Scan(&m.ID, &m.TenantID, &m.Channel, &m.Recipient, &m.Language, &m.Kind, &m.Ref, &m.Subject, &m.Text, &m.HTML,
		&secret, &m.Status, &m.Attempts, &next, &m.LastError, &created, &updated, &sent)
	m.Secret = secret.String
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt, m.SentAt = fromMS(next), fromMS(created), fromMS(updated), fromNullMS(sent)
	return m, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (q *queries) EnqueueMessage(ctx context.Context, m *roster.OutboxMessage) error {
	var err error
	m.ID, err = q.insert(ctx, `INSERT INTO outbox_messages (tenant_id, channel, recipient, language, kind, ref, subject, body_text,
		body_html, secret, status, attempts, next_attempt_at, last_error, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TenantID, m.Channel, m.Recipient, m.Language, m.Kind, m.Ref, m.Subject, m.Text, m.HTML, nullString(m.Secret), m.Status,
		m.Attempts, ms(m.NextAttemptAt), m.LastError, ms(m.CreatedAt), ms(m.UpdatedAt), nullMS(m.SentAt))
	return err
}

func (q *queries) CancelPendingMessages(ctx context.Context, tenantID int64, ref string, now time.Time) error {
	_, err := q.exec(ctx, `UPDATE outbox_messages SET status = 'cancelled', secret = NULL, updated_at = ?
		WHERE tenant_id = ? AND ref = ? AND status = 'pending'`, ms(now), tenantID, ref)
	return err
}

func (q *queries) ListOutbox(ctx context.Context, tenantID int64, f roster.OutboxFilter) ([]roster.OutboxMessage, int, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.Channel != "" {
		where = append(where, "channel = ?")
		args = append(args, f.Channel)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := q.queryRow(ctx, `SELECT count(*) FROM outbox_messages WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, q.d.mapErr(err)
	}
	rows, err := q.query(ctx, `SELECT `+outboxColumns+` FROM outbox_messages WHERE `+cond+` ORDER BY id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []roster.OutboxMessage{}
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// ClaimOutbox leases due messages. On PostgreSQL, FOR UPDATE SKIP LOCKED lets
// replicas claim side by side without waiting on or taking each other's
// rows; on SQLite the write transaction is taken up front (BEGIN IMMEDIATE),
// so two workers claim one after the other. An expired lease (a worker that
// died mid-delivery) makes the message claimable again.
func (q *queries) ClaimOutbox(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]roster.OutboxMessage, error) {
	lock := ""
	if q.d.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := q.query(ctx, `UPDATE outbox_messages SET lease_until = ?, claim = ?
		WHERE id IN (SELECT id FROM outbox_messages WHERE status = 'pending' AND next_attempt_at <= ?
			AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING `+outboxColumns, ms(leaseUntil), claim, ms(now), ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (q *queries) FinishOutbox(ctx context.Context, m *roster.OutboxMessage, claim string) error {
	var secret any
	if m.Status == roster.OutboxPending {
		secret = nullString(m.Secret) // kept for the next attempt
	}
	res, err := q.exec(ctx, `UPDATE outbox_messages SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
		updated_at = ?, secret = ?, lease_until = NULL, claim = NULL
		WHERE tenant_id = ? AND id = ? AND claim = ? AND status = 'pending'`,
		m.Status, m.Attempts, ms(m.NextAttemptAt), m.LastError, nullMS(m.SentAt), ms(m.UpdatedAt), secret, m.TenantID, m.ID, claim)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "outbox message %d is no longer held by this worker", m.ID)
	}
	return nil
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
