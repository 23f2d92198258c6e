package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// A retried create with the same Idempotency-Key answers the first answer
// and creates nothing; another body with the key is refused; keys belong
// to their actor; a refused request frees its key.
func TestIdempotencyKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "acme")
		admin := at.tokens["admin"]
		other := at.create("/api/v1/tokens", map[string]any{"name": "second admin", "role": "admin"}, "token")
		total := func(path string) int {
			_, body := exchange(t, "GET", url+path, admin, nil)
			var p pageMeta
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			return p.Total
		}
		person := func(name string) map[string]any {
			return map[string]any{"username": name, "name": "N", "email": name + "@x.example", "language": "en",
				"group_id": json.Number(at.ids["group"]), "roles": []string{"agent"}}
		}
		users := total("/api/v1/users")
		first, body1 := exchange(t, "POST", url+"/api/v1/users", admin, person("ida"), "Idempotency-Key", "k-1")
		again, body2 := exchange(t, "POST", url+"/api/v1/users", admin, person("ida"), "Idempotency-Key", "k-1")
		if first.StatusCode != 201 || again.StatusCode != 201 || string(body1) != string(body2) ||
			again.Header.Get("Location") != first.Header.Get("Location") || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s / %d %s %v", first.StatusCode, body1, again.StatusCode, body2, again.Header)
		}
		if n := total("/api/v1/users"); n != users+1 {
			t.Fatalf("users after a create and its retry: %d, want %d", n, users+1)
		}
		resp, body := exchange(t, "POST", url+"/api/v1/users", admin, person("other"), "Idempotency-Key", "k-1")
		if resp.StatusCode != http.StatusUnprocessableEntity || problemCode(t, body) != "idempotency_key_reused" {
			t.Fatalf("same key, other body: %d %s", resp.StatusCode, body)
		}
		// Another actor's key is another key: this runs, and ida exists.
		if resp, body := exchange(t, "POST", url+"/api/v1/users", other, person("ida"), "Idempotency-Key", "k-1"); resp.StatusCode != 409 {
			t.Fatalf("another actor, same key: %d %s", resp.StatusCode, body)
		}
		// A refused request keeps nothing: the key works for the fixed request.
		if resp, _ := exchange(t, "POST", url+"/api/v1/users", admin, person("ida"), "Idempotency-Key", "k-2"); resp.StatusCode != 409 {
			t.Fatalf("duplicate: %d", resp.StatusCode)
		}
		if resp, body := exchange(t, "POST", url+"/api/v1/users", admin, person("jo"), "Idempotency-Key", "k-2"); resp.StatusCode != 201 {
			t.Fatalf("the fixed request with the freed key: %d %s", resp.StatusCode, body)
		}
		if resp, body := exchange(t, "POST", url+"/api/v1/users", admin, person("kim"), "Idempotency-Key", "bad\u00e9key"); resp.StatusCode != 400 {
			t.Fatalf("a key that is not printable ASCII: %d %s", resp.StatusCode, body)
		}

		// Tokens and invitations: one each, however often sent.
		tokens := total("/api/v1/tokens")
		_, t1 := exchange(t, "POST", url+"/api/v1/tokens", admin, map[string]any{"name": "ci", "role": "read_only"}, "Idempotency-Key", "tok")
		_, t2 := exchange(t, "POST", url+"/api/v1/tokens", admin, map[string]any{"name": "ci", "role": "read_only"}, "Idempotency-Key", "tok")
		if string(t1) != string(t2) || total("/api/v1/tokens") != tokens+1 {
			t.Fatalf("token retry: %s / %s, %d tokens (was %d)", t1, t2, total("/api/v1/tokens"), tokens)
		}
		invitations := total("/api/v1/invitations")
		batch := map[string]any{"invitations": []any{person("lee")}}
		for range 2 {
			if resp, body := exchange(t, "POST", url+"/api/v1/invitations", admin, batch, "Idempotency-Key", "inv"); resp.StatusCode != 201 {
				t.Fatalf("invite: %d %s", resp.StatusCode, body)
			}
		}
		if n := total("/api/v1/invitations"); n != invitations+1 {
			t.Fatalf("invitations after a retry: %d, want %d", n, invitations+1)
		}

		// Webhooks: one, however often sent; the replay shows the same secret.
		hooks := total("/api/v1/webhooks")
		hook := map[string]any{"url": "https://203.0.113.20/retry", "events": []string{"user.created"}}
		w1, h1 := exchange(t, "POST", url+"/api/v1/webhooks", admin, hook, "Idempotency-Key", "hook")
		w2, h2 := exchange(t, "POST", url+"/api/v1/webhooks", admin, hook, "Idempotency-Key", "hook")
		if w1.StatusCode != 201 || string(h1) != string(h2) || w2.Header.Get("Idempotent-Replayed") != "true" ||
			w2.Header.Get("Location") != w1.Header.Get("Location") || total("/api/v1/webhooks") != hooks+1 {
			t.Fatalf("webhook retry: %d %s / %s, %d webhooks (was %d)", w1.StatusCode, h1, h2, total("/api/v1/webhooks"), hooks)
		}

		// Imports: one import, however often sent; the same file with
		// another query (a dry run) is another request.
		csv := "username,name,email,language,group,roles\numa,Uma,uma@x.example,en," + at.ids["group"] + ",agent\n"
		importCSV := func(query, key string) (*http.Response, []byte) {
			req, err := http.NewRequest("POST", url+"/api/v1/users/import"+query, strings.NewReader(csv))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Idempotency-Key", key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp, out
		}
		users = total("/api/v1/users")
		i1, b1 := importCSV("", "imp")
		i2, b2 := importCSV("", "imp")
		if i1.StatusCode != 200 || i2.StatusCode != 200 || string(b1) != string(b2) || i2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("import retry: %d %s / %d %s", i1.StatusCode, b1, i2.StatusCode, b2)
		}
		if n := total("/api/v1/users"); n != users+1 {
			t.Fatalf("users after an import and its retry: %d, want %d", n, users+1)
		}
		if resp, body := importCSV("?dry_run=true", "imp"); resp.StatusCode != http.StatusUnprocessableEntity || problemCode(t, body) != "idempotency_key_reused" {
			t.Fatalf("same key and file, another query: %d %s", resp.StatusCode, body)
		}

		// Sent twice at once: one user.
		users = total("/api/v1/users")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range 2 {
			wg.Go(func() {
				resp, _ := exchange(t, "POST", url+"/api/v1/users", admin, person("max"), "Idempotency-Key", "k-3")
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		for _, c := range codes {
			if c != 201 && c != 409 {
				t.Fatalf("concurrent retries answered %v", codes)
			}
		}
		if n := total("/api/v1/users"); n != users+1 {
			t.Fatalf("users after two concurrent sends: %d, want %d", n, users+1)
		}
	})
}
