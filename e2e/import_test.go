package e2e

// Bulk import through the binary: the CLI's contract (summary line, errors
// by row on stderr, exit codes), and kill -9 in the middle of an import on
// SQLite, followed by an integrity check and --resume.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/store"
)

// importCSVFile writes a users CSV of n rows into dir.
func importCSVFile(t *testing.T, dir string, n int) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("username,name,email,group,roles,agent_ids\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "user%d,User %d,user%d@example.com,Kill Test,agent,voice:%d\n", i, i, i, i)
	}
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCode runs a command and returns stdout, stderr and the exit status.
func runCode(t *testing.T, bin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatal(err)
	return "", "", -1
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestImportCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	dir := t.TempDir()
	env := []string{"ROSTER_DATA=" + filepath.Join(dir, "data"), "ROSTER_LOG_LEVEL=warn"}
	lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme")
	file := filepath.Join(dir, "a.csv")
	os.WriteFile(file, []byte("username;email;group;roles\nann;ann@example.com;Acme;agent\nbob;bob@;Acme/Nope;admin;x\ncid;cid@example.com;Acme;wizard\n"), 0o600)
	out, errs, code := runCode(t, bin, env, "user", "import", "--tenant", "acme", file)
	if code != 1 || lastLine(out) != "created 0, updated 0, unchanged 0, failed 2" ||
		!strings.Contains(errs, "row 3: has 5 fields, the header has 4") || !strings.Contains(errs, "row 4: roles: item 0: no role") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	os.WriteFile(file, []byte("username,email,group,roles\nann,ann@example.com,Acme,agent\nbob,bob@example.com,Acme,team_leader\n"), 0o600)
	out, _, code = runCode(t, bin, env, "user", "import", "--tenant", "acme", "--dry-run", file)
	if code != 0 || lastLine(out) != "created 2, updated 0, unchanged 0, failed 0" {
		t.Fatalf("dry run: exit %d: %s", code, out)
	}
	out, _, code = runCode(t, bin, env, "user", "import", "--tenant", "acme", file)
	if code != 0 || lastLine(out) != "created 2, updated 0, unchanged 0, failed 0" {
		t.Fatalf("import: exit %d: %s", code, out)
	}
	export, _, code := runCode(t, bin, env, "user", "export", "--tenant", "acme")
	if code != 0 || !strings.HasPrefix(export, "username,name,email,mobile,language,group,roles,agent_number,nicknames,ring_to,scoring_enabled,roaming,group_access,agent_ids,id,status,last_login_at,created_at\n") ||
		strings.Count(export, "\n") != 3 {
		t.Fatalf("export: exit %d: %s", code, export)
	}
	os.WriteFile(file, []byte(export), 0o600)
	out, _, code = runCode(t, bin, env, "user", "import", "--tenant", "acme", "--mode", "upsert", file)
	if code != 0 || lastLine(out) != "created 0, updated 0, unchanged 2, failed 0" {
		t.Fatalf("import of the export: exit %d: %s", code, out)
	}
	if _, _, code = runCode(t, bin, env, "user", "import", "--tenant", "acme", "--mode", "merge", file); code != 2 {
		t.Fatalf("a bad --mode exits %d, want 2", code)
	}
	if _, _, code = runCode(t, bin, env, "user", "import", "--tenant", "acme"); code != 2 {
		t.Fatalf("no file exits %d, want 2", code)
	}
}

// TestImportKill kills the CLI (SIGKILL) while it stages and while it
// merges, then checks the database and resumes: there is never a silent
// half — a job interrupted while staging is rolled back with no user
// written, one interrupted while merging is finished by --resume, and every
// user written has its audit event.
func TestImportKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	const rows = 20_000
	for _, stage := range []string{"staging", "merging"} {
		t.Run(stage, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			env := []string{"ROSTER_DATA=" + data, "ROSTER_LOG_LEVEL=warn"}
			lcRun(t, bin, env, "tenant", "create", "--slug", "kill", "--name", "Kill Test")
			file := importCSVFile(t, dir, rows)
			ctx := context.Background()
			db, err := store.Open(ctx, "", data)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			count := func(query string) int {
				var n int
				if err := db.SQL().QueryRowContext(ctx, query).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			cmd := exec.Command(bin, "user", "import", "--tenant", "kill", file)
			cmd.Env = append(os.Environ(), env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the import never reached %s", stage)
				}
				var hit bool
				if stage == "staging" {
					hit = count(`SELECT count(*) FROM import_rows`) > 0 && count(`SELECT count(*) FROM import_jobs WHERE state = 'staging'`) == 1
				} else {
					hit = count(`SELECT count(*) FROM users`) > 0
				}
				if hit {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if err := db.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
			users := count(`SELECT count(*) FROM users`)
			events := count(`SELECT count(*) FROM audit_events WHERE action = 'user.create'`)
			open := count(`SELECT count(*) FROM import_jobs WHERE state <> 'done'`)
			if users != events {
				t.Fatalf("after the kill: %d users, %d user.create events", users, events)
			}
			if open != 1 {
				t.Fatalf("after the kill: %d open import jobs, want the interrupted one (users %d)", open, users)
			}
			if stage == "staging" && users != 0 {
				t.Fatalf("killed while staging, yet %d users are visible", users)
			}
			if stage == "merging" && users == rows {
				t.Logf("the import finished before the kill reached it")
			}
			out := lcRun(t, bin, env, "user", "import", "--tenant", "kill", "--resume")
			users, events = count(`SELECT count(*) FROM users`), count(`SELECT count(*) FROM audit_events WHERE action = 'user.create'`)
			switch stage {
			case "staging":
				if !strings.Contains(strings.Join(out, "\n"), "rolled back") || users != 0 || count(`SELECT count(*) FROM import_rows`) != 0 {
					t.Fatalf("resume after a kill while staging: %q, %d users", out, users)
				}
			case "merging":
				if out[len(out)-1] == "" || users != rows || events != rows {
					t.Fatalf("resume after a kill while merging: %q, %d users, %d events", out, users, events)
				}
			}
			if n := count(`SELECT count(*) FROM import_jobs WHERE state <> 'done'`); n != 0 {
				t.Fatalf("%d import jobs still open after --resume", n)
			}
			held := count(`SELECT count(*) FROM agent_ids WHERE user_id IS NOT NULL`)
			if held != users {
				t.Fatalf("%d agent IDs held by %d users", held, users)
			}
			// A fresh connection: one that read the search index before
			// another process wrote it may hold a stale view of it.
			db.Close()
			if db, err = store.Open(ctx, "", data); err != nil {
				t.Fatal(err)
			}
			if err := db.IntegrityCheck(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
