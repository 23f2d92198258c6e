package authz

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnknownUser is returned for a user id the tenant does not have.
var ErrUnknownUser = errors.New("authz: no such user in the tenant")

// Defaults of Options.
const (
	DefaultMaxStale     = time.Second
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultRetention is how long change log entries are kept. A process
	// that has not read the log for half of it reloads everything.
	DefaultRetention = time.Hour
	// reloadAbove is the number of changes to one tenant in one sync above
	// which the partition is dropped and loaded again when next asked, which
	// is cheaper than patching (bulk loads).
	reloadAbove = 50_000
)

// Options configure an Index.
type Options struct {
	// MaxStale bounds how old a partition's last look at the change log may
	// be when it answers; older, it syncs first. Default DefaultMaxStale.
	MaxStale  time.Duration
	Retention time.Duration // default DefaultRetention
	Logger    *slog.Logger
}

// Index is the decision index. It is safe for concurrent use.
type Index struct {
	src       Source
	maxStale  time.Duration
	retention time.Duration
	log       *slog.Logger
	epoch     time.Time // monotonic base of the nanosecond stamps below

	syncMu    sync.Mutex // serializes syncs and partition loads
	cursor    Cursor
	started   atomic.Bool  // a cursor exists: something is loaded or cached
	lastSync  atomic.Int64 // stamp of the last completed look at the log
	readStart int64        // stamp at which the last sync began reading (under syncMu)
	force     atomic.Bool  // the next read syncs first (a sync after a commit failed)

	parts atomic.Pointer[map[int64]*partition] // copy on write; tenants are added rarely

	tokMu    sync.RWMutex
	tokens   map[[32]byte]Token
	tokenGen atomic.Int64 // bumped whenever cached tokens may have changed
}

// New returns an empty index over src. Partitions load on first use.
func New(src Source, opts Options) *Index {
	x := &Index{src: src, maxStale: opts.MaxStale, retention: opts.Retention, log: opts.Logger, epoch: time.Now(),
		tokens: map[[32]byte]Token{}}
	if x.maxStale <= 0 {
		x.maxStale = DefaultMaxStale
	}
	if x.retention <= 0 {
		x.retention = DefaultRetention
	}
	if x.log == nil {
		x.log = slog.Default()
	}
	empty := map[int64]*partition{}
	x.parts.Store(&empty)
	return x
}

// stamp is the monotonic time since the index was made.
func (x *Index) stamp() int64 { return int64(time.Since(x.epoch)) }

// Stamp returns the current time on the index's clock, for SyncAfter.
func (x *Index) Stamp() int64 { return x.stamp() }

// fresh syncs first when the last look at the change log is older than MaxStale.
func (x *Index) fresh(ctx context.Context) error {
	if !x.started.Load() || (!x.force.Load() && x.stamp()-x.lastSync.Load() <= int64(x.maxStale)) {
		return nil
	}
	return x.Sync(ctx)
}

// Invalidate makes the next read sync before it answers: a writer whose
// sync after its commit failed calls it, so the change is not missed.
func (x *Index) Invalidate() { x.force.Store(true) }

// partition returns the tenant's partition, loading it on first use.
func (x *Index) partition(ctx context.Context, tenantID int64) (*partition, error) {
	if err := x.fresh(ctx); err != nil {
		return nil, err
	}
	if p := (*x.parts.Load())[tenantID]; p != nil {
		return p, nil
	}
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	if p := (*x.parts.Load())[tenantID]; p != nil {
		return p, nil
	}
	if err := x.startLocked(ctx); err != nil {
		return nil, err
	}
	data, err := x.src.LoadTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	p := newPartition(data)
	old := *x.parts.Load()
	next := make(map[int64]*partition, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[tenantID] = p
	x.parts.Store(&next)
	return p, nil
}

// startLocked makes sure the cursor exists, and brings the loaded partitions
// up to date, so that anything loaded next starts from the log's head.
func (x *Index) startLocked(ctx context.Context) error {
	if x.started.Load() {
		return x.syncLocked(ctx)
	}
	x.readStart = x.stamp()
	cur, err := x.src.Head(ctx)
	if err != nil {
		return err
	}
	x.cursor = cur
	x.lastSync.Store(x.readStart)
	x.started.Store(true)
	return nil
}

// Loaded reports whether the tenant's partition is in memory.
func (x *Index) Loaded(tenantID int64) bool { return (*x.parts.Load())[tenantID] != nil }

// Sync applies every change committed so far to the loaded partitions and
// the token cache.
func (x *Index) Sync(ctx context.Context) error {
	if !x.started.Load() {
		return nil
	}
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	return x.syncLocked(ctx)
}

// SyncAfter is Sync for a writer that committed at stamp committed (Stamp,
// taken after the commit): when another sync began reading the log after
// that, the change is in already and nothing is read again.
func (x *Index) SyncAfter(ctx context.Context, committed int64) error {
	if !x.started.Load() {
		return nil
	}
	x.syncMu.Lock()
	defer x.syncMu.Unlock()
	if x.readStart > committed {
		return nil
	}
	return x.syncLocked(ctx)
}

// reset forgets everything; partitions load again on demand.
func (x *Index) resetLocked() {
	empty := map[int64]*partition{}
	x.parts.Store(&empty)
	x.tokMu.Lock()
	x.tokens = map[[32]byte]Token{}
	x.tokenGen.Add(1)
	x.tokMu.Unlock()
	x.started.Store(false)
}

func (x *Index) syncLocked(ctx context.Context) error {
	if !x.started.Load() {
		return nil
	}
	start := x.stamp()
	if start-x.lastSync.Load() > int64(x.retention/2) {
		// The log may have been pruned past our cursor: start over.
		x.log.Warn("authz: change log not read for too long; reloading the decision index")
		x.resetLocked()
		return nil
	}
	x.readStart = start
	changes, next, err := x.src.Changes(ctx, x.cursor)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		if err := x.apply(ctx, changes); err != nil {
			return err
		}
	}
	x.cursor = next
	x.lastSync.Store(start)
	x.force.Store(false)
	return nil
}

// pendingChanges are one tenant's changed ids by kind.
type pendingChanges struct {
	n                            int
	roles, groups, users, agents map[int64]bool
}

func (pc *pendingChanges) add(c Change) {
	pc.n++
	var m *map[int64]bool
	switch c.Kind {
	case KindRole:
		m = &pc.roles
	case KindGroup:
		m = &pc.groups
	case KindUser:
		m = &pc.users
	case KindAgent:
		m = &pc.agents
	default:
		return
	}
	if *m == nil {
		*m = map[int64]bool{}
	}
	(*m)[c.RefID] = true
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// apply patches the loaded partitions: each changed thing is read again from
// the database (patches are idempotent, so reading a newer state than the
// change is harmless), then swapped in under the partition's write lock.
func (x *Index) apply(ctx context.Context, changes []Change) error {
	parts := *x.parts.Load()
	byTenant := map[int64]*pendingChanges{}
	var tokenIDs, roleIDs []int64
	for _, c := range changes {
		switch c.Kind {
		case KindToken:
			tokenIDs = append(tokenIDs, c.RefID)
		case KindRole:
			roleIDs = append(roleIDs, c.RefID)
		}
		if parts[c.TenantID] == nil {
			continue
		}
		pc := byTenant[c.TenantID]
		if pc == nil {
			pc = &pendingChanges{}
			byTenant[c.TenantID] = pc
		}
		pc.add(c)
	}
	x.dropTokens(tokenIDs, roleIDs)

	var evict []int64
	for tenantID, pc := range byTenant {
		if pc.n > reloadAbove {
			evict = append(evict, tenantID)
			continue
		}
		if err := x.patch(ctx, tenantID, parts[tenantID], pc); err != nil {
			return err
		}
	}
	if len(evict) > 0 {
		next := make(map[int64]*partition, len(parts))
		for k, v := range parts {
			next[k] = v
		}
		for _, t := range evict {
			delete(next, t)
		}
		x.parts.Store(&next)
	}
	return nil
}

func (x *Index) patch(ctx context.Context, tenantID int64, p *partition, pc *pendingChanges) error {
	var roles []Role
	var groups []Group
	var users []User
	var agents []Agent
	var err error
	if len(pc.roles) > 0 {
		if roles, err = x.src.Roles(ctx, tenantID, keys(pc.roles)); err != nil {
			return err
		}
	}
	if len(pc.groups) > 0 {
		if groups, err = x.src.Groups(ctx, tenantID, keys(pc.groups)); err != nil {
			return err
		}
	}
	if len(pc.users) > 0 {
		if users, err = x.src.Users(ctx, tenantID, keys(pc.users)); err != nil {
			return err
		}
	}
	if len(pc.agents) > 0 {
		if agents, err = x.src.Agents(ctx, tenantID, keys(pc.agents)); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	found := map[int64]bool{}
	for _, r := range roles {
		p.setRole(r)
		found[r.ID] = true
	}
	for id := range pc.roles {
		if !found[id] {
			delete(p.roles, id)
		}
	}
	clear(found)
	for _, g := range groups {
		p.setGroup(g.ID, g.ParentID)
		found[g.ID] = true
	}
	for id := range pc.groups {
		if !found[id] {
			p.deleteGroup(id)
		}
	}
	clear(found)
	// Agents before users: a user's patch recomputes the group of the agent
	// IDs they hold, which the agent patches may have just changed.
	for _, a := range agents {
		p.setAgent(a)
		found[a.ID] = true
	}
	for id := range pc.agents {
		if !found[id] {
			p.deleteAgent(id)
		}
	}
	clear(found)
	for _, u := range users {
		p.setUser(u)
		found[u.ID] = true
	}
	for id := range pc.users {
		if !found[id] {
			p.deleteUser(id)
		}
	}
	return nil
}

// Run follows the change log every interval until ctx ends, and prunes old
// entries now and then. Errors are logged; the next round tries again.
func (x *Index) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := x.Sync(ctx); err != nil && ctx.Err() == nil {
			x.log.Warn("authz: following the change log", "err", err)
		}
		if time.Since(lastPrune) > time.Minute {
			lastPrune = time.Now()
			if err := x.src.PruneChanges(ctx, lastPrune.Add(-x.retention)); err != nil && ctx.Err() == nil {
				x.log.Warn("authz: pruning the change log", "err", err)
			}
		}
	}
}
