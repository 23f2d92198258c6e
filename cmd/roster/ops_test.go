package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// cli runs one command line and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, "--log-level", "warn"), &out, &errOut)
	if err != nil {
		errOut.WriteString("roster: " + err.Error() + "\n")
	}
	return exitCode(err), out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"help"}, 0, ""},
		{[]string{"doctor", "-h"}, 0, "-fix"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"backup"}, 2, "--to FILE is required"},
		{[]string{"doctor", "--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"doctor", "now"}, 2, "takes no arguments"},
		{[]string{"token", "list", "--bogus"}, 2, "bogus"},
		{[]string{"backup", "--to", filepath.Join(data, "b.db"), "--data", filepath.Join(data, "none")}, 1, "no Roster database at"},
		{[]string{"doctor", "--data", filepath.Join(data, "none")}, 1, "no Roster database at"},
		{[]string{"backup", "--db", "postgres://nobody@127.0.0.1:1/x", "--to", filepath.Join(data, "p.db")}, 1, "pg_dump"},
	} {
		code, stdout, stderr := cli(t, c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.says) {
			t.Errorf("roster %s: exit %d, want %d saying %q\n%s%s", strings.Join(c.args, " "), code, c.code, c.says, stdout, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/roster-dev/roster", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "c244a7bc"}, {Key: "vcs.time", Value: "2026-12-03T11:49:31Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "roster v1.4.0\nmodule github.com/roster-dev/roster\nrevision c244a7bc with uncommitted changes\ncommitted 2026-12-03T11:49:31Z\ngo go1.26.8\n"
	if got := versionText(bi); got != want {
		t.Errorf("versionText = %q, want %q", got, want)
	}
	bi.Settings = nil
	if got := versionText(bi); !strings.Contains(got, "revision unknown (built without VCS stamping") {
		t.Errorf("without VCS information: %q", got)
	}
	code, stdout, stderr := cli(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "roster ") || !strings.Contains(stdout, "\ngo go1.") {
		t.Errorf("roster version: %d %q %q", code, stdout, stderr)
	}
}

// A backup taken while another process writes is a consistent database:
// it passes integrity_check, has every migration, and holds a prefix of the
// writes.
func TestBackupWhileWriting(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := cli(t, "migrate", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	live, err := store.Open(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	svc := roster.NewService(live, roster.Options{})
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := svc.CreateTenant(context.Background(), fmt.Sprintf("t%d", i), "Tenant"); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	var copies []string
	for i := range 3 {
		to := filepath.Join(t.TempDir(), fmt.Sprintf("backup-%d.db", i))
		code, stdout, stderr := cli(t, "backup", "--data", data, "--to", to)
		if code != 0 || !strings.Contains(stdout, "integrity_check ok") {
			t.Fatalf("backup: %d %s %s", code, stdout, stderr)
		}
		copies = append(copies, to)
	}
	close(stop)
	wg.Wait()
	before := int64(0)
	for _, to := range copies {
		b, err := store.Open(context.Background(), "sqlite:"+to, "")
		if err != nil {
			t.Fatal(err)
		}
		pending, err := b.PendingMigrations(context.Background())
		if err != nil || len(pending) > 0 {
			t.Fatalf("backup %s: migrations missing %v, %v", to, pending, err)
		}
		if err := b.IntegrityCheck(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := b.SQL().QueryRow("SELECT count(*) FROM tenants").Scan(&n); err != nil {
			t.Fatal(err)
		}
		b.Close()
		if n < before || n > written.Load() || n < 5 {
			t.Fatalf("backup %s holds %d tenants (earlier copy %d, written %d)", to, n, before, written.Load())
		}
		before = n
	}
	if code, _, stderr := cli(t, "backup", "--data", data, "--to", copies[0]); code != 1 || !strings.Contains(stderr, "never overwrites") {
		t.Fatalf("backup over an existing file: %d %s", code, stderr)
	}
}

// The secret key that seals webhook and SSO secrets is copied next to the
// backup, readable by its owner only; without one there is nothing to copy.
func TestBackupCopiesSecretKey(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := cli(t, "migrate", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	plain := filepath.Join(t.TempDir(), "plain.db")
	if code, stdout, stderr := cli(t, "backup", "--data", data, "--to", plain); code != 0 || strings.Contains(stdout, "secret key") {
		t.Fatalf("backup without a key: %d %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(plain + ".secret.key"); !os.IsNotExist(err) {
		t.Fatalf("a key file was written without a key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(data, "secret.key"), []byte("k-123"), 0o600); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "keyed.db")
	code, stdout, stderr := cli(t, "backup", "--data", data, "--to", to)
	if code != 0 || !strings.Contains(stdout, "secret key copied to "+to+".secret.key") {
		t.Fatalf("backup with a key: %d %q %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(to + ".secret.key")
	if err != nil || string(b) != "k-123" {
		t.Fatalf("copied key %q, %v", b, err)
	}
	if st, _ := os.Stat(to + ".secret.key"); st.Mode().Perm() != 0o600 {
		t.Errorf("key copy mode %v, want 0600", st.Mode().Perm())
	}
}

// doctor on each database: finds what is wrong, --fix rewrites what has one
// canonical form, exit 0 once nothing is left.
func TestDoctor(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var where []string
			if dialect == "sqlite" {
				where = []string{"--data", t.TempDir()}
			} else {
				dsn, drop := testdb.NewSchema(t)
				t.Cleanup(drop)
				where = []string{"--db", dsn}
			}
			doctor := func(extra ...string) (int, string) {
				code, stdout, stderr := cli(t, append(append([]string{"doctor"}, where...), extra...)...)
				return code, stdout + stderr
			}
			if code, _, out := cli(t, append([]string{"migrate"}, where...)...); code != 0 {
				t.Fatal(out)
			}
			if code, out := doctor(); code != 0 || !strings.Contains(out, "ok   migrations    all applied") {
				t.Fatalf("doctor on a new database: %d\n%s", code, out)
			}

			dsn, dataDir := where[1], ""
			if dialect == "sqlite" {
				dsn, dataDir = "", where[1]
			}
			db, err := store.Open(context.Background(), dsn, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			svc := roster.NewService(db, roster.Options{})
			ctx := context.Background()
			tn, err := svc.CreateTenant(ctx, "acme", "Acme")
			must(t, err)
			sys := roster.SystemActor(tn.ID)
			groups, err := svc.ListGroups(ctx, sys)
			must(t, err)
			user := func(name, mobile string) int64 {
				u, err := svc.CreateUser(ctx, sys, roster.UserInput{Username: roster.Some(name), Name: roster.Some(name),
					Email: roster.Some(name + "@acme.example"), Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID)})
				must(t, err)
				// As the hand-written normaliser stored it, past today's checks.
				_, err = db.SQL().Exec(fmt.Sprintf("UPDATE users SET mobile = '%s' WHERE id = %d", mobile, u.ID))
				must(t, err)
				return u.ID
			}
			user("trunk", "+4407911123456")
			user("bad", "+11234567890")

			code, out := doctor()
			t.Logf("roster doctor:\n%s", out)
			for _, want := range []string{
				"FAIL phone numbers 2 stored number(s) need attention",
				`tenant acme, user 1 (trunk), mobile "+4407911123456": not in canonical form +447911123456 (roster doctor --fix rewrites it)`,
				`(bad), mobile "+11234567890": mobile is not a number in the numbering plan of +1 (needs a person`,
				"doctor found 1 problem(s)",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("doctor output lacks %q", want)
				}
			}
			if code != 1 {
				t.Errorf("doctor exit %d with problems", code)
			}
			code, out = doctor("--fix")
			if code != 1 || !strings.Contains(out, "FAIL phone numbers 1 rewritten to canonical form, 1 need attention") ||
				!strings.Contains(out, `(trunk), mobile "+4407911123456": rewritten to +447911123456 (audited)`) {
				t.Errorf("doctor --fix: %d\n%s", code, out)
			}
			_, err = db.SQL().Exec("UPDATE users SET mobile = '' WHERE username = 'bad'")
			must(t, err)
			if code, out = doctor(); code != 0 || !strings.Contains(out, "ok   phone numbers every stored number is valid and canonical") {
				t.Errorf("doctor after the fix: %d\n%s", code, out)
			}

			// An outbox message waiting for two hours is a backlog.
			must(t, svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "acme", Login: "trunk", Channel: "email"}))
			old := time.Now().Add(-2 * time.Hour).UnixMilli()
			_, err = db.SQL().Exec(fmt.Sprintf("UPDATE outbox_messages SET created_at = %d", old))
			must(t, err)
			if code, out = doctor(); code != 1 || !strings.Contains(out, "FAIL outbox        1 message(s) waiting, the oldest for 2h0m") {
				t.Errorf("doctor with a backlog: %d\n%s", code, out)
			}
			if code, out = doctor("--outbox-max-age", "3h"); code != 0 {
				t.Errorf("doctor --outbox-max-age 3h: %d\n%s", code, out)
			}

			// A migration missing: reported, and the data checks wait for it.
			_, err = db.SQL().Exec("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
			must(t, err)
			if code, out = doctor(); code != 1 || !strings.Contains(out, "FAIL migrations    1 not applied") || strings.Contains(out, "phone numbers") {
				t.Errorf("doctor with a migration missing: %d\n%s", code, out)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
