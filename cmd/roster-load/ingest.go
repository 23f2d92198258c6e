package main

// roster-load ingest: interaction ingest over HTTP against a real `roster
// serve` (SQLite), the load generator in this process, on a fresh copy of
// the decision dataset per run, the rate reported per million rows as the
// table grows.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/authzbench"
	"github.com/roster-dev/roster/internal/roster"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roster-load ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", authzbench.DefaultDir(), "folder for SQLite datasets, kept between runs (each run works on a copy)")
	rosterBin := fs.String("roster", "", "the roster binary to serve with (go build -o FILE ./cmd/roster); required")
	rows := fs.Int("rows", 5_000_000, "rows to ingest in each run")
	step := fs.Int("step", 1_000_000, "report the rate of each step of this many rows")
	batch := fs.Int("batch", 5000, "rows per batch")
	agentList := fs.String("agents", "200,2000", "agent IDs each run's interactions are spread over (one run each)")
	clients := fs.Int("clients", 1, "concurrent clients sending batches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rosterBin == "" {
		return errors.New("--roster FILE is required (go build -o FILE ./cmd/roster)")
	}
	agentCounts, err := parseClients(*agentList)
	if err != nil {
		return fmt.Errorf("--agents: %w", err)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	cfg := authzbench.Default
	db, err := authzbench.Open(ctx, "", *dir, cfg, false)
	if err != nil {
		return err
	}
	svc := roster.NewService(db, roster.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ds, err := authzbench.Load(ctx, svc, db, cfg, logf)
	if err != nil {
		db.Close()
		return err
	}
	_, token, err := svc.CreateToken(ctx, roster.SystemActor(ds.TenantID), roster.TokenInput{Name: fmt.Sprintf("roster-load %d", time.Now().UnixNano()), Role: roster.RoleAdmin})
	db.Close() // checkpoints the WAL: the folder is then one file to copy
	if err != nil {
		return err
	}
	src := filepath.Join(*dir, "authz-"+cfg.String())
	work := filepath.Join(*dir, "ingest-work")

	fmt.Fprintf(stdout, "POST /api/v1/interactions/batch over HTTP to a roster serve process (SQLite), the load generator a separate process; "+
		"tenant of %d users, %d groups, %d agent IDs; batches of %d rows, %d client(s); each run on a fresh copy of the dataset; %d CPUs; %s\n\n",
		cfg.Users, cfg.Groups, cfg.AgentIDs, *batch, *clients, runtime.NumCPU(), runtime.Version())
	header := "| agent IDs |"
	rule := "|---:|"
	for n := *step; n <= *rows; n += *step {
		header += fmt.Sprintf(" %s→%s rows |", millions(n-*step), millions(n))
		rule += "---:|"
	}
	fmt.Fprintln(stdout, header+" whole run |")
	fmt.Fprintln(stdout, rule+"---:|")
	for _, agents := range agentCounts {
		if err := os.RemoveAll(work); err != nil {
			return err
		}
		if err := copyDir(src, work); err != nil {
			return err
		}
		server, err := startIngestServer(ctx, *rosterBin, work)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("| %d |", agents)
		var spent float64 // seconds of the steps' clocks
		done := 0
		for done < *rows {
			n := min(*step, *rows-done)
			part := ds.IngestRows(n, agents, strconv.FormatInt(time.Now().UnixNano(), 36))
			rate, err := authzbench.IngestHTTP(ctx, server.url, token, part, *batch, *clients)
			if err != nil {
				server.stop()
				return err
			}
			done += n
			spent += float64(n) / rate
			logf("%d agent IDs: %s rows, %.0f rows/s in the last step", agents, millions(done), rate)
			line += fmt.Sprintf(" %.0f |", rate)
		}
		server.stop()
		// The whole run's rate leaves out making the rows (in the load
		// generator, before each step's clock starts).
		fmt.Fprintln(stdout, line+fmt.Sprintf(" %.0f |", float64(done)/spent))
	}
	return os.RemoveAll(work)
}

func millions(n int) string {
	if n%1_000_000 == 0 {
		return strconv.Itoa(n/1_000_000) + "M"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
}

func startIngestServer(ctx context.Context, bin, data string) (*serverProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(os.TempDir(), "roster-load-ingest.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	p := &serverProcess{url: "http://" + addr}
	p.cmd = execServe(ctx, bin, log, "serve", "--addr", addr, "--data", data)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(ctx, p.url+"/readyz"); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// copyDir copies the files of a dataset folder (no subfolders).
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
