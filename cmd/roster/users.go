package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// failedRows ends an import whose rows failed: the rows and the summary
// are printed already; exit status 1.
type failedRows struct{ n int }

func (e failedRows) Error() string {
	return fmt.Sprintf("%d row(s) failed; nothing was written", e.n)
}

// userCommand runs `roster user import|export`, as the platform operator.
func userCommand(ctx context.Context, cmd string, fs *flag.FlagSet, cfg *Config, args []string, stdout, stderr io.Writer) error {
	tenant := fs.String("tenant", "", "tenant slug (required)")
	if cmd == "user export" {
		return exportUsers(ctx, fs, cfg, tenant, args, stdout, stderr)
	}
	dryRun := fs.Bool("dry-run", false, "check every row and print what would happen; write nothing")
	mode := fs.String("mode", roster.ImportCreate, "create (every row is a new user) or upsert (rows whose username exists update that user)")
	invite := fs.Bool("invite", false, "new users are invited: each gets an invitation email (through the outbox)")
	delim := fs.String("delimiter", "", "field delimiter , or ; (default: detected from the header)")
	resume := fs.Bool("resume", false, "finish the tenant's interrupted imports (or roll back those interrupted before writing)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	switch {
	case *tenant == "":
		return usageError{errors.New("--tenant is required")}
	case *mode != roster.ImportCreate && *mode != roster.ImportUpsert:
		return usageError{fmt.Errorf("--mode must be create or upsert, not %q", *mode)}
	case *delim != "" && *delim != "," && *delim != ";":
		return usageError{fmt.Errorf("--delimiter must be , or ;, not %q", *delim)}
	case *resume && fs.NArg() > 0:
		return usageError{errors.New("--resume takes no file: it finishes what the database holds")}
	case !*resume && fs.NArg() != 1:
		return usageError{errors.New("give one file to import, or - for standard input")}
	}
	opts := roster.ImportOptions{Mode: *mode, Invite: *invite, DryRun: *dryRun}
	if *delim != "" {
		opts.Delimiter = rune((*delim)[0])
	}
	progress := &importMeter{w: stderr}
	if isTerminal(stderr) {
		opts.Progress = progress.show
	}
	return withService(ctx, *cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		t, err := svc.TenantBySlug(ctx, *tenant)
		if err != nil {
			return cliError(err)
		}
		sys := roster.SystemActor(t.ID)
		if *resume {
			return resumeImports(ctx, svc, sys, opts.Progress, stdout)
		}
		var src io.Reader = os.Stdin
		if name := fs.Arg(0); name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			src = f
			if opts.Progress != nil { // a file has a size: the meter shows how far
				if progress.total, err = roster.CountImportRows(f); err != nil {
					return err
				}
			}
		}
		rep, err := svc.ImportUsers(ctx, sys, bufio.NewReaderSize(src, 1<<20), opts)
		if opts.Progress != nil {
			fmt.Fprintln(stderr)
		}
		if err != nil {
			return cliError(err)
		}
		for _, e := range rep.Errors {
			if e.Field == "" { // the row as a whole
				fmt.Fprintf(stderr, "row %d: %s\n", e.Row, e.Message)
				continue
			}
			fmt.Fprintf(stderr, "row %d: %s: %s\n", e.Row, e.Field, e.Message)
		}
		if rep.ErrorsNotListed > 0 {
			fmt.Fprintf(stderr, "... and %d more problems\n", rep.ErrorsNotListed)
		}
		if *dryRun && rep.Failed == 0 {
			fmt.Fprintln(stdout, "dry run: nothing was written")
		}
		fmt.Fprintf(stdout, "created %d, updated %d, unchanged %d, failed %d\n", rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
		if rep.Failed > 0 {
			return failedRows{rep.Failed}
		}
		return nil
	})
}

func resumeImports(ctx context.Context, svc *roster.Service, sys *roster.Actor, progress func(string, int), stdout io.Writer) error {
	jobs, err := svc.ResumeImports(ctx, sys, progress)
	var created, updated, unchanged int
	for _, j := range jobs {
		switch j.State {
		case roster.ImportStaging:
			fmt.Fprintf(stdout, "import %d: rolled back (it stopped before writing any user); import the file again\n", j.ID)
		case roster.ImportDone:
			fmt.Fprintf(stdout, "import %d: finished\n", j.ID)
			created, updated, unchanged = created+j.Created, updated+j.Updated, unchanged+j.Unchanged
		}
	}
	if err != nil {
		return cliError(err)
	}
	if len(jobs) == 0 {
		fmt.Fprintln(stdout, "no interrupted import")
	}
	fmt.Fprintf(stdout, "created %d, updated %d, unchanged %d, failed 0\n", created, updated, unchanged)
	return nil
}

func exportUsers(ctx context.Context, fs *flag.FlagSet, cfg *Config, tenant *string, args []string, stdout, stderr io.Writer) error {
	var q roster.UserQuery
	fs.StringVar(&q.Status, "status", "", "only these statuses: invited, active, deactivated (comma-separated)")
	fs.StringVar(&q.Role, "role", "", "only holders of this role key")
	fs.StringVar(&q.Group, "group", "", "only users whose home group is in this group's subtree (a group id)")
	fs.StringVar(&q.Q, "q", "", "only users whose name, username, email or mobile holds this text")
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	if *tenant == "" {
		return usageError{errors.New("--tenant is required")}
	}
	if fs.NArg() > 0 {
		return usageError{errors.New("export writes to standard output and takes no file")}
	}
	return withService(ctx, *cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		t, err := svc.TenantBySlug(ctx, *tenant)
		if err != nil {
			return cliError(err)
		}
		w := bufio.NewWriterSize(stdout, 256<<10)
		if err := svc.WriteUsersCSV(ctx, roster.SystemActor(t.ID), q, w, nil); err != nil {
			return cliError(err)
		}
		return w.Flush()
	})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importMeter writes an import's progress on one terminal line:
// "writing 45000 of 100000 rows (45%), 5200 rows/s".
type importMeter struct {
	w     io.Writer
	total int // 0: unknown (standard input)
	stage string
	since time.Time // the stage's start: its rows count from there
}

func (m *importMeter) show(stage string, rows int) {
	if stage != m.stage {
		m.stage, m.since = stage, time.Now()
	}
	fmt.Fprint(m.w, "\r"+m.line(stage, rows, time.Since(m.since))+"\x1b[K")
}

func (m *importMeter) line(stage string, rows int, took time.Duration) string {
	verb := map[string]string{"checked": "checking", "staged": "staging", "written": "writing"}[stage]
	if verb == "" {
		verb = stage
	}
	s := fmt.Sprintf("%s %d rows", verb, rows)
	if m.total > 0 {
		s = fmt.Sprintf("%s %d of %d rows (%d%%)", verb, rows, m.total, min(rows*100/m.total, 100))
	}
	if secs := took.Seconds(); secs >= 1 {
		s += fmt.Sprintf(", %.0f rows/s", float64(rows)/secs)
	}
	return s
}
