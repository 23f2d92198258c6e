package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

func (q *queries) TOTPFactor(ctx context.Context, tenantID, userID int64) (*roster.TOTPFactor, error) {
	f := roster.TOTPFactor{TenantID: tenantID, UserID: userID}
	var confirmed sql.NullInt64
	var created int64
	err := q.queryRow(ctx, `SELECT secret_enc, confirmed_at, last_step, created_at FROM mfa_totp WHERE tenant_id = ? AND user_id = ?`,
		tenantID, userID).Scan(&f.Sealed, &confirmed, &f.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no authenticator app is set up")
	}
	if err != nil {
		return nil, err
	}
	f.ConfirmedAt, f.CreatedAt = fromNullMS(confirmed), fromMS(created)
	return &f, nil
}

func (q *queries) PutTOTPFactor(ctx context.Context, f *roster.TOTPFactor) error {
	if _, err := q.exec(ctx, `DELETE FROM mfa_totp WHERE tenant_id = ? AND user_id = ?`, f.TenantID, f.UserID); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO mfa_totp (tenant_id, user_id, secret_enc, confirmed_at, last_step, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		f.TenantID, f.UserID, f.Sealed, nullMS(f.ConfirmedAt), f.LastStep, ms(f.CreatedAt))
	return err
}

func (q *queries) UseTOTPStep(ctx context.Context, tenantID, userID, step int64) (bool, error) {
	res, err := q.exec(ctx, `UPDATE mfa_totp SET last_step = ? WHERE tenant_id = ? AND user_id = ? AND last_step < ?`,
		step, tenantID, userID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *queries) DeleteTOTPFactor(ctx context.Context, tenantID, userID int64) error {
	_, err := q.exec(ctx, `DELETE FROM mfa_totp WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
	return err
}

func (q *queries) ReplaceRecoveryCodes(ctx context.Context, tenantID, userID int64, hashes [][]byte) error {
	if _, err := q.exec(ctx, `DELETE FROM mfa_recovery_codes WHERE tenant_id = ? AND user_id = ?`, tenantID, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := q.exec(ctx, `INSERT INTO mfa_recovery_codes (tenant_id, user_id, code_hash) VALUES (?, ?, ?)`, tenantID, userID, h); err != nil {
			return err
		}
	}
	return nil
}

func (q *queries) UseRecoveryCode(ctx context.Context, tenantID, userID int64, hash []byte, at time.Time) (bool, error) {
	res, err := q.exec(ctx, `UPDATE mfa_recovery_codes SET used_at = ? WHERE tenant_id = ? AND user_id = ? AND code_hash = ? AND used_at IS NULL`,
		ms(at), tenantID, userID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (q *queries) RecoveryCodesLeft(ctx context.Context, tenantID, userID int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT count(*) FROM mfa_recovery_codes WHERE tenant_id = ? AND user_id = ? AND used_at IS NULL`,
		tenantID, userID).Scan(&n)
	return n, err
}

func (q *queries) CreatePasskey(ctx context.Context, p *roster.Passkey) error {
	id, err := q.insert(ctx, `INSERT INTO mfa_passkeys (tenant_id, user_id, name, credential_id, credential, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.TenantID, p.UserID, p.Name, p.CredentialID, string(p.Credential), ms(p.CreatedAt))
	if roster.ErrorCode(err) == roster.EConflict {
		return roster.Errorf(roster.EConflict, "this passkey is registered already")
	}
	if err != nil {
		return err
	}
	p.ID = id
	return nil
}

const passkeyColumns = `id, tenant_id, user_id, name, credential_id, credential, created_at, last_used_at`

func scanPasskey(s interface{ Scan(...any) error }) (*roster.Passkey, error) {
	var p roster.Passkey
	var cred string
	var created int64
	var used sql.NullInt64
	if err := s.Scan(&p.ID, &p.TenantID, &p.UserID, &p.Name, &p.CredentialID, &cred, &created, &used); err != nil {
		return nil, err
	}
	p.Credential, p.CreatedAt, p.LastUsedAt = []byte(cred), fromMS(created), fromNullMS(used)
	return &p, nil
}

func (q *queries) Passkeys(ctx context.Context, tenantID, userID int64) ([]roster.Passkey, error) {
	rows, err := q.query(ctx, `SELECT `+passkeyColumns+` FROM mfa_passkeys WHERE tenant_id = ? AND user_id = ? ORDER BY id`, tenantID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

func (q *queries) PasskeyByCredentialID(ctx context.Context, tenantID int64, credentialID []byte) (*roster.Passkey, error) {
	p, err := scanPasskey(q.queryRow(ctx, `SELECT `+passkeyColumns+` FROM mfa_passkeys WHERE tenant_id = ? AND credential_id = ?`,
		tenantID, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "this passkey is not registered here")
	}
	return p, err
}

func (q *queries) PasskeyUsed(ctx context.Context, p *roster.Passkey) error {
	_, err := q.exec(ctx, `UPDATE mfa_passkeys SET credential = ?, last_used_at = ? WHERE tenant_id = ? AND id = ?`,
		string(p.Credential), nullMS(p.LastUsedAt), p.TenantID, p.ID)
	return err
}

func (q *queries) DeletePasskey(ctx context.Context, tenantID, userID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM mfa_passkeys WHERE tenant_id = ? AND user_id = ? AND id = ?`, tenantID, userID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return roster.Errorf(roster.ENotFound, "no such passkey")
	}
	return nil
}

func (q *queries) DeleteFactors(ctx context.Context, tenantID, userID int64) (int, error) {
	total := 0
	for _, table := range []string{"mfa_totp", "mfa_recovery_codes", "mfa_passkeys"} {
		res, err := q.exec(ctx, `DELETE FROM `+table+` WHERE tenant_id = ? AND user_id = ?`, tenantID, userID)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		if table != "mfa_recovery_codes" {
			total += int(n)
		}
	}
	return total, nil
}

func (q *queries) CreateMFAChallenge(ctx context.Context, c *roster.MFAChallenge) error {
	id, err := q.insert(ctx, `INSERT INTO mfa_challenges (token_hash, tenant_id, user_id, account, password_ok, stage, ceremony, enrol_secret,
		previous_hash, ip, user_agent, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.TokenHash, c.TenantID, c.UserID, c.Account, c.PasswordOK, c.Stage, c.Ceremony, c.EnrolSecret, c.PreviousHash,
		c.IP, c.UserAgent, ms(c.CreatedAt), ms(c.ExpiresAt))
	if err != nil {
		return err
	}
	c.ID = id
	return nil
}

func (q *queries) MFAChallengeByHash(ctx context.Context, tokenHash []byte) (*roster.MFAChallenge, error) {
	var c roster.MFAChallenge
	var created, expires int64
	err := q.queryRow(ctx, `SELECT id, token_hash, tenant_id, user_id, account, password_ok, stage, ceremony, enrol_secret, previous_hash,
		ip, user_agent, created_at, expires_at FROM mfa_challenges WHERE token_hash = ?`, tokenHash).Scan(&c.ID, &c.TokenHash, &c.TenantID,
		&c.UserID, &c.Account, &c.PasswordOK, &c.Stage, &c.Ceremony, &c.EnrolSecret, &c.PreviousHash, &c.IP, &c.UserAgent, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, roster.Errorf(roster.ENotFound, "no such sign-in step")
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt = fromMS(created), fromMS(expires)
	return &c, nil
}

func (q *queries) UpdateMFAChallenge(ctx context.Context, c *roster.MFAChallenge) error {
	_, err := q.exec(ctx, `UPDATE mfa_challenges SET ceremony = ?, enrol_secret = ? WHERE id = ?`, c.Ceremony, c.EnrolSecret, c.ID)
	return err
}

func (q *queries) DeleteMFAChallenge(ctx context.Context, id int64) error {
	_, err := q.exec(ctx, `DELETE FROM mfa_challenges WHERE id = ?`, id)
	return err
}

func (q *queries) DeleteExpiredMFAChallenges(ctx context.Context, before time.Time) error {
	_, err := q.exec(ctx, `DELETE FROM mfa_challenges WHERE expires_at < ?`, ms(before))
	return err
}
