package e2e

// Black-box test of the outbox with the real binary: the mail server is down
// while 100 users are invited, the roster process is killed (SIGKILL) and
// restarted, the mail server comes back, and every invitation mail arrives
// exactly once.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/mailtest"
	"github.com/roster-dev/roster/internal/testdb"
)

// lcBinary builds the roster command once per test binary.
var lcBinary = struct {
	once sync.Once
	path string
	err  error
}{}

func lcBuild(t *testing.T) string {
	t.Helper()
	lcBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "roster-e2e-bin")
		if err != nil {
			lcBinary.err = err
			return
		}
		lcBinary.path = filepath.Join(dir, "roster")
		cmd := exec.Command("go", "build", "-o", lcBinary.path, "./cmd/roster")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			lcBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if lcBinary.err != nil {
		t.Fatal(lcBinary.err)
	}
	return lcBinary.path
}

// lcRun runs a roster command to completion and returns its output lines.
func lcRun(t *testing.T, bin string, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("roster %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(stdout.String()), "\n")
}

// lcServer is a running `roster serve`.
type lcServer struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

func lcServe(t *testing.T, bin string, env []string, args ...string) *lcServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &lcServer{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = &lockedWriter{w: s.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Roster is listening on "); ok {
				urls <- u
			}
		}
	}()
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.url = <-urls:
	case err := <-s.done:
		t.Fatalf("roster serve exited: %v\n%s", err, s.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("roster serve did not start\n%s", s.logs)
	}
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *lcServer) call(t *testing.T, token, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

type lcOutbox struct {
	Total int `json:"total"`
	Items []struct {
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
	} `json:"items"`
}

func TestInvitationMailsSurviveOutageAndKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	t.Run("sqlite", func(t *testing.T) {
		lcOutageAndKill(t, bin, []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, drop := testdb.NewSchema(t)
		t.Cleanup(drop)
		lcOutageAndKill(t, bin, []string{"ROSTER_DB=" + dsn})
	})
}

func lcOutageAndKill(t *testing.T, bin string, env []string) {
	const invites = 100
	// The mail server's address is fixed; it is down to begin with.
	mail, err := mailtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := mail.Addr()
	mail.Close()
	env = append(env, "ROSTER_SMTP_URL=smtp://"+addr, "ROSTER_MAIL_FROM=roster@example.com", "ROSTER_PUBLIC_URL=https://roster.example.com",
		"ROSTER_OUTBOX_POLL=100ms", "ROSTER_OUTBOX_RETRY_MAX=500ms", "ROSTER_OUTBOX_LEASE=4s", "ROSTER_LOG_LEVEL=warn")

	lines := lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme", "--admin-email", "boss@example.com", "--admin-name", "Bea Boss")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "https://roster.example.com/invite/inv_") {
		t.Fatalf("tenant create printed %q; want the tenant id, then the invitation URL last", lines)
	}
	token := lcRun(t, bin, env, "token", "create", "--tenant", "acme", "--name", "e2e", "--role", "admin")
	admin := token[len(token)-1]

	srv := lcServe(t, bin, env)
	var groups struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if srv.call(t, admin, "GET", "/api/v1/groups", nil, &groups) != 200 || len(groups.Items) == 0 {
		t.Fatal("no groups")
	}
	for batch := 0; batch < invites/25; batch++ {
		var rows []map[string]any
		for i := 0; i < 25; i++ {
			n := batch*25 + i
			rows = append(rows, map[string]any{"name": fmt.Sprintf("Person %d", n), "email": fmt.Sprintf("person%03d@example.com", n),
				"language": []string{"en", "de"}[n%2], "group_id": groups.Items[0].ID})
		}
		if st := srv.call(t, admin, "POST", "/api/v1/invitations", map[string]any{"invitations": rows}, nil); st != http.StatusCreated {
			t.Fatalf("invite batch %d: %d", batch, st)
		}
	}
	// The worker tries and fails while the mail server is down.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ob lcOutbox
		srv.call(t, admin, "GET", "/api/v1/outbox?status=pending&per_page=100", nil, &ob)
		if ob.Total == invites+1 && len(ob.Items) > 0 && ob.Items[0].Attempts > 0 && ob.Items[0].LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never showed failed attempts: %+v\n%s", ob, srv.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// kill -9: no graceful anything.
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done

	// The mail server comes back on its address, then roster.
	mail, err = mailtest.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer mail.Close()
	srv = lcServe(t, bin, env)
	if _, err := mail.WaitFor(invites+1, 60*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, srv.logs)
	}
	for {
		var ob lcOutbox
		srv.call(t, admin, "GET", "/api/v1/outbox?status=sent&per_page=10", nil, &ob)
		if ob.Total == invites+1 {
			break
		}
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("only %d messages marked sent", ob.Total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive in this time

	msgs := mail.Messages()
	perRecipient, perOutboxID := map[string]int{}, map[string]int{}
	for _, m := range msgs {
		perRecipient[m.To[0]]++
		perOutboxID[m.Header.Get("X-Roster-Outbox-Id")]++
	}
	if len(msgs) != invites+1 || len(perRecipient) != invites+1 || len(perOutboxID) != invites+1 {
		t.Fatalf("%d mails to %d recipients with %d outbox ids; want %d, each once", len(msgs), len(perRecipient), len(perOutboxID), invites+1)
	}
	for i := 0; i < invites; i++ {
		if perRecipient[fmt.Sprintf("person%03d@example.com", i)] != 1 {
			t.Fatalf("person%03d got %d mails", i, perRecipient[fmt.Sprintf("person%03d@example.com", i)])
		}
	}
	// The admin's mail carries the link tenant create printed.
	for _, m := range msgs {
		if m.To[0] == "boss@example.com" && !strings.Contains(m.Text, lines[1]) {
			t.Fatalf("the admin's mail lacks %s:\n%s", lines[1], m.Text)
		}
	}

	// Ordered shutdown on SIGTERM: a clean exit.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("roster serve exited with %v\n%s", err, srv.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("roster serve did not stop on SIGTERM")
	}
}
