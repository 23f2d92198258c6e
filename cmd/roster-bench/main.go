// Command roster-bench runs Roster's benchmarks against generated data.
//
//	roster-bench directory [--db postgres://...] [--users-per-tenant N] [--tenants M]
//
// loads (or reuses) the directory dataset and prints a markdown table of user
// list page latencies.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/bench"
	"github.com/roster-dev/roster/internal/roster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "roster-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "directory" {
		return errors.New("usage: roster-bench directory [flags] (see roster-bench directory -h)")
	}
	fs := flag.NewFlagSet("directory", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", os.Getenv("ROSTER_DB"), "postgres:// URL (the dataset goes into a schema of its own); empty: SQLite")
	dir := fs.String("data", bench.DefaultDir(), "folder for SQLite datasets, kept between runs")
	users := fs.Int("users-per-tenant", bench.DefaultConfig.UsersPerTenant, "users in each tenant")
	tenants := fs.Int("tenants", bench.DefaultConfig.Tenants, "tenants; the first one is measured")
	reps := fs.Int("reps", 200, "measured requests per scenario")
	perPage := fs.Int("per-page", 25, "page size (10, 25, 50 or 100)")
	fresh := fs.Bool("fresh", false, "throw away a dataset of this size and load it again")
	only := fs.String("only", "", "comma-separated scenario keys to run (default: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := bench.Config{Tenants: *tenants, UsersPerTenant: *users}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	db, err := bench.Open(ctx, *dsn, *dir, cfg, *fresh, logf)
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := roster.NewService(db, roster.Options{Logger: logger})

	ds, err := bench.Load(ctx, svc, db, cfg, logf)
	if err != nil {
		return err
	}
	how := "loaded"
	if ds.Reused {
		how = "reused (loaded earlier)"
	}
	logf("dataset %s %s; load took %s", cfg, how, ds.LoadTime.Round(time.Second))
	scenarios, err := bench.Scenarios(ctx, svc, ds, *perPage)
	if err != nil {
		return err
	}
	loadBefore := loadAverage()
	var results []bench.Result
	for _, sc := range scenarios {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.Key) {
			continue
		}
		r, err := bench.Measure(ctx, svc, ds.TenantIDs[0], sc, *reps)
		if err != nil {
			return err
		}
		logf("%-20s p95 %s", sc.Key, r.P95.Round(10*time.Microsecond))
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "Database: %s; %d tenants x %d users; %d requests per scenario, %d per page; %d CPUs; %s\n",
		db.Dialect(), cfg.Tenants, cfg.UsersPerTenant, *reps, *perPage, runtime.NumCPU(), runtime.Version())
	// Other work on the machine shows in the tail of the latencies.
	fmt.Fprintf(stdout, "Load average (1 min) before and after: %s, %s\n\n", loadBefore, loadAverage())
	bench.WriteTable(stdout, results)
	return nil
}

// loadAverage is the 1-minute load average, or "?" where /proc has none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
