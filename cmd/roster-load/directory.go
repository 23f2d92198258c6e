package main

// roster-load directory: the user list over HTTP, as a client sees it. The
// load generator (this process), a real `roster serve` and the floor (a
// bare net/http handler, `roster-load floor`) are three processes; rounds
// alternate floor and roster so that drift of the machine hits both.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/authzbench"
	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/phone"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// dirScenario is one user list request of the directory run.
type dirScenario struct {
	key, label, query string
	exact             bool // an exact lookup (bar: p50 ≤ 8× the floor, p99 ≤ 40 ms at 16 clients)
	search            bool // a substring search (bar: p50 ≤ 25× the floor)
	filtered          bool // filtered, sorted (bar: within 2× of the first page's)
}

func runDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roster-load directory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", os.Getenv("ROSTER_DB"), "postgres:// URL (the dataset goes into a schema of its own); empty: SQLite")
	dir := fs.String("data", bench.DefaultDir(), "folder for SQLite datasets, kept between runs")
	cfg := bench.DefaultConfig
	fs.IntVar(&cfg.Tenants, "tenants", cfg.Tenants, "tenants; the first one is measured")
	fs.IntVar(&cfg.UsersPerTenant, "users-per-tenant", cfg.UsersPerTenant, "users in each tenant")
	rosterBin := fs.String("roster", "", "the roster binary to serve with (go build -o FILE ./cmd/roster); required unless --in-process")
	duration := fs.Duration("duration", 2*time.Second, "measured time of each run")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "warm-up before each run")
	rounds := fs.Int("rounds", 3, "rounds (floor and roster alternate in each)")
	clientList := fs.String("clients", "1,16", "concurrent clients")
	stats := fs.String("stats", "keep", "planner statistics before serving: keep (as loaded: full ANALYZE), none (deleted), analyze (a full ANALYZE now)")
	only := fs.String("only", "", "comma-separated scenario keys (default: all)")
	inProcess := fs.Bool("in-process", false, "diagnosis: serve the API in this process (the handler chain of serve) instead of a roster serve")
	cpuProfile := fs.String("cpuprofile", "", "with --in-process: write a CPU profile of the measured runs to this file")
	fresh := fs.Bool("fresh", false, "throw away a dataset of this size and load it again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	clients, err := parseClients(*clientList)
	if err != nil {
		return err
	}
	if *rosterBin == "" && !*inProcess {
		return errors.New("--roster FILE is required (go build -o FILE ./cmd/roster)")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	db, err := bench.Open(ctx, *dsn, *dir, cfg, *fresh, logf)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ds, err := bench.Load(ctx, svc, db, cfg, logf)
	if err != nil {
		return err
	}
	if err := setStats(ctx, db, *stats); err != nil {
		return err
	}
	tenant := ds.TenantIDs[0]
	scenarios, err := directoryScenarios(ctx, svc, db, tenant)
	if err != nil {
		return err
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		scenarios = slices.DeleteFunc(scenarios, func(s dirScenario) bool { return !slices.Contains(keep, s.key) })
	}
	_, token, err := svc.CreateToken(ctx, roster.SystemActor(tenant), roster.TokenInput{Name: fmt.Sprintf("roster-load %d", time.Now().UnixNano()), Role: roster.RoleAdmin})
	if err != nil {
		return err
	}

	floor, err := startFloor(ctx, stderr)
	if err != nil {
		return err
	}
	defer floor.stop()
	var server *serverProcess
	base := ""
	if *inProcess {
		srv, err := authzbench.StartRoster(svc)
		if err != nil {
			return err
		}
		defer srv.Close()
		base = srv.URL
	} else {
		db.Close() // the server opens the database itself: nothing of it stays warm here
		server, err = startRoster(ctx, *rosterBin, *dsn, *dir, cfg, filepath.Join(os.TempDir(), "roster-load-serve.log"))
		if err != nil {
			return err
		}
		defer server.stop()
		base = server.url
	}

	// Cold start: the first request of each scenario after the server
	// started (each reads its own pages and indexes for the first time).
	cold := map[string]time.Duration{}
	totals := map[string]int{}
	sizes := map[string]int{}
	for _, sc := range scenarios {
		t0 := time.Now()
		total, size, err := fetchPage(ctx, base, token, sc.query)
		cold[sc.key] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.key, err)
		}
		totals[sc.key], sizes[sc.key] = total, size
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	type key struct {
		scenario string // "" is the floor
		clients  int
	}
	runs := map[key][]authzbench.Latency{}
	var rss, hwm int64
	for r := range *rounds {
		for _, c := range clients {
			runtime.GC()
			got, err := authzbench.Run(ctx, floor.url, token, []authzbench.Request{{Method: "GET", Path: "/api/v1/users"}}, c, *warmup, *duration)
			if err != nil {
				return fmt.Errorf("floor, %d clients: %w", c, err)
			}
			l := authzbench.Summarise(got, *duration)
			runs[key{"", c}] = append(runs[key{"", c}], l)
			logf("round %d, %2d clients: floor p50 %s p99 %s %.0f req/s", r+1, c, ms(l.P50), ms(l.P99), l.PerSecond)
			for _, sc := range scenarios {
				got, err := authzbench.Run(ctx, base, token, []authzbench.Request{{Method: "GET", Path: "/api/v1/users?" + sc.query}}, c, *warmup, *duration)
				if err != nil {
					return fmt.Errorf("%s, %d clients: %w", sc.key, c, err)
				}
				l := authzbench.Summarise(got, *duration)
				runs[key{sc.key, c}] = append(runs[key{sc.key, c}], l)
				logf("round %d, %2d clients: %-22s p50 %s p99 %s %.0f req/s", r+1, c, sc.key, ms(l.P50), ms(l.P99), l.PerSecond)
			}
			if server != nil {
				if now, peak, err := server.memory(); err == nil {
					rss, hwm = max(rss, now), max(hwm, peak)
				}
			}
		}
	}

	where := "a roster serve process"
	if *inProcess {
		where = "the API served in the load generator's process (diagnosis)"
	}
	fmt.Fprintf(stdout, "Database: %s; %d tenants x %d users, the first measured; statistics: %s; %d CPUs; %s\n",
		db.Dialect(), cfg.Tenants, cfg.UsersPerTenant, *stats, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(stdout, "GET /api/v1/users over HTTP on loopback against %s, next to the floor (a bare net/http handler in its own process answering a fixed JSON body); "+
		"the load generator is a third process. %d rounds of %s per scenario and client count, floor and roster alternating; each cell is the range over the rounds, "+
		"each ratio against the floor of the same round.\n\n", where, *rounds, *duration)
	fmt.Fprintln(stdout, "| scenario | total | bytes | clients | floor p50 | p50 | p50 ÷ floor | p99 | req/s | ÷ floor's req/s | cold first request | bar |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	firstPage := map[int][]authzbench.Latency{}
	for _, c := range clients {
		firstPage[c] = runs[key{"first", c}]
	}
	for _, sc := range scenarios {
		for _, c := range clients {
			fl, ro := runs[key{"", c}], runs[key{sc.key, c}]
			var p50, p99, rate, ratio, share []float64
			for i := range ro {
				p50 = append(p50, msf(ro[i].P50))
				p99 = append(p99, msf(ro[i].P99))
				rate = append(rate, ro[i].PerSecond)
				ratio = append(ratio, float64(ro[i].P50)/float64(max(fl[i].P50, 1)))
				share = append(share, ro[i].PerSecond/max(fl[i].PerSecond, 1))
			}
			var floorP50 []float64
			for _, l := range fl {
				floorP50 = append(floorP50, msf(l.P50))
			}
			coldText := ""
			if c == clients[0] {
				coldText = fmt.Sprintf("%.1f ms (%.1f× p50)", msf(cold[sc.key]), msf(cold[sc.key])/max(slices.Min(p50), 0.001))
			}
			bar := dirBar(sc, c, ratio, share, p99, firstPage[c], ro)
			fmt.Fprintf(stdout, "| %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", sc.label, totals[sc.key], sizes[sc.key], c,
				span(floorP50, "%.3f"), span(p50, "%.2f"), span(ratio, "%.1f×"), span(p99, "%.2f"), span(rate, "%.0f"), span(share, "%.2f"), coldText, bar)
		}
	}
	if server != nil {
		fmt.Fprintf(stdout, "\nServer memory after the runs: RSS %d MB, peak (VmHWM) %d MB.\n", rss>>20, hwm>>20)
	}
	return nil
}

// dirBar judges a cell against issue 20's bars.
func dirBar(sc dirScenario, clients int, ratio, share, p99 []float64, first, ro []authzbench.Latency) string {
	worst := slices.Max(ratio)
	switch {
	case sc.exact && clients == 1:
		return "p50 ≤ 8×: " + yes(worst <= 8)
	case sc.exact:
		return "p99 ≤ 40 ms: " + yes(slices.Max(p99) <= 40)
	case sc.search && clients == 1:
		return "p50 ≤ 25×: " + yes(worst <= 25)
	case sc.filtered && len(first) == len(ro):
		ok := true
		for i := range ro {
			ok = ok && ro[i].P50 <= 2*first[i].P50
		}
		return "≤ 2× first page: " + yes(ok)
	case sc.search || sc.exact:
		return ""
	case clients == 1:
		return "p50 ≤ 8×: " + yes(worst <= 8)
	default:
		return "≥ 50% of floor's req/s: " + yes(slices.Min(share) >= 0.5)
	}
}

// directoryScenarios are the measured requests on the first tenant; the
// exact lookups use a real user's email, username and mobile number.
func directoryScenarios(ctx context.Context, svc *roster.Service, db *store.DB, tenant int64) ([]dirScenario, error) {
	groups, err := svc.ListGroups(ctx, roster.SystemActor(tenant))
	if err != nil {
		return nil, err
	}
	var site *roster.Group
	for i := range groups {
		if groups[i].Level == 2 {
			site = &groups[i]
			break
		}
	}
	if site == nil {
		return nil, fmt.Errorf("tenant %d has no level-2 group", tenant)
	}
	// A user with all three whose mobile number is a valid German mobile
	// one, from the middle of the tenant.
	var username, email, mobile string
	q := fmt.Sprintf(`SELECT username, email, mobile FROM users WHERE tenant_id = %d AND email <> '' AND mobile LIKE '+49%%' ORDER BY id LIMIT 200 OFFSET 5000`, tenant)
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	for rows.Next() && mobile == "" {
		var u, e, m string
		if err := rows.Scan(&u, &e, &m); err != nil {
			rows.Close()
			return nil, err
		}
		if n, err := phone.NormalizeMobile(m); err == nil && n == m {
			username, email, mobile = u, e, m
		}
	}
	rows.Close()
	if mobile == "" {
		return nil, fmt.Errorf("tenant %d: no user with a valid German mobile number for the exact lookups", tenant)
	}
	national := mobile[3:] // without the country code
	spaced := "+49 " + national[:3] + " " + national[3:]
	zeros := "0049" + national
	dashed := "+49 (" + national[:3] + ") " + national[3:6] + "-" + national[6:]
	site1 := strconv.FormatInt(site.ID, 10)
	v := url.Values{}
	enc := func(kv ...string) string {
		clear(v)
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	return []dirScenario{
		{key: "first", label: "first page (sort=name)", query: enc("per_page", "25")},
		{key: "page20", label: "page 20", query: enc("per_page", "25", "page", "20")},
		{key: "active", label: "status=active", query: enc("per_page", "25", "status", "active"), filtered: true},
		{key: "role", label: "role=agent, status=active, sort=last_login_at desc", query: enc("per_page", "25", "role", "agent", "status", "active", "sort", "last_login_at", "order", "desc"), filtered: true},
		{key: "group", label: "group=" + site.Name + " (subtree), sort=email", query: enc("per_page", "25", "group", site1, "sort", "email"), filtered: true},
		{key: "email", label: "q=full email", query: enc("per_page", "25", "q", email), exact: true},
		{key: "username", label: "q=username", query: enc("per_page", "25", "q", username), exact: true},
		{key: "mobile", label: "q=mobile as stored (E.164)", query: enc("per_page", "25", "q", mobile), exact: true},
		{key: "mobile_spaced", label: "q=mobile `" + spaced + "`", query: enc("per_page", "25", "q", spaced), exact: true},
		{key: "mobile_00", label: "q=mobile `" + zeros + "`", query: enc("per_page", "25", "q", zeros), exact: true},
		{key: "mobile_dashed", label: "q=mobile `" + dashed + "`", query: enc("per_page", "25", "q", dashed), exact: true},
		{key: "q_son", label: "q=son (3 characters)", query: enc("per_page", "25", "q", "son"), search: true},
		{key: "q_schm", label: "q=schm (surname fragment)", query: enc("per_page", "25", "q", "schm"), search: true},
	}, nil
}

// setStats leaves, deletes or refreshes the planner's statistics.
func setStats(ctx context.Context, db *store.DB, how string) error {
	var stmts []string
	switch {
	case how == "keep":
		return nil
	case how == "analyze" && db.Dialect() == store.SQLite:
		stmts = []string{`ANALYZE`}
	case how == "analyze":
		stmts = []string{`ANALYZE`}
	case how == "none" && db.Dialect() == store.SQLite:
		stmts = []string{`DELETE FROM sqlite_stat1`, `ANALYZE sqlite_schema`} // the second makes SQLite reload (no) statistics
	case how == "none":
		// Superuser: the statistics of this schema's tables and their
		// extended statistics go; autovacuum (off on the test server) would
		// bring them back.
		stmts = []string{
			`DELETE FROM pg_statistic WHERE starelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema())`,
			`DELETE FROM pg_statistic_ext_data WHERE stxoid IN (SELECT e.oid FROM pg_statistic_ext e JOIN pg_namespace n ON n.oid = e.stxnamespace WHERE n.nspname = current_schema())`,
		}
	default:
		return fmt.Errorf("--stats: %q is not keep, none or analyze", how)
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// fetchPage gets one page and returns its total and size in bytes.
func fetchPage(ctx context.Context, base, token, query string) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/users?"+query, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var page struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, 0, err
	}
	return page.Total, len(body), nil
}

// serverProcess is a child process serving HTTP.
type serverProcess struct {
	url string
	cmd *exec.Cmd
}

func (p *serverProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// memory reads the process's resident set and its peak from /proc (Linux).
func (p *serverProcess) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = kb << 10
			} else {
				peak = kb << 10
			}
		}
	}
	return rss, peak, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startRoster runs `roster serve` on the dataset and waits for /readyz.
func startRoster(ctx context.Context, bin, dsn, dir string, cfg bench.Config, logFile string) (*serverProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	serveArgs := []string{"serve", "--addr", addr}
	if dsn != "" {
		schemaDSN, err := bench.SchemaDSN(dsn, cfg)
		if err != nil {
			return nil, err
		}
		serveArgs = append(serveArgs, "--db", schemaDSN)
	} else {
		serveArgs = append(serveArgs, "--data", bench.DataDir(dir, cfg))
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	p := &serverProcess{url: "http://" + addr, cmd: execServe(ctx, bin, log, serveArgs...)}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, p.url+"/readyz"); err != nil {
		p.stop()
		return nil, fmt.Errorf("roster serve (log in %s): %w", logFile, err)
	}
	return p, nil
}

// execServe is the command of a roster serve whose output goes to log.
func execServe(ctx context.Context, bin string, log io.Writer, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "ROSTER_SMTP_URL=")
	return cmd
}

// startFloor runs this binary as `roster-load floor` and waits for it.
func startFloor(ctx context.Context, stderr io.Writer) (*serverProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "floor", "--addr", addr)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{url: "http://" + addr, cmd: cmd}
	if err := waitReady(ctx, p.url+"/"); err != nil {
		p.stop()
		return nil, fmt.Errorf("floor: %w", err)
	}
	return p, nil
}

func waitReady(ctx context.Context, u string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready: %v", u, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runFloor serves the floor: a bare net/http handler answering a fixed JSON
// body, in a process of its own as roster serve is.
func runFloor(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("roster-load floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(`{"items":[],"total":0,"page":1,"per_page":25}` + "\n")
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func parseClients(list string) ([]int, error) {
	var out []int
	for _, c := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--clients: %q is not a number of clients", c)
		}
		out = append(out, n)
	}
	return out, nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// span is "min–max" of values (one value when they agree in format).
func span(values []float64, format string) string {
	lo, hi := fmt.Sprintf(format, slices.Min(values)), fmt.Sprintf(format, slices.Max(values))
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}
