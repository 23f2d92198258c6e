package roster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// checkChunk rows are looked up in the database together.
const checkChunk = 1000

// importCheck checks the rows of one file. What it needs of the database it
// reads once (tenant, roles, groups, the actor's grants and scope) or per
// chunk of rows (who holds a username, email, agent number or agent ID).
type importCheck struct {
	s      *Service
	a      *Actor
	opts   ImportOptions
	tenant *Tenant
	g      *grantor
	scope  *ScopeFilter // the actor's, over all their roles (groupsInScope)
	manage *ScopeFilter // through users.manage (userInScope, actOn)
	tree   *groupTree
	paths  map[string]int64 // lower-case path -> group id, filled as paths are seen
	out    *bufio.Writer    // the checked rows as stagedUser lines; nil on a dry run

	seenUser   map[string]int // lower-case username -> row
	seenEmail  map[string]int
	seenNumber map[int64]int
	seenAgent  map[AgentKey]int

	rep    *ImportReport
	staged int
}

func (s *Service) newImportCheck(ctx context.Context, a *Actor, opts ImportOptions, out *bufio.Writer) (*importCheck, error) {
	r := s.store.Read()
	t, err := r.TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	roles, err := r.ListRoles(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	g, err := s.grantorOf(ctx, r, a, roles) // one grantor for every row
	if err != nil {
		return nil, err
	}
	tree, err := loadTree(ctx, r, a.TenantID)
	if err != nil {
		return nil, err
	}
	c := &importCheck{s: s, a: a, opts: opts, tenant: t, g: g, tree: tree, paths: map[string]int64{}, out: out,
		seenUser: map[string]int{}, seenEmail: map[string]int{}, seenNumber: map[int64]int{}, seenAgent: map[AgentKey]int{},
		rep: &ImportReport{Errors: []ImportRowError{}}}
	if c.scope, err = s.scopeOf(ctx, a); err != nil {
		return nil, err
	}
	if c.manage, err = s.scopeOf(ctx, a, PermUsersManage); err != nil {
		return nil, err
	}
	return c, nil
}

// run reads and checks the whole file and returns the report and how many
// rows were spooled for writing.
func (c *importCheck) run(ctx context.Context, src io.Reader) (*ImportReport, int, error) {
	f, err := openUsersCSV(src, c.opts.Delimiter)
	var header importInvalid
	if errors.As(err, &header) {
		c.addErrors(header)
		c.rep.Failed = 1
		return c.rep, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	lang := ""
	if len(c.tenant.Settings.Languages) > 0 {
		lang = c.tenant.Settings.Languages[0]
	}
	chunk := make([]*csvRecord, 0, checkChunk)
	rows := 0
	for {
		rec, stop, err := f.next(c.opts.Mode == ImportCreate, lang)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		if rec != nil {
			if rows++; rows > MaxImportRows {
				c.addErrors([]ImportRowError{rowError(rec.row, "", "a file holds at most %d rows", MaxImportRows)})
				c.rep.Failed++
				break
			}
			chunk = append(chunk, rec)
		}
		if len(chunk) == checkChunk || (stop && len(chunk) > 0) {
			if err := c.checkChunk(ctx, chunk, lang); err != nil {
				return nil, 0, err
			}
			chunk = chunk[:0]
			if c.opts.Progress != nil {
				c.opts.Progress("checked", rows)
			}
		}
		if stop {
			break
		}
	}
	if rows == 0 && c.rep.Failed == 0 {
		c.addErrors([]ImportRowError{rowError(2, "", "the file has no rows below its header")})
		c.rep.Failed = 1
	}
	return c.rep, c.staged, nil
}

func (c *importCheck) addErrors(errs []ImportRowError) {
	for _, e := range errs {
		if len(c.rep.Errors) >= MaxImportErrors {
			c.rep.ErrorsNotListed++
			continue
		}
		c.rep.Errors = append(c.rep.Errors, e)
	}
}

// importRow is a record on its way through the checks.
type importRow struct {
	rec    *csvRecord
	before *User // the user it updates (upsert); nil: a new user
	agents []AgentKey
	// beforeAgents are the agent IDs before holds, as keys.
	beforeAgents []AgentKey
}

// checkChunk checks a chunk of records: first what needs no database, then
// the lookups of the whole chunk, then each row against them.
func (c *importCheck) checkChunk(ctx context.Context, recs []*csvRecord, lang string) error {
	r := c.s.store.Read()
	names := make([]string, 0, len(recs))
	for _, rec := range recs {
		if rec.in.Username.Set {
			names = append(names, strings.ToLower(strings.TrimSpace(rec.in.Username.V)))
		}
	}
	existing, err := r.UsersByUsernames(ctx, c.a.TenantID, names)
	if err != nil {
		return err
	}
	byName := make(map[string]*User, len(existing))
	for i := range existing {
		byName[strings.ToLower(existing[i].Username)] = &existing[i]
	}
	var held []int64 // agent IDs of the users the chunk updates
	for _, u := range existing {
		held = append(held, u.AgentIDs...)
	}
	heldKeys, err := r.AgentKeysByID(ctx, c.a.TenantID, held)
	if err != nil {
		return err
	}
	rows := make([]*importRow, 0, len(recs))
	var emails []string
	var numbers []int64
	var keys []AgentKey
	for _, rec := range recs {
		row := c.checkRecord(rec, byName, lang)
		rows = append(rows, row)
		if row == nil {
			continue
		}
		if row.before != nil {
			for _, id := range row.before.AgentIDs {
				row.beforeAgents = append(row.beforeAgents, heldKeys[id])
			}
		}
		if e := rec.in.Email; e.Set && e.V != "" {
			emails = append(emails, e.V)
		}
		if n := rec.in.AgentNumber; n.Set && !n.Null {
			numbers = append(numbers, n.V)
		}
		keys = append(keys, row.agents...)
	}
	holders, err := r.UserHolders(ctx, c.a.TenantID, emails, numbers)
	if err != nil {
		return err
	}
	var agents map[AgentKey]AgentID
	if len(keys) > 0 {
		found, err := r.AgentIDsByKey(ctx, c.a.TenantID, keys)
		if err != nil {
			return err
		}
		agents = make(map[AgentKey]AgentID, len(found))
		for _, g := range found {
			agents[g.Key()] = g
		}
	}
	for _, row := range rows {
		if row == nil {
			continue
		}
		if err := c.checkAgainstDB(ctx, row, holders, agents); err != nil {
			return err
		}
	}
	return nil
}

// fail records the row's problems; it returns nil for the chunk's list.
func (c *importCheck) fail(rec *csvRecord) *importRow {
	c.rep.Failed++
	c.addErrors(rec.errs)
	return nil
}

// csvField is the column a core field is read from.
func csvField(field string) string {
	switch {
	case field == "group_id":
		return "group"
	case strings.HasPrefix(field, "group_id"):
		return "group" + strings.TrimPrefix(field, "group_id")
	}
	return field
}

// checkRecord makes the checks of one record that need no lookup per row:
// formats and bounds, groups, roles and the grant rule, scope, duplicates
// inside the file, and what acting on the matched user requires.
func (c *importCheck) checkRecord(rec *csvRecord, byName map[string]*User, lang string) *importRow {
	if rec.broken {
		return c.fail(rec)
	}
	in := &rec.in
	row := &importRow{rec: rec}
	key := strings.ToLower(strings.TrimSpace(in.Username.V))
	if u := byName[key]; u != nil && key != "" {
		if c.opts.Mode == ImportCreate {
			rec.bad("username", "%s exists already; import with mode upsert to update existing users", u.Username)
			return c.fail(rec)
		}
		row.before = u
	}
	create := row.before == nil
	if create && c.opts.Mode == ImportUpsert && !in.Language.Set {
		in.Language = Some(lang)
	}
	if create && c.opts.Invite && strings.TrimSpace(in.Email.V) == "" {
		rec.bad("email", "is required: the invitation is sent by email")
	}
	c.resolveGroups(rec)
	checked, v := checkUserInput(*in, create, c.tenant.Settings.Languages)
	*in = checked
	for _, f := range v.fields {
		rec.bad(csvField(f.Field), "%s", f.Message)
	}
	if prev, dup := c.seenUser[key]; dup && key != "" {
		rec.bad("username", "%s is also on row %d", in.Username.V, prev)
	} else if key != "" {
		c.seenUser[key] = rec.row
	}
	if e := in.Email.V; in.Email.Set && e != "" {
		if prev, dup := c.seenEmail[e]; dup {
			rec.bad("email", "%s is also on row %d", e, prev)
		} else {
			c.seenEmail[e] = rec.row
		}
	}
	if n := in.AgentNumber; n.Set && !n.Null {
		if prev, dup := c.seenNumber[n.V]; dup {
			rec.bad("agent_number", "%d is also on row %d", n.V, prev)
		} else {
			c.seenNumber[n.V] = rec.row
		}
	}
	if in.AgentIDs.Set && len(in.AgentIDs.V) <= MaxAgentIDsOfUser {
		for _, ref := range in.AgentIDs.V {
			if ref.bad != "" || ref.ID != 0 {
				continue
			}
			if prev, dup := c.seenAgent[ref.Key]; dup && prev != rec.row {
				rec.bad("agent_ids", "the agent ID %s is also on row %d", ref.Key, prev)
				continue
			}
			c.seenAgent[ref.Key] = rec.row
			if !slices.Contains(row.agents, ref.Key) {
				row.agents = append(row.agents, ref.Key)
			}
		}
	}
	for i, k := range in.Roles.V {
		if in.Roles.Set && len(in.Roles.V) <= MaxUserRoles && c.g.roles[k] == nil && len(k) <= MaxRoleKeyLen {
			rec.bad("roles", "item %d: no role with the key %q", i, k)
		}
	}
	if len(rec.errs) > 0 {
		return c.fail(rec)
	}
	if row.before != nil {
		if err := c.mayActOn(row.before); err != nil {
			rec.bad("username", "%s", ErrorMessage(err))
			return c.fail(rec)
		}
	}
	return row
}

// resolveGroups turns the record's group and group access references (ids
// or paths from level 1) into ids.
func (c *importCheck) resolveGroups(rec *csvRecord) {
	if rec.group != "" {
		if id, ok := c.groupRef(rec.group); ok {
			rec.in.GroupID = Some(id)
		} else {
			rec.bad("group", "no group %s (give a group id or a path of names from level 1, such as Acme/Sales/Team A)", echo(rec.group))
			rec.in.GroupID = Some(int64(-1)) // said already: not "is required" too
		}
	}
	if rec.access == nil {
		return
	}
	if len(rec.access) > MaxGroupAccess {
		rec.bad("group_access", "at most %d groups", MaxGroupAccess)
		rec.in.GroupAccess = Opt[[]int64]{}
		return
	}
	ids := make([]int64, 0, len(rec.access))
	for i, ref := range rec.access {
		id, ok := c.groupRef(ref)
		if !ok {
			rec.bad("group_access", "item %d: no group %s", i, echo(ref))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	rec.in.GroupAccess = Some(ids)
}

// groupRef finds a group by id or by its path of names (case-insensitive).
func (c *importCheck) groupRef(ref string) (int64, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		_, ok := c.tree.byID[id]
		return id, ok
	}
	key := strings.ToLower(ref)
	if id, ok := c.paths[key]; ok {
		return id, id != 0
	}
	var id int64
	level := c.tree.roots
	for _, name := range strings.Split(ref, "/") {
		name = strings.TrimSpace(name)
		var next *Group
		for _, g := range level {
			if strings.EqualFold(g.Name, name) {
				next = g
				break
			}
		}
		if next == nil {
			id = 0
			break
		}
		id, level = next.ID, c.tree.children[next.ID]
	}
	if len(c.paths) < 100_000 {
		c.paths[key] = id
	}
	return id, id != 0
}

// mayActOn is the "more powerful target" rule for a user the file updates
// (grants.go, actOn), with the grantor read once.
func (c *importCheck) mayActOn(u *User) error {
	if !c.manage.userVisible(u) {
		return Errorf(EForbidden, "%s is a user outside your scope; you cannot change them", u.Username)
	}
	if err := c.g.mayActOn(u); err != nil {
		return err
	}
	if c.a.Kind == ActorUser && c.a.ID == u.ID {
		return nil
	}
	for _, gid := range u.GroupAccess {
		if !c.manage.hasGroup(gid) {
			return Errorf(EForbidden, "%s has access to groups outside your own; only someone who sees them can change %s", u.Username, u.Username)
		}
	}
	return nil
}

// checkAgainstDB makes the checks of a row that need the chunk's lookups,
// builds the user it becomes, and spools it (or counts it unchanged).
func (c *importCheck) checkAgainstDB(ctx context.Context, row *importRow, holders UserHolders, agents map[AgentKey]AgentID) error {
	rec, in := row.rec, &row.rec.in
	var selfID int64
	if row.before != nil {
		selfID = row.before.ID
	}
	if e := in.Email.V; in.Email.Set && e != "" {
		if id, ok := holders.Emails[e]; ok && id != selfID {
			rec.bad("email", "the email %s is in use by another user", e)
		}
	}
	if n := in.AgentNumber; n.Set && !n.Null {
		if id, ok := holders.Numbers[n.V]; ok && id != selfID {
			rec.bad("agent_number", "the agent number %d is in use by another user", n.V)
		}
	}
	for _, k := range row.agents {
		g, ok := agents[k]
		switch {
		case ok && g.UserID != nil && *g.UserID != selfID:
			holder := "another user"
			if h, err := c.s.store.Read().User(ctx, c.a.TenantID, *g.UserID); err == nil {
				holder = h.Username
			}
			rec.bad("agent_ids", "the agent ID %s is held by %s; an agent ID belongs to one user at a time", k, holder)
		case ok && !c.manage.agentVisible(&g) && g.UserID == nil:
			rec.bad("agent_ids", "the agent ID %s is outside your scope", k)
		}
	}
	u, st := c.target(row)
	if len(rec.errs) == 0 {
		c.checkTarget(row, u)
	}
	if len(rec.errs) > 0 {
		c.fail(rec)
		return nil
	}
	if st == nil {
		c.rep.Unchanged++
		return nil
	}
	if row.before == nil {
		c.rep.Created++
	} else {
		c.rep.Updated++
	}
	if c.out == nil || c.rep.Failed > 0 {
		return nil // nothing will be written: no need to keep the row
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	c.staged++
	b = append(b, '\n')
	_, err = c.out.Write(b)
	return err
}

// checkTarget checks the user a row becomes: the grant rule for every role
// it newly holds, the actor's scope over its groups, a queue it is logged
// on to, and that agent IDs go to someone with a self-scoped role.
func (c *importCheck) checkTarget(row *importRow, u *User) {
	rec, before := row.rec, row.before
	for i, k := range u.Roles {
		if before != nil && slices.Contains(before.Roles, k) {
			continue
		}
		if r := c.g.roles[k]; r != nil {
			if err := c.g.mayAssign(r); err != nil {
				rec.bad("roles", "item %d: %s", i, ErrorMessage(err))
			}
		}
	}
	if (before == nil || before.GroupID != u.GroupID) && !c.scope.hasGroup(u.GroupID) {
		rec.bad("group", "no group with id %d", u.GroupID)
	}
	for i, g := range u.GroupAccess {
		if (before == nil || !slices.Contains(before.GroupAccess, g)) && !c.scope.hasGroup(g) {
			rec.bad("group_access", "item %d: no group with id %d", i, g)
		}
	}
	if before != nil && before.QueueLoggedOn && before.GroupID != u.GroupID {
		rec.bad("group", "%s is logged on to a queue and cannot be moved; log them off the queue first", before.Username)
	}
	if before != nil && u.Email == "" && u.Mobile == "" {
		rec.bad("email", "%s", needContact)
	}
	if len(row.agents) > 0 || (rec.in.AgentIDs.Set && before != nil && len(before.AgentIDs) > 0 && len(row.agents) > 0) {
		self := false
		for _, k := range u.Roles {
			if r := c.g.roles[k]; r != nil && r.Scope == ScopeSelf {
				self = true
			}
		}
		if !self {
			rec.bad("agent_ids", "only users holding a role with the self scope (such as Agent) can hold agent IDs")
		}
	}
}
