// Command roster-load measures the decision API and interaction ingest on a
// large tenant (100k users, 10k groups, 1M agent IDs by default):
//
//   - check in-process (the core's Check, answered by the decision index);
//   - check over HTTP on loopback at 1 and 32 concurrent clients, next to a
//     bare net/http handler measured in the same run by the same load
//     generator (this one), rounds interleaved so that drift hits both;
//   - scope of a team leader over about 10k agent IDs, in-process and over HTTP;
//   - ingest, through the core and over HTTP.
//
// It prints markdown tables. The dataset is loaded once and kept (SQLite in
// the cache folder, or a schema of its own on PostgreSQL with --db).
//
//	go run ./cmd/roster-load [--db postgres://...] [--duration 5s] [--rounds 3]
//
// roster-load directory measures the user list over HTTP against a real
// roster serve on the directory dataset (directory.go); roster-load scim
// measures SCIM filter and page requests the same way, on the SCIM dataset
// (internal/bench/load_scim.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/authzbench"
	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/roster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "roster-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "directory": // directory.go
			return runDirectory(ctx, args[1:], stdout, stderr)
		case "ingest": // ingest.go
			return runIngest(ctx, args[1:], stdout, stderr)
		case "floor":
			return runFloor(ctx, args[1:], stderr)
		case "scim":
			return bench.RunSCIMLoad(ctx, args[1:], stdout, stderr)
		case "scim-floor":
			return bench.RunSCIMFloor(ctx, args[1:], stderr)
		}
	}
	fs := flag.NewFlagSet("roster-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", os.Getenv("ROSTER_DB"), "postgres:// URL (the dataset goes into a schema of its own); empty: SQLite")
	dir := fs.String("data", authzbench.DefaultDir(), "folder for SQLite datasets, kept between runs")
	cfg := authzbench.Default
	fs.IntVar(&cfg.Users, "users", cfg.Users, "users in the tenant")
	fs.IntVar(&cfg.Groups, "groups", cfg.Groups, "groups in the tenant")
	fs.IntVar(&cfg.AgentIDs, "agent-ids", cfg.AgentIDs, "agent IDs in the tenant")
	fresh := fs.Bool("fresh", false, "throw away a dataset of this size and load it again")
	checks := fs.Int("checks", 1_000_000, "in-process checks to time")
	duration := fs.Duration("duration", 5*time.Second, "measured time of each HTTP run")
	warmup := fs.Duration("warmup", time.Second, "warm-up before each HTTP run")
	rounds := fs.Int("rounds", 3, "rounds of HTTP runs (bare and roster alternate)")
	clientList := fs.String("clients", "1,32", "concurrent clients of the HTTP runs")
	ingestRows := fs.Int("ingest-rows", 200_000, "rows to ingest (0: skip ingest)")
	batch := fs.Int("batch", 5000, "rows per ingest batch")
	ingestAgentList := fs.String("ingest-agents", "200,2000", "agent IDs each ingest run's interactions are spread over (one run each)")
	ingestClientList := fs.String("ingest-clients", "1", "concurrent clients sending batches (one run each)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	conns := fs.Int("conns", 0, "diagnosis: limit the database pool to this many connections")
	onlyIngest := fs.Bool("only-ingest", false, "skip the decision API runs (check, scope): measure ingest only")
	ingestHTTP := fs.Bool("ingest-http", true, "also measure ingest over HTTP")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var clients []int
	for _, c := range strings.Split(*clientList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("--clients: %q is not a number of clients", c)
		}
		clients = append(clients, n)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
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

	db, err := authzbench.Open(ctx, *dsn, *dir, cfg, *fresh)
	if err != nil {
		return err
	}
	defer db.Close()
	if *conns > 0 {
		db.SQL().SetMaxOpenConns(*conns)
	}
	svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	go svc.RunAuthzSync(syncCtx)

	ds, err := authzbench.Load(ctx, svc, db, cfg, logf)
	if err != nil {
		return err
	}
	how := "loaded in " + ds.LoadTime.Round(time.Second).String()
	if ds.Reused {
		how = "reused (loaded earlier in " + ds.LoadTime.Round(time.Second).String() + ")"
	}
	logf("dataset %s on %s: %s", cfg, db.Dialect(), how)
	warm, err := authzbench.Warm(ctx, svc, ds)
	if err != nil {
		return err
	}
	logf("decision index partition loaded in %s", warm.Round(time.Millisecond))

	fmt.Fprintf(stdout, "Database: %s; tenant of %d users, %d groups, %d agent IDs; %d CPUs; %s\n\n",
		db.Dialect(), len(ds.Users), len(ds.Groups), len(ds.Agents), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(stdout, "Decision index: first load of the tenant's partition %s.\n\n", ms(warm))

	// A token and the roster server for the HTTP runs.
	_, token, err := svc.CreateToken(ctx, roster.SystemActor(ds.TenantID), roster.TokenInput{Name: fmt.Sprintf("roster-load %d", time.Now().UnixNano()), Role: roster.RoleAdmin})
	if err != nil {
		return err
	}
	rosterSrv, err := authzbench.StartRoster(svc)
	if err != nil {
		return err
	}
	defer rosterSrv.Close()
	if !*onlyIngest {
		// In-process.
		runtime.GC()
		check, allowed, err := authzbench.CheckInProcess(ctx, svc, ds, *checks)
		if err != nil {
			return err
		}
		lead, leadAgents, err := authzbench.ScopeInProcess(ctx, svc, ds, ds.Lead, 200)
		if err != nil {
			return err
		}
		agent, agentAgents, err := authzbench.ScopeInProcess(ctx, svc, ds, ds.Agent, 10_000)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "| in-process (core) | calls | mean | p50 | p99 | bar |")
		fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---|")
		fmt.Fprintf(stdout, "| check (%d%% allowed) | %d | %s | %s | %s | ≤ 2 µs: %s |\n", allowed*100/max(1, check.N), check.N,
			us(check.Mean), us(check.P50), us(check.P99), yes(check.Mean <= 2*time.Microsecond))
		fmt.Fprintf(stdout, "| scope, team leader over one site (%d agent IDs) | %d | %s | %s | %s | |\n", leadAgents, lead.N, us(lead.Mean), us(lead.P50), us(lead.P99))
		fmt.Fprintf(stdout, "| scope, agent (%d agent IDs) | %d | %s | %s | %s | |\n\n", agentAgents, agent.N, us(agent.Mean), us(agent.P50), us(agent.P99))

		// Over HTTP, next to the bare handler.
		bare, err := authzbench.StartBare()
		if err != nil {
			return err
		}
		defer bare.Close()
		reqs := authzbench.CheckRequests(ds.Checks(100_000))
		type key struct {
			server  string
			clients int
		}
		samples := map[key][]time.Duration{}
		for r := range *rounds {
			for _, c := range clients {
				for _, s := range []struct {
					name string
					srv  *authzbench.Server
				}{{"bare", bare}, {"roster", rosterSrv}} {
					runtime.GC()
					got, err := authzbench.Run(ctx, s.srv.URL, token, reqs, c, *warmup, *duration)
					if err != nil {
						return fmt.Errorf("%s, %d clients: %w", s.name, c, err)
					}
					k := key{s.name, c}
					samples[k] = append(samples[k], got...)
					l := authzbench.Summarise(got, *duration)
					logf("round %d: %-6s %2d clients: p50 %s p99 %s, %.0f req/s", r+1, s.name, c, ms(l.P50), ms(l.P99), l.PerSecond)
				}
			}
		}
		fmt.Fprintf(stdout, "POST /api/v1/authz/check over HTTP on loopback; %d rounds of %s per server and client count, interleaved; the load generator runs in the same process.\n\n", *rounds, *duration)
		fmt.Fprintln(stdout, "| clients | bare p50 | roster p50 | ratio | bare p99 | roster p99 | ratio | roster req/s | bar (≤ 1.5×) |")
		fmt.Fprintln(stdout, "|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		wall := time.Duration(*rounds) * *duration
		for _, c := range clients {
			b := authzbench.Summarise(samples[key{"bare", c}], wall)
			o := authzbench.Summarise(samples[key{"roster", c}], wall)
			r50, r99 := ratio(o.P50, b.P50), ratio(o.P99, b.P99)
			fmt.Fprintf(stdout, "| %d | %s | %s | %.2f× | %s | %s | %.2f× | %.0f | %s |\n", c, ms(b.P50), ms(o.P50), r50, ms(b.P99), ms(o.P99), r99,
				o.PerSecond, yes(r50 <= 1.5 && r99 <= 1.5))
		}
		scopeReq := []authzbench.Request{{Method: "GET", Path: fmt.Sprintf("/api/v1/authz/scope?user_id=%d", ds.Lead)}}
		got, err := authzbench.Run(ctx, rosterSrv.URL, token, scopeReq, 1, *warmup/2, *duration/2)
		if err != nil {
			return err
		}
		sl := authzbench.Summarise(got, *duration/2)
		fmt.Fprintf(stdout, "\nGET /api/v1/authz/scope for the team leader (%d agent IDs in the answer), 1 client: p50 %s, p99 %s.\n\n", leadAgents, ms(sl.P50), ms(sl.P99))

	}

	if *ingestRows > 0 {
		fmt.Fprintf(stdout, "Ingest of %d new interactions in batches of %d rows, each agent working in one team:\n\n", *ingestRows, *batch)
		fmt.Fprintln(stdout, "| agent IDs in the run | clients | through the core | over HTTP (JSON both ways) | bar (≥ 50,000/s, core) |")
		fmt.Fprintln(stdout, "|---:|---:|---:|---:|---|")
		var ingestClients []int
		for _, c := range strings.Split(*ingestClientList, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(c))
			if err != nil || n < 1 {
				return fmt.Errorf("--ingest-clients: %q is not a number of clients", c)
			}
			ingestClients = append(ingestClients, n)
		}
		for _, f := range strings.Split(*ingestAgentList, ",") {
			agents, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || agents < 1 {
				return fmt.Errorf("--ingest-agents: %q is not a number", f)
			}
			for _, clients := range ingestClients {
				if err := authzbench.Analyze(ctx, db); err != nil {
					return err
				}
				run := strconv.FormatInt(time.Now().UnixNano(), 36)
				rows := ds.IngestRows(*ingestRows, agents, "core-"+run)
				runtime.GC()
				core, err := authzbench.Ingest(ctx, svc, ds, rows, *batch, clients)
				if err != nil {
					return err
				}
				var overHTTP float64
				if *ingestHTTP {
					rows = ds.IngestRows(*ingestRows, agents, "http-"+run)
					runtime.GC()
					if overHTTP, err = authzbench.IngestHTTP(ctx, rosterSrv.URL, token, rows, *batch, clients); err != nil {
						return err
					}
				}
				logf("ingest over %d agent IDs, %d clients: core %.0f rows/s, HTTP %.0f rows/s", agents, clients, core, overHTTP)
				fmt.Fprintf(stdout, "| %d | %d | %.0f rows/s | %.0f rows/s | %s |\n", agents, clients, core, overHTTP, yes(core >= 50_000))
			}
		}
	}
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }

func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 2, 64) + " µs"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
