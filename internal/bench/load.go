// Package bench measures Roster against large generated datasets. The
// directory benchmark loads many users (1M by default, 200k in the measured
// tenant) and times user list pages through the core, on SQLite and on
// PostgreSQL, for the bar in DESIGN.md §4.
package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// Config sizes a directory dataset.
type Config struct {
	Tenants        int // tenants created; the first is the one measured
	UsersPerTenant int
	Name           string // names the kept dataset (folder, schema) with the size; "" is "directory"
}

// DefaultConfig is the size the bar is stated for: 1M users, 200k per tenant.
var DefaultConfig = Config{Tenants: 5, UsersPerTenant: 200_000}

func (c Config) String() string { return fmt.Sprintf("%dx%d", c.Tenants, c.UsersPerTenant) }

func (c Config) slug(i int) string { return fmt.Sprintf("bench-%d", i+1) }

// Dataset is a loaded dataset.
type Dataset struct {
	Config
	TenantIDs []int64       // in slug order; TenantIDs[0] is measured
	LoadTime  time.Duration // how long loading took, when it was loaded
	Reused    bool          // found complete from an earlier run
}

// Load fills db with cfg's dataset, or finds it there from an earlier run.
// Tenants, groups and roles are made through the core; users and their roles
// are written straight into the tables (a million users through the core
// would take an hour), filled exactly as the store's CreateUser fills them.
func Load(ctx context.Context, svc *roster.Service, db *store.DB, cfg Config, logf func(string, ...any)) (*Dataset, error) {
	if cfg.Tenants < 1 || cfg.UsersPerTenant < 1 {
		return nil, fmt.Errorf("bench: need at least one tenant and one user (got %s)", cfg)
	}
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	sqldb := db.SQL()
	// The marker is written last, so a load that died half-way is noticed.
	if _, err := sqldb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_dataset (
		tenants INTEGER NOT NULL, users_per_tenant INTEGER NOT NULL, load_ms BIGINT NOT NULL)`); err != nil {
		return nil, err
	}
	ds := &Dataset{Config: cfg}
	var tenants, users int
	var loadMS int64
	err := sqldb.QueryRowContext(ctx, `SELECT tenants, users_per_tenant, load_ms FROM bench_dataset`).Scan(&tenants, &users, &loadMS)
	switch {
	case err == nil:
		if tenants != cfg.Tenants || users != cfg.UsersPerTenant {
			return nil, fmt.Errorf("bench: the database holds a %dx%d dataset, not %s", tenants, users, cfg)
		}
		ds.Reused, ds.LoadTime = true, time.Duration(loadMS)*time.Millisecond
		for i := range cfg.Tenants {
			t, err := svc.TenantBySlug(ctx, cfg.slug(i))
			if err != nil {
				return nil, err
			}
			ds.TenantIDs = append(ds.TenantIDs, t.ID)
		}
		return ds, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	if _, err := svc.TenantBySlug(ctx, cfg.slug(0)); err == nil {
		return nil, errors.New("bench: the database holds a partly loaded dataset; run again with a fresh database (--fresh)")
	}

	start := time.Now()
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	l := &loader{db: db, conn: conn, cfg: cfg, now: start.UTC().Truncate(time.Millisecond), logf: logf}
	if err := l.run(ctx, svc, ds); err != nil {
		return nil, err
	}
	ds.LoadTime = time.Since(start)
	if _, err := sqldb.ExecContext(ctx, fmt.Sprintf(`INSERT INTO bench_dataset (tenants, users_per_tenant, load_ms) VALUES (%d, %d, %d)`,
		cfg.Tenants, cfg.UsersPerTenant, ds.LoadTime.Milliseconds())); err != nil {
		return nil, err
	}
	return ds, nil
}

// loader writes the dataset over one connection, so session settings made
// for the load stay on it.
type loader struct {
	db   *store.DB
	conn *sql.Conn
	cfg  Config
	now  time.Time
	logf func(string, ...any)
}

// group is a possible home group.
type group struct {
	id   int64
	name string
}

// tenantRefs are the ids a tenant's users point at.
type tenantRefs struct {
	id     int64
	domain string
	l1     group
	l2, l3 []group
	roles  map[string]int64
}

func (l *loader) run(ctx context.Context, svc *roster.Service, ds *Dataset) error {
	refs := make([]tenantRefs, l.cfg.Tenants)
	for i := range refs {
		var err error
		if refs[i], err = l.tenant(ctx, svc, i); err != nil {
			return err
		}
		ds.TenantIDs = append(ds.TenantIDs, refs[i].id)
	}
	indexes, err := l.dropIndexes(ctx)
	if err != nil {
		return err
	}
	if err := l.begin(ctx); err != nil {
		return err
	}
	var nextID int64
	if err := l.conn.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM users`).Scan(&nextID); err != nil {
		return err
	}
	for i, ref := range refs {
		t0 := time.Now()
		if err := l.users(ctx, i, ref, &nextID); err != nil {
			return fmt.Errorf("tenant %s: %w", l.cfg.slug(i), err)
		}
		l.logf("loaded %d users into %s in %s", l.cfg.UsersPerTenant, l.cfg.slug(i), time.Since(t0).Round(time.Millisecond))
	}
	t0 := time.Now()
	if err := l.finish(ctx, indexes); err != nil {
		return err
	}
	l.logf("built indexes and statistics in %s", time.Since(t0).Round(time.Millisecond))
	return nil
}

// tenant creates tenant i with a three-level group tree through the core:
// the level-1 group CreateTenant makes, 10 sites under it and 10 teams in
// each site.
func (l *loader) tenant(ctx context.Context, svc *roster.Service, i int) (tenantRefs, error) {
	t, err := svc.CreateTenant(ctx, l.cfg.slug(i), fmt.Sprintf("Bench Contact Centre %d", i+1))
	if err != nil {
		return tenantRefs{}, err
	}
	a := roster.SystemActor(t.ID)
	ref := tenantRefs{id: t.ID, domain: fmt.Sprintf("contact%d.example.com", i+1), roles: map[string]int64{}}
	groups, err := svc.ListGroups(ctx, a)
	if err != nil {
		return ref, err
	}
	ref.l1 = group{groups[0].ID, groups[0].Name}
	for s := range 10 {
		site := sites[(s+i)%len(sites)]
		g, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some(site), ParentID: roster.Some(ref.l1.id)})
		if err != nil {
			return ref, err
		}
		ref.l2 = append(ref.l2, group{g.ID, g.Name})
		for k := range 10 {
			name := site + " " + teams[(k+s)%len(teams)]
			g, err := svc.CreateGroup(ctx, a, roster.GroupInput{Name: roster.Some(name), ParentID: roster.Some(g.ID)})
			if err != nil {
				return ref, err
			}
			ref.l3 = append(ref.l3, group{g.ID, g.Name})
		}
	}
	roles, err := svc.ListRoles(ctx, a)
	if err != nil {
		return ref, err
	}
	for _, r := range roles {
		ref.roles[r.Key] = r.ID
	}
	return ref, nil
}

// userRow is one users row, in the column order of userCols.
type userRow struct {
	id, tenantID                        int64
	username, name, email, mobile, lang string
	groupID                             int64
	groupName, status                   string
	agentNumber                         *int64
	scoring, roaming, queue             bool
	passwordHash                        *string
	lastLogin                           *int64
	created, updated                    int64
	search                              string
	roleIDs                             []int64
}

const userCols = `id, tenant_id, username, name, email, mobile, language, group_id, group_name, status, agent_number,
	nicknames, ring_to, scoring_enabled, roaming, queue_logged_on, password_hash, created_at, updated_at, search`

// batch is how many users are generated and written at a time.
const batch = 5000

// users generates and writes tenant i's users. The generator is seeded by
// the tenant's position, so every load of a size holds the same people.
func (l *loader) users(ctx context.Context, i int, ref tenantRefs, nextID *int64) error {
	rng := rand.New(rand.NewPCG(20240601, uint64(i)))
	taken := map[string]int{}
	agentNumber := int64(1000)
	// Users are created over three years, evenly, in id order.
	created0 := l.now.Add(-3 * 365 * 24 * time.Hour).UnixMilli()
	step := 3 * 365 * 24 * time.Hour.Milliseconds() / int64(l.cfg.UsersPerTenant)
	rows := make([]userRow, 0, batch)
	for n := range l.cfg.UsersPerTenant {
		u := userRow{id: *nextID, tenantID: ref.id, lang: "en"}
		*nextID++
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		u.name = first + " " + last
		base := strings.ToLower(first + "." + last)
		u.username = base
		if k := taken[base]; k > 0 {
			u.username = fmt.Sprintf("%s%d", base, k+1)
		}
		taken[base]++
		if rng.IntN(100) >= 3 {
			u.email = u.username + "@" + ref.domain
		}
		if u.email == "" || rng.IntN(100) < 30 {
			u.mobile = fmt.Sprintf("+4915%09d", rng.IntN(1_000_000_000))
		}
		if rng.IntN(100) < 35 {
			u.lang = "de"
		}
		switch r := rng.IntN(100); {
		case r < 2:
			u.groupID, u.groupName = ref.l1.id, ref.l1.name
		case r < 10:
			g := ref.l2[rng.IntN(len(ref.l2))]
			u.groupID, u.groupName = g.id, g.name
		default:
			g := ref.l3[rng.IntN(len(ref.l3))]
			u.groupID, u.groupName = g.id, g.name
		}
		u.created = created0 + int64(n)*step
		u.updated = u.created
		switch r := rng.IntN(100); {
		case r < 85:
			u.status = roster.StatusActive
			if rng.IntN(100) < 90 {
				t := l.now.UnixMilli() - rng.Int64N(90*24*time.Hour.Milliseconds())
				u.lastLogin = &t
			}
			// Not a hash of anything; the length of a real argon2id one.
			h := fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%022x$%043x", rng.Uint64(), rng.Uint64())
			u.passwordHash = &h
		case r < 95:
			u.status = roster.StatusInvited
		default:
			u.status = roster.StatusDeactivated
			if rng.IntN(100) < 70 {
				t := l.now.UnixMilli() - rng.Int64N(2*365*24*time.Hour.Milliseconds())
				u.lastLogin = &t
			}
		}
		agent := false
		switch r := rng.IntN(100); {
		case r < 2:
			u.roleIDs = []int64{ref.roles[roster.RoleAdmin]}
		case r < 10:
			u.roleIDs = []int64{ref.roles[roster.RoleTeamLeader]}
			if rng.IntN(2) == 0 {
				u.roleIDs, agent = append(u.roleIDs, ref.roles[roster.RoleAgent]), true
			}
		case r < 12:
			u.roleIDs = []int64{ref.roles[roster.RoleAnalyst]}
		case r < 15:
			u.roleIDs = []int64{ref.roles[roster.RoleUser]}
		default:
			u.roleIDs, agent = []int64{ref.roles[roster.RoleAgent]}, true
		}
		if agent {
			if rng.IntN(100) < 80 {
				agentNumber++
				num := agentNumber
				u.agentNumber = &num
			}
			u.scoring = rng.IntN(100) < 30
			u.queue = u.status == roster.StatusActive && rng.IntN(100) < 20
		}
		u.roaming = rng.IntN(100) < 5
		// As the store's searchText: what substring search looks in.
		u.search = strings.ToLower(u.name + " " + u.username + " " + u.email + " " + u.mobile)
		rows = append(rows, u)
		if len(rows) == batch {
			if err := l.write(ctx, rows); err != nil {
				return err
			}
			rows = rows[:0]
		}
	}
	return l.write(ctx, rows)
}

func (l *loader) write(ctx context.Context, rows []userRow) error {
	if len(rows) == 0 {
		return nil
	}
	if l.db.Dialect() == store.Postgres {
		return l.copyPostgres(ctx, rows)
	}
	return l.insertSQLite(ctx, rows)
}

// sqliteChunk rows go into one INSERT: 21 columns each, well under SQLite's
// 32766 variables, and big enough that statement overhead stops mattering.
const sqliteChunk = 200

func (l *loader) insertSQLite(ctx context.Context, rows []userRow) error {
	args := make([]any, 0, sqliteChunk*20)
	roleArgs := make([]any, 0, sqliteChunk*8)
	for len(rows) > 0 {
		chunk := rows[:min(sqliteChunk, len(rows))]
		rows = rows[len(chunk):]
		args, roleArgs = args[:0], roleArgs[:0]
		for _, u := range chunk {
			args = append(args, u.id, u.tenantID, u.username, u.name, u.email, u.mobile, u.lang, u.groupID, u.groupName, u.status,
				u.agentNumber, "[]", "", u.scoring, u.roaming, u.queue, u.passwordHash, u.created, u.updated, u.search)
			for _, r := range u.roleIDs {
				roleArgs = append(roleArgs, u.tenantID, u.id, r, u.status)
			}
		}
		q := `INSERT INTO users (` + userCols + `) VALUES ` + values(len(chunk), 20)
		if _, err := l.conn.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		q = `INSERT INTO user_roles (tenant_id, user_id, role_id, status) VALUES ` + values(len(roleArgs)/4, 4)
		if _, err := l.conn.ExecContext(ctx, q, roleArgs...); err != nil {
			return err
		}
		// The users' trigger made their user_logins rows, without a time.
		loginArgs := []any{}
		for _, u := range chunk {
			if u.lastLogin != nil {
				loginArgs = append(loginArgs, u.id, *u.lastLogin)
			}
		}
		if len(loginArgs) > 0 {
			q = `WITH v(id, t) AS (VALUES ` + values(len(loginArgs)/2, 2) + `)
				UPDATE user_logins SET last_login_at = v.t FROM v WHERE user_logins.tenant_id = ? AND user_logins.user_id = v.id`
			if _, err := l.conn.ExecContext(ctx, q, append(loginArgs, chunk[0].tenantID)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// values renders n rows of k placeholders: (?, ?), (?, ?).
func values(n, k int) string {
	row := "(" + strings.Repeat("?, ", k-1) + "?)"
	return strings.Repeat(row+", ", n-1) + row
}

// copyPostgres streams rows with COPY, the fastest way into PostgreSQL.
func (l *loader) copyPostgres(ctx context.Context, rows []userRow) error {
	return l.conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		cols := strings.Fields(strings.ReplaceAll(userCols, ",", " "))
		var roles [][]any
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"users"}, cols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			u := &rows[i]
			for _, r := range u.roleIDs {
				roles = append(roles, []any{u.tenantID, u.id, r, u.status})
			}
			return []any{u.id, u.tenantID, u.username, u.name, u.email, u.mobile, u.lang, u.groupID, u.groupName, u.status,
				u.agentNumber, "[]", "", u.scoring, u.roaming, u.queue, u.passwordHash, u.created, u.updated, u.search}, nil
		}))
		if err != nil {
			return err
		}
		_, err = pc.CopyFrom(ctx, pgx.Identifier{"user_roles"}, []string{"tenant_id", "user_id", "role_id", "status"}, pgx.CopyFromRows(roles))
		if err != nil {
			return err
		}
		// The users' trigger made their user_logins rows, without a time.
		var ids, times []int64
		for _, u := range rows {
			if u.lastLogin != nil {
				ids, times = append(ids, u.id), append(times, *u.lastLogin)
			}
		}
		_, err = pc.Exec(ctx, `UPDATE user_logins l SET last_login_at = v.t FROM unnest($1::bigint[], $2::bigint[]) AS v(id, t)
			WHERE l.tenant_id = $3 AND l.user_id = v.id`, ids, times, rows[0].tenantID)
		return err
	})
}

// index is a secondary index dropped for the load and built again after.
type index struct{ name, sql string }

// dropIndexes drops the secondary indexes of users, user_roles and user_logins: building
// them once from the loaded rows is many times faster than keeping them up to
// date row by row. Indexes that back constraints stay (foreign keys need
// them). finish builds the dropped ones again from their stored definitions,
// so the schema ends exactly as the migrations made it.
func (l *loader) dropIndexes(ctx context.Context) ([]index, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('users', 'user_roles', 'user_logins') AND sql IS NOT NULL`
	if l.db.Dialect() == store.Postgres {
		q = `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
			WHERE t.relname IN ('users', 'user_roles', 'user_logins') AND t.relnamespace = current_schema()::regnamespace
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`
	}
	rows, err := l.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []index
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.sql); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, ix := range out {
		if _, err := l.conn.ExecContext(ctx, `DROP INDEX `+ix.name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// begin prepares the session for a bulk load. On SQLite everything goes into
// one transaction with a big page cache and without syncing: a crash loses
// the load, which the missing marker then reports.
func (l *loader) begin(ctx context.Context) error {
	if l.db.Dialect() == store.Postgres {
		_, err := l.conn.ExecContext(ctx, `SET maintenance_work_mem = '1GB'`)
		return err
	}
	for _, p := range []string{`PRAGMA synchronous = OFF`, `PRAGMA cache_size = -2000000`, `BEGIN`} {
		if _, err := l.conn.ExecContext(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// finish commits, builds the indexes again, and gathers the statistics the
// planners choose indexes by.
func (l *loader) finish(ctx context.Context, indexes []index) error {
	pg := l.db.Dialect() == store.Postgres
	if !pg {
		if _, err := l.conn.ExecContext(ctx, `COMMIT`); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		t0 := time.Now()
		if _, err := l.conn.ExecContext(ctx, ix.sql); err != nil {
			return fmt.Errorf("build index %s: %w", ix.name, err)
		}
		l.logf("index %s: %s", ix.name, time.Since(t0).Round(time.Millisecond))
	}
	steps := []string{`ANALYZE`, `PRAGMA wal_checkpoint(TRUNCATE)`, `PRAGMA synchronous = NORMAL`, `PRAGMA cache_size = -65536`}
	if pg {
		// COPY bypassed the identity; later inserts must not reuse ids. VACUUM
		// also sets the visibility map that index-only scans (counts) rely
		// on, as autovacuum would soon after such a load.
		steps = []string{`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`,
			// Writers fold user_counts now and then; a load ends with a fold.
			`SELECT user_counts_fold(id) FROM tenants`,
			`VACUUM (ANALYZE) tenants, org_groups, roles, users, user_roles, user_logins, user_counts`, `RESET maintenance_work_mem`}
	}
	for _, s := range steps {
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
