package bench

// roster-load scim: the SCIM benchmark over HTTP. Three processes: the load
// generator (the caller of RunSCIMLoad), a real `roster serve` on the SCIM
// dataset, and the floor (RunSCIMFloor: a bare net/http handler answering a
// fixed ListResponse). Rounds alternate floor and roster, so that drift of
// the machine hits both.

import (
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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/roster-dev/roster/internal/authzbench"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
)

// SCIMBar is the p95 every SCIM scenario must stay under (issue 15).
const SCIMBar = 30 * time.Millisecond

// RunSCIMLoad runs `roster-load scim ARGS`.
func RunSCIMLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roster-load scim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", os.Getenv("ROSTER_DB"), "postgres:// URL (the dataset goes into a schema of its own); empty: SQLite")
	dir := fs.String("data", DefaultDir(), "folder for SQLite datasets, kept between runs")
	cfg := DefaultConfig
	cfg.Name = "scim"
	fs.IntVar(&cfg.Tenants, "tenants", cfg.Tenants, "tenants; the first one is measured")
	fs.IntVar(&cfg.UsersPerTenant, "users-per-tenant", cfg.UsersPerTenant, "users in each tenant")
	rosterBin := fs.String("roster", "", "the roster binary to serve with (go build -o FILE ./cmd/roster); required")
	duration := fs.Duration("duration", 3*time.Second, "measured time of each run")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "warm-up before each run")
	rounds := fs.Int("rounds", 3, "rounds (floor and roster alternate in each)")
	clients := fs.Int("clients", 1, "concurrent clients (identity providers send one request at a time)")
	only := fs.String("only", "", "comma-separated scenario keys (default: all)")
	fresh := fs.Bool("fresh", false, "throw away a dataset of this size and load it again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rosterBin == "" {
		return errors.New("--roster FILE is required (go build -o FILE ./cmd/roster)")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	db, err := Open(ctx, *dsn, *dir, cfg, *fresh, logf)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ds, err := Load(ctx, svc, db, cfg, logf)
	if err != nil {
		return err
	}
	if err := PrepareSCIM(ctx, db, ds); err != nil {
		return err
	}
	scenarios, err := SCIMScenarios(ctx, db, ds)
	if err != nil {
		return err
	}
	if *only != "" {
		keep := strings.Split(*only, ",")
		scenarios = slices.DeleteFunc(scenarios, func(s SCIMScenario) bool { return !slices.Contains(keep, s.Key) })
	}
	_, token, err := svc.CreateToken(ctx, roster.SystemActor(ds.TenantIDs[0]), roster.TokenInput{Name: fmt.Sprintf("roster-load scim %d", time.Now().UnixNano()), Role: roster.RoleAdmin})
	if err != nil {
		return err
	}
	dialect := db.Dialect()
	db.Close() // the server opens the database itself: nothing of it stays warm here

	floor, err := startFloorProcess(ctx, stderr)
	if err != nil {
		return err
	}
	defer floor.stop()
	serveArgs, err := scimServeArgs(*dsn, *dir, cfg)
	if err != nil {
		return err
	}
	server, err := startServe(ctx, *rosterBin, serveArgs, filepath.Join(os.TempDir(), "roster-load-scim-serve.log"))
	if err != nil {
		return err
	}
	defer server.stop()

	// Each scenario once: it must answer 200; its total and size go in the table.
	totals, sizes := map[string]int{}, map[string]int{}
	for _, sc := range scenarios {
		total, size, err := scimGet(ctx, server.url, token, sc.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.Key, err)
		}
		totals[sc.Key], sizes[sc.Key] = total, size
	}

	type run struct{ p50, p95, p99, cpu time.Duration } // cpu: the server's CPU time per request
	runs := map[string][]run{}                          // "" is the floor
	measure := func(key, base string, paths []string, round int) error {
		runtime.GC()
		var reqs []authzbench.Request
		for _, p := range paths {
			reqs = append(reqs, authzbench.Request{Method: "GET", Path: p})
		}
		pid := server.cmd.Process.Pid
		if key == "" {
			pid = floor.cmd.Process.Pid
		}
		cpu0, _ := processCPU(pid) // includes the warm-up's requests: a slight overstatement
		got, err := authzbench.Run(ctx, base, token, reqs, *clients, *warmup, *duration)
		if err != nil {
			return fmt.Errorf("%s: %w", cmpKey(key), err)
		}
		cpu1, _ := processCPU(pid)
		r := run{Percentile(got, 50), Percentile(got, 95), Percentile(got, 99), (cpu1 - cpu0) / time.Duration(max(len(got), 1))}
		runs[key] = append(runs[key], r)
		logf("round %d: %-20s p50 %s p95 %s p99 %s cpu/request %s (%d requests)", round, cmpKey(key), msText(r.p50), msText(r.p95), msText(r.p99), msText(r.cpu), len(got))
		return nil
	}
	load0, _ := loadAverage()
	for r := range *rounds {
		if err := measure("", floor.url, []string{"/scim/v2/Users"}, r+1); err != nil {
			return err
		}
		for _, sc := range scenarios {
			paths := []string{scim.Base + sc.Path}
			if sc.Walk != nil {
				paths = nil
				for _, p := range sc.Walk {
					paths = append(paths, scim.Base+p)
				}
			}
			if err := measure(sc.Key, server.url, paths, r+1); err != nil {
				return err
			}
		}
	}
	load1, _ := loadAverage()

	fmt.Fprintf(stdout, "Database: %s; %d tenants x %d users, the first measured; %d CPUs; %s; load average %s before, %s after\n",
		dialect, cfg.Tenants, cfg.UsersPerTenant, runtime.NumCPU(), runtime.Version(), load0, load1)
	fmt.Fprintf(stdout, "GET %s over HTTP on loopback against a roster serve process, next to the floor (a bare net/http handler in its own process answering a fixed ListResponse); "+
		"the load generator is a third process, %d client(s). %d rounds of %s per scenario; each cell is the range over the rounds.\n\n", scim.Base, *clients, *rounds, *duration)
	fmt.Fprintln(stdout, "| scenario | total | bytes | p50 ms | p95 ms | p99 ms | p95 ÷ floor p95 | server CPU ms per request | bar (p95 ≤ 30 ms) |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
	span := func(rs []run, f func(run) time.Duration) (time.Duration, time.Duration) {
		lo, hi := f(rs[0]), f(rs[0])
		for _, r := range rs[1:] {
			lo, hi = min(lo, f(r)), max(hi, f(r))
		}
		return lo, hi
	}
	rangeText := func(rs []run, f func(run) time.Duration) string {
		lo, hi := span(rs, f)
		return msText(lo) + "–" + msText(hi)
	}
	p50 := func(r run) time.Duration { return r.p50 }
	p95 := func(r run) time.Duration { return r.p95 }
	p99 := func(r run) time.Duration { return r.p99 }
	cpu := func(r run) time.Duration { return r.cpu }
	fl := runs[""]
	fmt.Fprintf(stdout, "| floor (bare handler) | | | %s | %s | %s | 1 | %s | |\n", rangeText(fl, p50), rangeText(fl, p95), rangeText(fl, p99), rangeText(fl, cpu))
	for _, sc := range scenarios {
		rs := runs[sc.Key]
		lo, hi := 0.0, 0.0
		for i, r := range rs {
			x := float64(r.p95) / float64(max(fl[i].p95, 1))
			if i == 0 || x < lo {
				lo = x
			}
			hi = max(hi, x)
		}
		_, worst := span(rs, p95)
		ok := "yes"
		if worst > SCIMBar {
			ok = "**no**"
		}
		fmt.Fprintf(stdout, "| %s | %d | %d | %s | %s | %s | %.0f–%.0f× | %s | %s |\n", sc.Label, totals[sc.Key], sizes[sc.Key],
			rangeText(rs, p50), rangeText(rs, p95), rangeText(rs, p99), lo, hi, rangeText(rs, cpu), ok)
	}
	return nil
}

func cmpKey(key string) string {
	if key == "" {
		return "floor"
	}
	return key
}

// processCPU is the CPU time (user and system) process pid has used (Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (which may hold spaces) in parentheses.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100, nil // clock ticks: USER_HZ is 100 on Linux
}

// loadAverage is the 1-minute load average (Linux), for the report.
func loadAverage() (string, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?", err
	}
	return strings.Fields(string(b))[0], nil
}

// scimServeArgs are `roster serve`'s arguments for the dataset of cfg as
// Open keeps it: the SQLite data folder, or the schema on PostgreSQL.
func scimServeArgs(dsn, dir string, cfg Config) ([]string, error) {
	name := cfg.Name + "-" + cfg.String()
	if dsn == "" {
		return []string{"--data", filepath.Join(dir, name)}, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", "roster_bench_"+strings.ReplaceAll(name, "-", "_")+",public")
	u.RawQuery = q.Encode()
	return []string{"--db", u.String()}, nil
}

// scimGet sends one GET and returns the ListResponse's total and the body's size.
func scimGet(ctx context.Context, base, token, path string) (int, int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+scim.Base+path, nil)
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
	var list struct {
		Total int `json:"totalResults"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, 0, err
	}
	return list.Total, len(body), nil
}

// process is a server the benchmark started.
type process struct {
	url string
	cmd *exec.Cmd
}

func (p *process) stop() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		_ = p.cmd.Wait()
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startServe(ctx context.Context, bin string, dbArgs []string, logFile string) (*process, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--addr", addr}, dbArgs...)...)
	cmd.Stdout, cmd.Stderr = log, log
	p := &process{url: "http://" + addr, cmd: cmd}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitUp(ctx, p.url+"/readyz"); err != nil {
		p.stop()
		return nil, fmt.Errorf("roster serve (log in %s): %w", logFile, err)
	}
	return p, nil
}

// startFloorProcess runs this program again as `roster-load scim-floor`.
func startFloorProcess(ctx context.Context, stderr io.Writer) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "scim-floor", "--addr", addr)
	cmd.Stderr = stderr
	p := &process{url: "http://" + addr, cmd: cmd}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitUp(ctx, p.url+"/"); err != nil {
		p.stop()
		return nil, fmt.Errorf("floor: %w", err)
	}
	return p, nil
}

func waitUp(ctx context.Context, u string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within 2 minutes (last: %v)", u, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RunSCIMFloor runs `roster-load scim-floor --addr ADDR`: the floor, a bare
// net/http handler answering every request with a fixed, empty ListResponse.
func RunSCIMFloor(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("roster-load scim-floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}` + "\n")
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
