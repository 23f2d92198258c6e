package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// mergeChunk staged rows are written in one transaction: a few hundred
// milliseconds of SQLite's write lock at most, so sign-ins and writes of
// other tenants wait no longer than for any other write.
const mergeChunk = 1000

// target builds the user a checked row becomes, and what to stage for it:
// the whole user when it is new, the fields that differ when it exists
// (nil when nothing does).
func (c *importCheck) target(row *importRow) (*User, *stagedUser) {
	in := &row.rec.in
	st := &stagedUser{Row: row.rec.row, Username: in.Username.V}
	before := row.before
	u := &User{Username: in.Username.V, Roles: []string{DefaultRoleKey}, Nicknames: []string{}, GroupAccess: []int64{}, AgentIDs: []int64{}}
	if before != nil {
		u, st.ID = cloneUser(before), before.ID
	}
	changed := false
	str := func(dst *string, o Opt[string], patch **string) {
		if o.Set && *dst != o.V {
			*dst, changed = o.V, true
			v := o.V
			*patch = &v
		}
	}
	str(&u.Name, in.Name, &st.Name)
	str(&u.Email, in.Email, &st.Email)
	str(&u.Mobile, in.Mobile, &st.Mobile)
	str(&u.Language, in.Language, &st.Language)
	str(&u.RingTo, in.RingTo, &st.RingTo)
	if in.GroupID.Set && u.GroupID != in.GroupID.V {
		u.GroupID, changed = in.GroupID.V, true
		st.GroupID = &u.GroupID
	}
	if in.Roles.Set {
		roles := []string{}
		for _, k := range in.Roles.V {
			if c.g.roles[k] != nil && !slices.Contains(roles, k) {
				roles = append(roles, k)
			}
		}
		// Stored roles come back in role order; compare in the same order.
		slices.SortFunc(roles, func(x, y string) int { return int(c.g.roles[x].ID - c.g.roles[y].ID) })
		if !slices.Equal(roles, u.Roles) || before == nil {
			u.Roles, changed, st.Roles = roles, true, roles
		}
	}
	if n := in.AgentNumber; n.Set {
		same := (n.Null && u.AgentNumber == nil) || (!n.Null && u.AgentNumber != nil && *u.AgentNumber == n.V)
		if !same {
			changed = true
			if n.Null {
				u.AgentNumber, st.NoNumber = nil, true
			} else {
				v := n.V
				u.AgentNumber, st.AgentNumber = &v, &v
			}
		}
	}
	if in.Nicknames.Set && !slices.Equal(in.Nicknames.V, u.Nicknames) {
		u.Nicknames, changed = in.Nicknames.V, true
		st.Nicknames = &u.Nicknames
	}
	flag := func(dst *bool, o Opt[bool], patch **bool) {
		if o.Set && *dst != o.V {
			*dst, changed = o.V, true
			v := o.V
			*patch = &v
		}
	}
	flag(&u.ScoringEnabled, in.ScoringEnabled, &st.Scoring)
	flag(&u.Roaming, in.Roaming, &st.Roaming)
	if in.GroupAccess.Set {
		access := slices.Clone(in.GroupAccess.V)
		slices.Sort(access)
		if !slices.Equal(access, u.GroupAccess) {
			u.GroupAccess, changed = access, true
			st.GroupAccess = &access
		}
	}
	if in.AgentIDs.Set && !sameKeys(row.agents, row.beforeAgents) {
		agents := slices.Clone(row.agents)
		changed, st.Agents = true, &agents
	}
	if before == nil {
		if u.Name == "" {
			u.Name = u.Username
		}
		// A new user is staged whole.
		st.Name, st.Email, st.Mobile, st.Language, st.RingTo = &u.Name, &u.Email, &u.Mobile, &u.Language, &u.RingTo
		st.GroupID, st.Roles, st.AgentNumber = &u.GroupID, u.Roles, u.AgentNumber
		st.Nicknames, st.Scoring, st.Roaming, st.GroupAccess = &u.Nicknames, &u.ScoringEnabled, &u.Roaming, &u.GroupAccess
		return u, st
	}
	if !changed {
		return u, nil
	}
	return u, st
}

func sameKeys(a, b []AgentKey) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range a {
		if !slices.Contains(b, k) {
			return false
		}
	}
	return true
}

// apply writes the staged changes into u (a copy of the stored user).
func (st *stagedUser) apply(u *User) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Name, st.Name)
	set(&u.Email, st.Email)
	set(&u.Mobile, st.Mobile)
	set(&u.Language, st.Language)
	set(&u.RingTo, st.RingTo)
	if st.GroupID != nil {
		u.GroupID = *st.GroupID
	}
	if st.Roles != nil {
		u.Roles = slices.Clone(st.Roles)
	}
	if st.AgentNumber != nil {
		n := *st.AgentNumber
		u.AgentNumber = &n
	}
	if st.NoNumber {
		u.AgentNumber = nil
	}
	if st.Nicknames != nil {
		u.Nicknames = slices.Clone(*st.Nicknames)
	}
	if st.Scoring != nil {
		u.ScoringEnabled = *st.Scoring
	}
	if st.Roaming != nil {
		u.Roaming = *st.Roaming
	}
	if st.GroupAccess != nil {
		u.GroupAccess = slices.Clone(*st.GroupAccess)
	}
}

// mergeImport writes a merging job's staged rows, a chunk per transaction,
// until none is left, and marks the job done.
func (s *Service) mergeImport(ctx context.Context, a *Actor, job *ImportJob, progress func(string, int)) error {
	r := s.store.Read()
	t, err := r.TenantByID(ctx, job.TenantID)
	if err != nil {
		return err
	}
	inviter := ""
	if job.Invite {
		if inviter, err = s.inviterName(ctx, r, a); err != nil && ErrorCode(err) != ENotFound {
			return err
		}
	}
	for {
		var cur *ImportJob
		err := s.inTx(ctx, func(tx Tx) error {
			var err error
			// Locks the job (PostgreSQL), so two processes resuming it take
			// turns, each chunk's rows read afresh.
			if cur, err = tx.LockImportJob(ctx, job.TenantID, job.ID); err != nil {
				return err
			}
			if cur.State != ImportMerging {
				return nil
			}
			rows, err := tx.StagedImportRows(ctx, job.TenantID, job.ID, cur.MergedRow, mergeChunk)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				cur.State = ImportDone
			} else if err := s.mergeChunk(ctx, tx, a, t, inviter, cur, rows); err != nil {
				return err
			}
			cur.UpdatedAt = s.Now()
			return tx.UpdateImportJob(ctx, cur)
		})
		if err != nil {
			return err
		}
		*job = *cur
		if job.Invite {
			s.notifyOutbox()
		}
		if job.State != ImportMerging {
			return nil
		}
		if progress != nil {
			progress("written", job.Created+job.Updated)
		}
	}
}

// mergeChunk writes one chunk of staged rows and deletes them from the stage.
func (s *Service) mergeChunk(ctx context.Context, tx Tx, a *Actor, t *Tenant, inviter string, job *ImportJob, rows []StagedImportRow) error {
	users := make([]stagedUser, len(rows))
	var names []string
	var deltas []AgentDelta
	seen := map[AgentKey]bool{}
	now := s.Now()
	for i, sr := range rows {
		if err := json.Unmarshal(sr.Data, &users[i]); err != nil {
			return fmt.Errorf("import job %d row %d: %w", job.ID, sr.Row, err)
		}
		if users[i].ID != 0 {
			names = append(names, strings.ToLower(users[i].Username))
		}
		if users[i].Agents != nil {
			for _, k := range *users[i].Agents {
				if !seen[k] {
					seen[k] = true
					deltas = append(deltas, AgentDelta{Key: k, CreatedAt: now})
				}
			}
		}
	}
	agentIDs := map[AgentKey]int64{}
	if len(deltas) > 0 { // agent IDs not seen yet are created, so agents can be provisioned before their first call
		if err := tx.UpsertAgentIDs(ctx, t.ID, deltas); err != nil {
			return err
		}
		for _, d := range deltas {
			agentIDs[d.Key] = d.ID
		}
	}
	stored := map[string]*User{}
	if len(names) > 0 {
		found, err := tx.UsersByUsernames(ctx, t.ID, names)
		if err != nil {
			return err
		}
		for i := range found {
			stored[strings.ToLower(found[i].Username)] = &found[i]
		}
	}
	if err := s.importCreatesTx(ctx, tx, a, t, inviter, job, users, agentIDs); err != nil {
		return err
	}
	for i := range users {
		st := &users[i]
		if st.ID == 0 {
			continue
		}
		if err := s.importUpdateTx(ctx, tx, a, job, st, stored[strings.ToLower(st.Username)], agentIDs); err != nil {
			return importRowFailed(job, st, err)
		}
	}
	last := rows[len(rows)-1].Row
	if err := tx.DeleteStagedImportRows(ctx, t.ID, job.ID, job.MergedRow, last); err != nil {
		return err
	}
	job.MergedRow = last
	return nil
}

// importRowFailed names the row a write failed on (a conflict with a change
// made since the file was checked); outages pass as they are.
func importRowFailed(job *ImportJob, st *stagedUser, err error) error {
	code := ErrorCode(err)
	if code == EUnavailable || code == EInternal {
		return err
	}
	row := "a row"
	if st != nil {
		row = fmt.Sprintf("row %d", st.Row)
	}
	return Errorf(code, "%s: %s (the rows before it are written; once this is resolved, `roster user import --resume` finishes import %d)",
		row, ErrorMessage(err), job.ID)
}

// importCreatesTx writes the chunk's new users with bulk statements
// (CreateUsers, HoldAgentIDs, AddAudits): the same rows, triggers and
// events as CreateUser, in a few statements instead of a dozen per user.
func (s *Service) importCreatesTx(ctx context.Context, tx Tx, a *Actor, t *Tenant, inviter string, job *ImportJob, staged []stagedUser, agentIDs map[AgentKey]int64) error {
	now := s.Now()
	status := StatusActive
	if job.Invite {
		status = StatusInvited
	}
	var users []*User
	var rows []*stagedUser
	for i := range staged {
		st := &staged[i]
		if st.ID != 0 {
			continue
		}
		u := &User{TenantID: t.ID, Username: st.Username, Status: status, Roles: []string{}, Nicknames: []string{},
			GroupAccess: []int64{}, AgentIDs: []int64{}, CreatedAt: now, UpdatedAt: now}
		st.apply(u)
		users, rows = append(users, u), append(rows, st)
	}
	if len(users) == 0 {
		return nil
	}
	if err := tx.CreateUsers(ctx, t.ID, users); err != nil {
		return importRowFailed(job, nil, err)
	}
	var holds []AgentHold
	for i, u := range users {
		if rows[i].Agents == nil {
			continue
		}
		for _, k := range *rows[i].Agents {
			holds = append(holds, AgentHold{AgentID: agentIDs[k], UserID: u.ID})
			u.AgentIDs = append(u.AgentIDs, agentIDs[k])
		}
		slices.Sort(u.AgentIDs)
	}
	if len(holds) > 0 {
		if err := tx.HoldAgentIDs(ctx, t.ID, holds); err != nil {
			return importRowFailed(job, nil, err)
		}
	}
	events := make([]*AuditEvent, len(users))
	for i, u := range users {
		events[i] = s.auditEvent(ctx, a, "user.create", "user", u.ID, nil, u)
	}
	if err := tx.AddAudits(ctx, events); err != nil {
		return err
	}
	// Webhooks as for any audited change; one query when none are set up.
	if hooks, err := tx.EnabledWebhooks(ctx, t.ID); err != nil {
		return err
	} else if len(hooks) > 0 {
		for _, e := range events {
			if err := s.emitWebhooks(ctx, tx, e); err != nil {
				return err
			}
		}
	}
	job.Created += len(users)
	if job.Invite {
		for i, u := range users {
			if _, err := s.createInvitationTx(ctx, tx, a, t, u, inviter); err != nil { // the email goes through the outbox
				return importRowFailed(job, rows[i], err)
			}
		}
	}
	return nil
}

func (s *Service) importUpdateTx(ctx context.Context, tx Tx, a *Actor, job *ImportJob, st *stagedUser, before *User, agentIDs map[AgentKey]int64) error {
	if before == nil || before.ID != st.ID {
		return Errorf(EConflict, "the user %s was deleted or renamed since the file was checked", st.Username)
	}
	u := cloneUser(before)
	st.apply(u)
	u.UpdatedAt = s.Now()
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := s.holdImportAgents(ctx, tx, u, st, agentIDs); err != nil {
		return err
	}
	if err := s.noticeContactChanged(ctx, tx, a, u, before); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, "user.update", "user", u.ID, before, u); err != nil {
		return err
	}
	job.Updated++
	return nil
}

// holdImportAgents makes the row's agent IDs the user's (when the file
// names them): the others are released, an agent ID another user took
// meanwhile is a conflict.
func (s *Service) holdImportAgents(ctx context.Context, tx Tx, u *User, st *stagedUser, agentIDs map[AgentKey]int64) error {
	if st.Agents == nil {
		return nil
	}
	keep := make([]int64, 0, len(*st.Agents))
	for _, k := range *st.Agents {
		keep = append(keep, agentIDs[k])
	}
	if st.ID != 0 {
		if err := tx.ReleaseAgentIDs(ctx, u.TenantID, u.ID, keep); err != nil {
			return err
		}
	}
	for i, id := range keep {
		ok, err := tx.HoldAgentID(ctx, u.TenantID, id, u.ID)
		if err != nil {
			return err
		}
		if !ok {
			return conflictField(ReasonAgentIDHeld, "agent_ids", "the agent ID %s was given to another user since the file was checked", (*st.Agents)[i])
		}
	}
	slices.Sort(keep)
	u.AgentIDs = keep
	return nil
}
