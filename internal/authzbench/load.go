// Package authzbench measures the decision API and interaction ingest
// against a large tenant: 100k users, 10k groups and 1M agent IDs by
// default (DESIGN.md §4). cmd/roster-load runs it.
package authzbench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// Config sizes the dataset: one tenant with a three-level tree (the level-1
// group, Sites sites, the rest teams under them), Users users and AgentIDs
// agent IDs.
type Config struct {
	Users, Groups, AgentIDs int
}

// Default is the size the bars are stated for.
var Default = Config{Users: 100_000, Groups: 10_000, AgentIDs: 1_000_000}

func (c Config) String() string { return fmt.Sprintf("%du-%dg-%da", c.Users, c.Groups, c.AgentIDs) }

// sites are the level-2 groups: one per 100 groups, so a site holds about
// 1% of the tenant (10k agent IDs at the default size).
func (c Config) sites() int { return max(1, c.Groups/100) }

const slug = "authz-bench"

// Dataset is a loaded tenant and what the measurements pick from.
type Dataset struct {
	Config
	TenantID int64
	Users    []int64 // every user
	Groups   []int64 // every group
	Agents   []int64 // every agent ID
	// Lead is a team leader whose group access is one site (about 1% of the
	// agent IDs); Agent an agent holding two agent IDs.
	Lead, Agent int64
	Reused      bool
	LoadTime    time.Duration
}

// DefaultDir is where SQLite datasets are kept between runs.
func DefaultDir() string {
	if d := os.Getenv("ROSTER_BENCH_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "roster-bench")
	}
	return filepath.Join(os.TempDir(), "roster-bench")
}

// Open opens the database a dataset of cfg lives in: a folder of its own
// under dir (SQLite), or a schema of its own (postgres:// dsn). With fresh,
// an earlier dataset is thrown away first.
func Open(ctx context.Context, dsn, dir string, cfg Config, fresh bool) (*store.DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		schema := "roster_bench_authz_" + strings.ReplaceAll(cfg.String(), "-", "_")
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		defer admin.Close()
		if fresh {
			if _, err := admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
				return nil, err
			}
		}
		for _, q := range []string{`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`, `CREATE SCHEMA IF NOT EXISTS ` + schema} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				return nil, err
			}
		}
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		q.Set("search_path", schema+",public")
		u.RawQuery = q.Encode()
		return store.Open(ctx, u.String(), "")
	}
	if dsn != "" {
		return nil, fmt.Errorf("--db must be a postgres:// URL, or empty for SQLite (got %q)", dsn)
	}
	data := filepath.Join(dir, "authz-"+cfg.String())
	if fresh {
		if err := os.RemoveAll(data); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, "", data)
}

// Load fills db with the dataset, or finds it from an earlier run. The
// tenant and its roles are made through the core; groups, users and agent
// IDs go straight into the tables, as the core would write them (a million
// agent IDs through ingest would measure ingest, not the index).
func Load(ctx context.Context, svc *roster.Service, db *store.DB, cfg Config, logf func(string, ...any)) (*Dataset, error) {
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	sqldb := db.SQL()
	if _, err := sqldb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS authz_bench_dataset (config TEXT NOT NULL, load_ms BIGINT NOT NULL)`); err != nil {
		return nil, err
	}
	ds := &Dataset{Config: cfg}
	var have string
	var loadMS int64
	err := sqldb.QueryRowContext(ctx, `SELECT config, load_ms FROM authz_bench_dataset`).Scan(&have, &loadMS)
	switch {
	case err == nil:
		if have != cfg.String() {
			return nil, fmt.Errorf("the database holds the dataset %s, not %s", have, cfg)
		}
		ds.Reused, ds.LoadTime = true, time.Duration(loadMS)*time.Millisecond
	case errors.Is(err, sql.ErrNoRows):
		if _, err := svc.TenantBySlug(ctx, slug); err == nil {
			return nil, errors.New("the database holds a partly loaded dataset; run again with --fresh")
		}
		start := time.Now()
		if err := load(ctx, svc, db, cfg, logf); err != nil {
			return nil, err
		}
		ds.LoadTime = time.Since(start)
		if _, err := sqldb.ExecContext(ctx, rebind(db, `INSERT INTO authz_bench_dataset (config, load_ms) VALUES (?, ?)`),
			cfg.String(), ds.LoadTime.Milliseconds()); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return ds, ds.find(ctx, svc, db)
}

// find reads the ids the measurements pick from.
func (ds *Dataset) find(ctx context.Context, svc *roster.Service, db *store.DB) error {
	t, err := svc.TenantBySlug(ctx, slug)
	if err != nil {
		return err
	}
	ds.TenantID = t.ID
	q := func(query string, out *[]int64) error {
		rows, err := db.SQL().QueryContext(ctx, rebind(db, query), t.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			*out = append(*out, id)
		}
		return rows.Err()
	}
	if err := q(`SELECT id FROM users WHERE tenant_id = ? ORDER BY id`, &ds.Users); err != nil {
		return err
	}
	if err := q(`SELECT id FROM org_groups WHERE tenant_id = ? ORDER BY id`, &ds.Groups); err != nil {
		return err
	}
	if err := q(`SELECT id FROM agent_ids WHERE tenant_id = ? ORDER BY id`, &ds.Agents); err != nil {
		return err
	}
	var one []int64
	if err := q(`SELECT id FROM users WHERE tenant_id = ? AND username = 'bench.lead'`, &one); err != nil || len(one) != 1 {
		return fmt.Errorf("the dataset has no bench.lead: %v", err)
	}
	ds.Lead = one[0]
	one = nil
	if err := q(`SELECT user_id FROM agent_ids WHERE tenant_id = ? AND user_id IS NOT NULL ORDER BY id LIMIT 1`, &one); err != nil || len(one) != 1 {
		return fmt.Errorf("the dataset has no agent: %v", err)
	}
	ds.Agent = one[0]
	return nil
}

func rebind(db *store.DB, q string) string {
	if db.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// table is rows for one table, written by COPY (PostgreSQL) or multi-row
// INSERTs in one transaction (SQLite).
type table struct {
	name string
	cols []string
	rows [][]any
}

func load(ctx context.Context, svc *roster.Service, db *store.DB, cfg Config, logf func(string, ...any)) error {
	t, err := svc.CreateTenant(ctx, slug, "Authz Bench Contact Centre")
	if err != nil {
		return err
	}
	sys := roster.SystemActor(t.ID)
	groups, err := svc.ListGroups(ctx, sys)
	if err != nil {
		return err
	}
	roles, err := svc.ListRoles(ctx, sys)
	if err != nil {
		return err
	}
	roleID := map[string]int64{}
	for _, r := range roles {
		roleID[r.Key] = r.ID
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	next := func(table string) (int64, error) {
		var id int64
		err := conn.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM `+table).Scan(&id)
		return id, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond).UnixMilli()
	rng := rand.New(rand.NewPCG(20261120, 4))

	// Groups: the level-1 group, the sites, and teams spread over the sites.
	root := groups[0].ID
	gid, err := next("org_groups")
	if err != nil {
		return err
	}
	gt := &table{name: "org_groups", cols: []string{"id", "tenant_id", "parent_id", "name", "level", "created_at", "updated_at"}}
	var sites, teams []int64
	teamSite := map[int64]int64{}
	for s := range cfg.sites() {
		gt.rows = append(gt.rows, []any{gid, t.ID, root, fmt.Sprintf("Site %03d", s+1), 2, now, now})
		sites = append(sites, gid)
		gid++
	}
	for i := range cfg.Groups - 1 - len(sites) {
		site := sites[i%len(sites)]
		gt.rows = append(gt.rows, []any{gid, t.ID, site, fmt.Sprintf("Team %05d", i+1), 3, now, now})
		teams = append(teams, gid)
		teamSite[gid] = site
		gid++
	}
	groupName := map[int64]string{}
	for _, r := range gt.rows {
		groupName[r[0].(int64)] = r[3].(string)
	}

	// Users: 2% admins, 5% team leaders over two teams, 3% read-only users,
	// the rest agents; each agent holds a voice and a chat agent ID.
	uid, err := next("users")
	if err != nil {
		return err
	}
	ut := &table{name: "users", cols: []string{"id", "tenant_id", "username", "name", "email", "mobile", "language", "group_id",
		"group_name", "status", "nicknames", "ring_to", "scoring_enabled", "roaming", "queue_logged_on", "created_at", "updated_at", "search"}}
	rt := &table{name: "user_roles", cols: []string{"tenant_id", "user_id", "role_id"}}
	at := &table{name: "user_group_access", cols: []string{"tenant_id", "user_id", "group_id"}}
	var agentUsers []int64
	userHome := map[int64]int64{}
	for n := range cfg.Users {
		name := fmt.Sprintf("user%06d", n)
		role := roster.RoleAgent
		switch r := n % 100; {
		case n == 0:
			name, role = "bench.lead", roster.RoleTeamLeader
		case r < 2:
			role = roster.RoleAdmin
		case r < 7:
			role = roster.RoleTeamLeader
		case r < 10:
			role = roster.RoleReadOnly
		}
		home := teams[rng.IntN(len(teams))]
		email := name + "@bench.example"
		display := "Bench " + name
		ut.rows = append(ut.rows, []any{uid, t.ID, name, display, email, "", "en", home, groupName[home], roster.StatusActive, "[]", "",
			false, n%50 == 0, false, now, now, strings.ToLower(display + " " + name + " " + email)})
		rt.rows = append(rt.rows, []any{t.ID, uid, roleID[role]})
		switch {
		case n == 0:
			at.rows = append(at.rows, []any{t.ID, uid, sites[0]})
		case role == roster.RoleTeamLeader:
			other := teams[rng.IntN(len(teams))]
			at.rows = append(at.rows, []any{t.ID, uid, home})
			if other != home {
				at.rows = append(at.rows, []any{t.ID, uid, other})
			}
		case role == roster.RoleAgent:
			agentUsers = append(agentUsers, uid)
			if n%50 == 0 { // roaming agents see their site
				at.rows = append(at.rows, []any{t.ID, uid, teamSite[home]})
			}
		}
		userHome[uid] = home
		uid++
	}

	// Agent IDs: two per agent, the rest unassigned, last seen in a team.
	aid, err := next("agent_ids")
	if err != nil {
		return err
	}
	gAt := &table{name: "agent_ids", cols: []string{"id", "tenant_id", "source", "external_id", "name", "user_id", "interactions",
		"first_seen_at", "last_seen_at", "last_group_id", "last_group_at", "created_at", "search"}}
	for n := range cfg.AgentIDs {
		source, ext := "voice", fmt.Sprintf("%07d", n)
		var holder any
		var last int64
		if n < 2*len(agentUsers) {
			u := agentUsers[n/2]
			holder, last = u, userHome[u]
			if n%2 == 1 {
				source, ext = "chat", fmt.Sprintf("agent.%07d", n)
			}
		} else {
			last = teams[rng.IntN(len(teams))]
		}
		name := "Agent " + ext
		gAt.rows = append(gAt.rows, []any{aid, t.ID, source, ext, name, holder, 10, now - 86_400_000, now, last, now, now,
			strings.ToLower(source + ":" + ext + " " + name)})
		aid++
	}
	for _, tb := range []*table{gt, ut, rt, at, gAt} {
		t0 := time.Now()
		if err := write(ctx, db, conn, tb); err != nil {
			return fmt.Errorf("load %s: %w", tb.name, err)
		}
		logf("loaded %d rows into %s in %s", len(tb.rows), tb.name, time.Since(t0).Round(time.Millisecond))
	}
	// The load is one big change the index never needs to replay: a process
	// starts from the log's head, so the entries only take room.
	steps := []string{`DELETE FROM authz_changes`, `ANALYZE`}
	if db.Dialect() == store.Postgres {
		steps = []string{`DELETE FROM authz_changes`,
			`SELECT setval(pg_get_serial_sequence('org_groups', 'id'), (SELECT max(id) FROM org_groups))`,
			`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`,
			`SELECT setval(pg_get_serial_sequence('agent_ids', 'id'), (SELECT max(id) FROM agent_ids))`,
			`VACUUM (ANALYZE) org_groups, users, user_roles, user_group_access, agent_ids, authz_changes`}
	}
	for _, q := range steps {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func write(ctx context.Context, db *store.DB, conn *sql.Conn, tb *table) error {
	if db.Dialect() == store.Postgres {
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			_, err := pc.CopyFrom(ctx, pgx.Identifier{tb.name}, tb.cols, pgx.CopyFromRows(tb.rows))
			return err
		})
	}
	for _, p := range []string{`PRAGMA synchronous = OFF`, `BEGIN`} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return err
		}
	}
	per := max(1, 30000/len(tb.cols))
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(tb.cols)), ", ") + ")"
	rows := tb.rows
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*len(tb.cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := `INSERT INTO ` + tb.name + ` (` + strings.Join(tb.cols, ", ") + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			_, _ = conn.ExecContext(ctx, `ROLLBACK`)
			return err
		}
	}
	for _, p := range []string{`COMMIT`, `PRAGMA synchronous = NORMAL`} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
