package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Properties, their group and user values, skills and profiles.

const propertyColumns = `id, tenant_id, key, label, type, default_value, choices, builtin, created_at, updated_at`

func scanProperty(s interface{ Scan(...any) error }) (roster.Property, error) {
	var p roster.Property
	var def, choices string
	var created, updated int64
	if err := s.Scan(&p.ID, &p.TenantID, &p.Key, &p.Label, &p.Type, &def, &choices, &p.Builtin, &created, &updated); err != nil {
		return p, err
	}
	p.Default = json.RawMessage(def)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	p.Choices = []string{}
	return p, json.Unmarshal([]byte(choices), &p.Choices)
}

func (q *queries) CreateProperty(ctx context.Context, p *roster.Property) error {
	var err error
	p.ID, err = q.insert(ctx, `INSERT INTO properties (tenant_id, key, label, type, default_value, choices, builtin, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.TenantID, p.Key, p.Label, p.Type, string(p.Default), jsonText(p.Choices), p.Builtin, ms(p.CreatedAt), ms(p.UpdatedAt))
	return err
}

func (q *queries) UpdateProperty(ctx context.Context, p *roster.Property) error {
	res, err := q.exec(ctx, `UPDATE properties SET label = ?, default_value = ?, choices = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		p.Label, string(p.Default), jsonText(p.Choices), ms(p.UpdatedAt), p.TenantID, p.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("property", p.ID)
	}
	return nil
}

// DeleteProperty also removes its values (ON DELETE CASCADE).
func (q *queries) DeleteProperty(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM properties WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("property", id)
	}
	return nil
}

func (q *queries) ListProperties(ctx context.Context, tenantID int64) ([]roster.Property, error) {
	rows, err := q.query(ctx, `SELECT `+propertyColumns+` FROM properties WHERE tenant_id = ? ORDER BY key`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Property{}
	for rows.Next() {
		p, err := scanProperty(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func scanValues(rows *sql.Rows, err error) ([]roster.PropertyValue, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.PropertyValue{}
	for rows.Next() {
		var v roster.PropertyValue
		var val string
		if err := rows.Scan(&v.PropertyID, &v.GroupID, &v.UserID, &val); err != nil {
			return nil, err
		}
		v.Value = json.RawMessage(val)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (q *queries) PropertyValuesOf(ctx context.Context, tenantID, propertyID int64) ([]roster.PropertyValue, error) {
	return scanValues(q.query(ctx, `
		SELECT property_id, group_id, 0, value FROM group_property_values WHERE tenant_id = ? AND property_id = ?
		UNION ALL
		SELECT property_id, 0, user_id, value FROM user_property_values WHERE tenant_id = ? AND property_id = ?`,
		tenantID, propertyID, tenantID, propertyID))
}

// GroupChain walks up the tree with a recursive query; the depth guard keeps
// a corrupted tree from looping.
func (q *queries) GroupChain(ctx context.Context, tenantID, groupID int64) ([]int64, error) {
	rows, err := q.query(ctx, `WITH RECURSIVE chain (id, parent_id, depth) AS (
			SELECT id, parent_id, 0 FROM org_groups WHERE tenant_id = ? AND id = ?
			UNION ALL
			SELECT g.id, g.parent_id, c.depth + 1 FROM org_groups g JOIN chain c ON g.tenant_id = ? AND g.id = c.parent_id
			WHERE c.depth < 64
		)
		SELECT id FROM chain ORDER BY depth`, tenantID, groupID, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, notFound("group", groupID)
	}
	return out, nil
}

func (q *queries) GroupPropertyValues(ctx context.Context, tenantID int64, groupIDs []int64) ([]roster.PropertyValue, error) {
	if len(groupIDs) == 0 {
		return []roster.PropertyValue{}, nil
	}
	args := []any{tenantID}
	for _, g := range groupIDs {
		args = append(args, g)
	}
	return scanValues(q.query(ctx, `SELECT property_id, group_id, 0, value FROM group_property_values
		WHERE tenant_id = ? AND group_id IN (`+placeholders(len(groupIDs))+`)`, args...))
}

func (q *queries) UserPropertyValues(ctx context.Context, tenantID, userID int64) ([]roster.PropertyValue, error) {
	return scanValues(q.query(ctx, `SELECT property_id, 0, user_id, value FROM user_property_values
		WHERE tenant_id = ? AND user_id = ?`, tenantID, userID))
}

// upsertValue is the same statement in both dialects.
func (q *queries) upsertValue(ctx context.Context, table, ownerCol string, tenantID, ownerID, propertyID int64, value json.RawMessage, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO `+table+` (tenant_id, `+ownerCol+`, property_id, value, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, `+ownerCol+`, property_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		tenantID, ownerID, propertyID, string(value), ms(at))
	return err
}

func (q *queries) SetGroupPropertyValue(ctx context.Context, tenantID, groupID, propertyID int64, value json.RawMessage, at time.Time) error {
	return q.upsertValue(ctx, "group_property_values", "group_id", tenantID, groupID, propertyID, value, at)
}

func (q *queries) SetUserPropertyValue(ctx context.Context, tenantID, userID, propertyID int64, value json.RawMessage, at time.Time) error {
	return q.upsertValue(ctx, "user_property_values", "user_id", tenantID, userID, propertyID, value, at)
}

func (q *queries) DeleteGroupPropertyValue(ctx context.Context, tenantID, groupID, propertyID int64) error {
	_, err := q.exec(ctx, `DELETE FROM group_property_values WHERE tenant_id = ? AND group_id = ? AND property_id = ?`, tenantID, groupID, propertyID)
	return err
}

func (q *queries) DeleteUserPropertyValue(ctx context.Context, tenantID, userID, propertyID int64) error {
	_, err := q.exec(ctx, `DELETE FROM user_property_values WHERE tenant_id = ? AND user_id = ? AND property_id = ?`, tenantID, userID, propertyID)
	return err
}

func scanSkill(s interface{ Scan(...any) error }) (roster.Skill, error) {
	var sk roster.Skill
	var created, updated int64
	err := s.Scan(&sk.ID, &sk.TenantID, &sk.Name, &created, &updated)
	sk.CreatedAt, sk.UpdatedAt = fromMS(created), fromMS(updated)
	return sk, err
}

func (q *queries) CreateSkill(ctx context.Context, sk *roster.Skill) error {
	var err error
	sk.ID, err = q.insert(ctx, `INSERT INTO skills (tenant_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`,
		sk.TenantID, sk.Name, ms(sk.CreatedAt), ms(sk.UpdatedAt))
	return err
}

func (q *queries) UpdateSkill(ctx context.Context, sk *roster.Skill) error {
	res, err := q.exec(ctx, `UPDATE skills SET name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		sk.Name, ms(sk.UpdatedAt), sk.TenantID, sk.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("skill", sk.ID)
	}
	return nil
}

func (q *queries) DeleteSkill(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM skills WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("skill", id)
	}
	return nil
}

func (q *queries) Skill(ctx context.Context, tenantID, id int64) (*roster.Skill, error) {
	sk, err := scanSkill(q.queryRow(ctx, `SELECT id, tenant_id, name, created_at, updated_at FROM skills WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("skill", id)
	}
	if err != nil {
		return nil, err
	}
	return &sk, nil
}

func (q *queries) ListSkills(ctx context.Context, tenantID int64) ([]roster.Skill, error) {
	rows, err := q.query(ctx, `SELECT id, tenant_id, name, created_at, updated_at FROM skills WHERE tenant_id = ? ORDER BY lower(name), id`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []roster.Skill{}
	for rows.Next() {
		sk, err := scanSkill(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sk)
	}
	return out, rows.Err()
}

func (q *queries) SkillUsage(ctx context.Context, tenantID, id int64) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT count(*) FROM profile_skills WHERE tenant_id = ? AND skill_id = ?`, tenantID, id).Scan(&n)
	return n, err
}

func (q *queries) CreateProfile(ctx context.Context, p *roster.Profile) error {
	var err error
	p.ID, err = q.insert(ctx, `INSERT INTO profiles (tenant_id, name, group_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.TenantID, p.Name, nullInt(p.GroupID), nullInt(p.UserID), ms(p.CreatedAt), ms(p.UpdatedAt))
	if err != nil {
		return err
	}
	return q.writeProfileSkills(ctx, p)
}

func (q *queries) UpdateProfile(ctx context.Context, p *roster.Profile) error {
	res, err := q.exec(ctx, `UPDATE profiles SET name = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`, p.Name, ms(p.UpdatedAt), p.TenantID, p.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("profile", p.ID)
	}
	if _, err := q.exec(ctx, `DELETE FROM profile_skills WHERE tenant_id = ? AND profile_id = ?`, p.TenantID, p.ID); err != nil {
		return err
	}
	return q.writeProfileSkills(ctx, p)
}

func (q *queries) writeProfileSkills(ctx context.Context, p *roster.Profile) error {
	for _, s := range p.Skills {
		if _, err := q.exec(ctx, `INSERT INTO profile_skills (tenant_id, profile_id, skill_id, level) VALUES (?, ?, ?, ?)`,
			p.TenantID, p.ID, s.SkillID, s.Level); err != nil {
			return err
		}
	}
	return nil
}

func (q *queries) DeleteProfile(ctx context.Context, tenantID, id int64) error {
	res, err := q.exec(ctx, `DELETE FROM profiles WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("profile", id)
	}
	return nil
}

func (q *queries) Profile(ctx context.Context, tenantID, id int64) (*roster.Profile, error) {
	ps, err := q.profiles(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, notFound("profile", id)
	}
	return &ps[0], nil
}

func (q *queries) ListProfiles(ctx context.Context, tenantID int64, f roster.ProfileFilter) ([]roster.Profile, error) {
	var parts []string
	var args []any
	if len(f.GroupIDs) > 0 {
		parts = append(parts, "SELECT id FROM profiles WHERE tenant_id = ? AND group_id IN ("+placeholders(len(f.GroupIDs))+")")
		args = append(args, tenantID)
		for _, g := range f.GroupIDs {
			args = append(args, g)
		}
	}
	if f.UserID != 0 {
		parts = append(parts, "SELECT id FROM profiles WHERE tenant_id = ? AND user_id = ?")
		args = append(args, tenantID, f.UserID)
	}
	if len(parts) == 0 {
		return []roster.Profile{}, nil
	}
	// Each part through its own index (profiles_group, profiles_user).
	return q.profiles(ctx, `tenant_id = ? AND id IN (`+strings.Join(parts, " UNION ALL ")+`)`, append([]any{tenantID}, args...)...)
}

// profiles reads the profiles matching where, then their skills in one query.
func (q *queries) profiles(ctx context.Context, where string, args ...any) ([]roster.Profile, error) {
	rows, err := q.query(ctx, `SELECT id, tenant_id, name, group_id, user_id, created_at, updated_at FROM profiles WHERE `+where+
		` ORDER BY lower(name), id`, args...)
	if err != nil {
		return nil, err
	}
	out := []roster.Profile{}
	idx := map[int64]int{}
	for rows.Next() {
		var p roster.Profile
		var group, user sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&p.ID, &p.TenantID, &p.Name, &group, &user, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		p.Kind = roster.ProfilePersonal
		if group.Valid {
			p.Kind, p.GroupID = roster.ProfileGroup, &group.Int64
		}
		if user.Valid {
			p.UserID = &user.Int64
		}
		p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
		p.Skills = []roster.ProfileSkill{}
		idx[p.ID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	sargs := []any{out[0].TenantID}
	for _, p := range out {
		sargs = append(sargs, p.ID)
	}
	rows, err = q.query(ctx, `SELECT ps.profile_id, ps.skill_id, s.name, ps.level FROM profile_skills ps
		JOIN skills s ON s.tenant_id = ps.tenant_id AND s.id = ps.skill_id
		WHERE ps.tenant_id = ? AND ps.profile_id IN (`+placeholders(len(out))+`) ORDER BY lower(s.name), s.id`, sargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var pid int64
		var s roster.ProfileSkill
		if err := rows.Scan(&pid, &s.SkillID, &s.Name, &s.Level); err != nil {
			return nil, err
		}
		out[idx[pid]].Skills = append(out[idx[pid]].Skills, s)
	}
	return out, rows.Err()
}

func (q *queries) DisabledGroupProfiles(ctx context.Context, tenantID, userID int64) ([]int64, error) {
	return q.int64s(ctx, `SELECT profile_id FROM user_group_profiles_off WHERE tenant_id = ? AND user_id = ? ORDER BY profile_id`, tenantID, userID)
}

func (q *queries) GroupProfileSwitchedOff(ctx context.Context, tenantID, profileID int64) ([]int64, error) {
	return q.int64s(ctx, `SELECT user_id FROM user_group_profiles_off WHERE tenant_id = ? AND profile_id = ? ORDER BY user_id`, tenantID, profileID)
}

// int64s reads a one-column list of integers.
func (q *queries) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (q *queries) SetDisabledGroupProfiles(ctx context.Context, tenantID, userID int64, profileIDs []int64) error {
	if _, err := q.exec(ctx, `DELETE FROM user_group_profiles_off WHERE tenant_id = ? AND user_id = ?`, tenantID, userID); err != nil {
		return err
	}
	for _, id := range profileIDs {
		if _, err := q.exec(ctx, `INSERT INTO user_group_profiles_off (tenant_id, user_id, profile_id) VALUES (?, ?, ?)`, tenantID, userID, id); err != nil {
			return err
		}
	}
	return nil
}
