package e2e

// Black-box test of sign-in throttling with the real binary (issue 14, item
// 8): many wrong passwords for an admin from one address stop that address,
// and the admin, from another address, still signs in.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/testdb"
)

func TestSignInThrottleBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	t.Run("sqlite", func(t *testing.T) {
		throttleBinary(t, bin, []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data"), "ROSTER_LOG_LEVEL=warn"})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, drop := testdb.NewSchema(t)
		t.Cleanup(drop)
		throttleBinary(t, bin, []string{"ROSTER_DB=" + dsn, "ROSTER_LOG_LEVEL=warn"})
	})
}

// clientFrom is an HTTP client whose connections leave from ip (any
// 127.0.0.0/8 address works on Linux loopback), so the server sees another
// client address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// postJSON posts body to url with client and returns the status, the
// Retry-After header and the body.
func postJSON(t *testing.T, c *http.Client, url string, body any) (int, string, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(context.Background(), "POST", url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Retry-After"), out
}

func throttleBinary(t *testing.T, bin string, env []string) {
	const password = "violet-harbour-7-lanterns"
	env = append(env, "ROSTER_PUBLIC_URL=https://roster.example.com")
	lines := lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme", "--admin-email", "boss@example.com", "--admin-name", "Bea Boss")
	_, token, ok := strings.Cut(lines[len(lines)-1], "/invite/")
	if !ok {
		t.Fatalf("tenant create printed %q; want the invitation URL last", lines)
	}
	srv := lcServe(t, bin, env)
	attacker, owner := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	if st, _, b := postJSON(t, owner, srv.url+"/api/v1/invitations/accept", map[string]string{"token": token, "password": password}); st != http.StatusOK {
		t.Fatalf("accept: %d %s", st, b)
	}
	signIn := func(c *http.Client, pw string) (int, string, []byte) {
		return postJSON(t, c, srv.url+"/api/v1/sessions", map[string]string{"tenant": "acme", "login": "boss@example.com", "password": pw})
	}
	// The attacker: five wrong passwords are answered 401, then 429 with
	// Retry-After, the right password included.
	for i := range 50 {
		st, retry, b := signIn(attacker, fmt.Sprintf("guess-%d", i))
		want := http.StatusUnauthorized
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if st != want {
			t.Fatalf("attempt %d: %d %s, want %d", i+1, st, b, want)
		}
		if secs, err := strconv.Atoi(retry); want == http.StatusTooManyRequests && (err != nil || secs < 1 || secs > 900) {
			t.Fatalf("attempt %d: Retry-After %q, want 1..900 seconds", i+1, retry)
		}
	}
	if st, _, b := signIn(attacker, password); st != http.StatusTooManyRequests {
		t.Fatalf("the attacker's address with the right password: %d %s, want 429", st, b)
	}
	// The owner from another address signs in, after at most the capped delay.
	start := time.Now()
	st, _, b := signIn(owner, password)
	if st != http.StatusCreated {
		t.Fatalf("the owner from 127.0.0.2: %d %s, want 201\n%s", st, b, srv.logs)
	}
	if took := time.Since(start); took > 31*time.Second {
		t.Fatalf("the owner waited %v, more than the 30 s cap", took)
	}
}
