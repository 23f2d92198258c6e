package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// Operator commands: version, backup, doctor; and the exit codes of every
// command: 0 ok, 1 failure, 2 usage (a command line Roster cannot act on).

// usageError is a command line Roster cannot act on (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageErr marks err as a usage error; flag.ErrHelp (-h) stays what it is.
func usageErr(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}

// exitCode is the process's exit code for run's error.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// opsCommand runs `roster version|backup|doctor`; fs sets *cfgp.
func opsCommand(ctx context.Context, cmd string, fs *flag.FlagSet, cfgp *Config, args []string, stdout, stderr io.Writer) error {
	to := new(string)
	fix := new(bool)
	outboxMaxAge := new(time.Duration)
	switch cmd {
	case "backup":
		to = fs.String("to", "", "file to write the copy to; must not exist (required)")
	case "doctor":
		fix = fs.Bool("fix", false, "rewrite stored phone numbers that have one canonical form (audited)")
		outboxMaxAge = fs.Duration("outbox-max-age", time.Hour, "a pending outbox message older than this is a problem")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	cfg := *cfgp // as parsed
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("%s takes no arguments (got %q)", cmd, strings.Join(fs.Args(), " ")))
	}
	switch cmd {
	case "version":
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			return errors.New("this binary carries no build information")
		}
		fmt.Fprint(stdout, versionText(bi))
		return nil
	case "backup":
		if *to == "" {
			return usageErr(errors.New("--to FILE is required"))
		}
		return backup(ctx, cfg, *to, stdout, stderr)
	}
	return doctor(ctx, cfg, *fix, *outboxMaxAge, stdout, stderr)
}

// versionText renders the module version and the VCS revision it was
// built from.
func versionText(bi *debug.BuildInfo) string {
	setting := map[string]string{}
	for _, s := range bi.Settings {
		setting[s.Key] = s.Value
	}
	var b strings.Builder
	fmt.Fprintf(&b, "roster %s\n", bi.Main.Version) // "(devel)" unless built by go install module@version
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, "module %s\n", bi.Main.Path)
	}
	switch rev := setting["vcs.revision"]; {
	case rev == "":
		b.WriteString("revision unknown (built without VCS stamping: outside a git checkout, or with -buildvcs=false)\n")
	case setting["vcs.modified"] == "true":
		fmt.Fprintf(&b, "revision %s with uncommitted changes\n", rev)
	default:
		fmt.Fprintf(&b, "revision %s\n", rev)
	}
	if t := setting["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "committed %s\n", t)
	}
	fmt.Fprintf(&b, "go %s\n", bi.GoVersion)
	return b.String()
}

// existingSQLite refuses to work on a SQLite database that is not there:
// opening it would create an empty one.
func existingSQLite(cfg Config) error {
	if strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://") {
		return nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(cfg.DB, "sqlite:"), "file:")
	if path == "" {
		path = filepath.Join(cfg.DataDir, "roster.db")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no Roster database at %s (give --data DIR or --db): %w", path, err)
	}
	return nil
}

func backup(ctx context.Context, cfg Config, to string, stdout, stderr io.Writer) error {
	if dialectName(cfg) == "postgres" {
		return store.ErrBackupPostgres
	}
	if err := existingSQLite(cfg); err != nil {
		return err
	}
	db, _, err := openDB(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.BackupTo(ctx, to); err != nil {
		return err
	}
	st, err := os.Stat(to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes, integrity_check ok)\n", to, st.Size())
	// Webhook and SSO secrets in the copy are sealed with DATA/secret.key: a
	// backup without it restores users but not those secrets.
	key, err := os.ReadFile(filepath.Join(cfg.DataDir, "secret.key"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("backup of secret.key: %w", err)
	}
	keyTo := to + ".secret.key"
	f, err := os.OpenFile(keyTo, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup of secret.key (the database copy is written): %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return fmt.Errorf("backup of secret.key (the database copy is written): %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("backup of secret.key (the database copy is written): %w", err)
	}
	fmt.Fprintf(stdout, "secret key copied to %s (keep it as safe as the database: it unseals webhook and SSO secrets)\n", keyTo)
	return nil
}

// doctor checks the database and what it holds, one line per check, and
// fails (exit 1) when any check finds a problem.
func doctor(ctx context.Context, cfg Config, fix bool, outboxMaxAge time.Duration, stdout, stderr io.Writer) error {
	if err := existingSQLite(cfg); err != nil {
		return err
	}
	db, log, err := openDB(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	problems := 0
	report := func(ok bool, check, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(stdout, "%s %-13s %s\n", mark, check, fmt.Sprintf(format, args...))
	}

	switch err := db.IntegrityCheck(ctx); {
	case err != nil:
		report(false, "integrity", "%v", err)
	case db.Dialect() == store.SQLite:
		report(true, "integrity", "integrity_check and foreign_key_check pass")
	default:
		report(true, "integrity", "PostgreSQL enforces its constraints itself")
	}

	pending, err := db.PendingMigrations(ctx)
	switch {
	case err != nil:
		report(false, "migrations", "%v", err)
	case len(pending) > 0:
		report(false, "migrations", "%d not applied: %s (run roster migrate); the data checks need them", len(pending), strings.Join(pending, ", "))
	default:
		report(true, "migrations", "all applied")
	}
	if err != nil || len(pending) > 0 {
		return fmt.Errorf("doctor found %d problem(s)", problems)
	}

	svc := roster.NewService(db, roster.Options{Logger: log})
	doctorPhones(ctx, svc, fix, stdout, report)

	switch b, err := svc.OutboxBacklog(ctx); {
	case err != nil:
		report(false, "outbox", "%v", err)
	case b.Pending == 0:
		report(true, "outbox", "nothing waiting")
	default:
		age := time.Since(*b.Oldest).Round(time.Second)
		report(age <= outboxMaxAge, "outbox", "%d message(s) waiting, the oldest for %s (--outbox-max-age %s)", b.Pending, age, outboxMaxAge)
	}
	if problems > 0 {
		return fmt.Errorf("doctor found %d problem(s)", problems)
	}
	return nil
}

// doctorPhones lists the stored numbers today's rules refuse or would store
// otherwise and, with fix, rewrites those that have one canonical form.
func doctorPhones(ctx context.Context, svc *roster.Service, fix bool, stdout io.Writer, report func(bool, string, string, ...any)) {
	issues, err := svc.PhoneIssues(ctx)
	if err != nil {
		report(false, "phone numbers", "%v", err)
		return
	}
	if len(issues) == 0 {
		report(true, "phone numbers", "every stored number is valid and canonical")
		return
	}
	left, fixed := 0, 0
	var lines []string
	for _, is := range issues {
		who := fmt.Sprintf("tenant %s, user %d (%s), %s %q", is.TenantSlug, is.UserID, is.Username, is.Field, is.Stored)
		switch {
		case is.Canonical != "" && fix:
			if err := svc.FixPhone(ctx, is); err != nil {
				left++
				lines = append(lines, fmt.Sprintf("%s: rewrite to %s failed: %v", who, is.Canonical, err))
				continue
			}
			fixed++
			lines = append(lines, fmt.Sprintf("%s: rewritten to %s (audited)", who, is.Canonical))
		case is.Canonical != "":
			left++
			lines = append(lines, fmt.Sprintf("%s: %s (roster doctor --fix rewrites it)", who, is.Problem))
		default:
			left++
			lines = append(lines, fmt.Sprintf("%s: %s (needs a person: correct or clear it)", who, is.Problem))
		}
	}
	summary := fmt.Sprintf("%d stored number(s) need attention", left)
	if fixed > 0 {
		summary = fmt.Sprintf("%d rewritten to canonical form, %d need attention", fixed, left)
	}
	report(left == 0, "phone numbers", "%s", summary)
	for _, l := range lines {
		fmt.Fprintf(stdout, "       %s\n", l)
	}
}
