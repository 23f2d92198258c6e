package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// send makes one request with headers and returns the answer, its body read.
func exchange(t *testing.T, method, url, token string, body any, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func problemCode(t *testing.T, body []byte) string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem: %s", body)
	}
	return p.Code
}

// Two admins edit the same user: the second, holding the version both read,
// gets 412 and changes nothing; GET answers 304 to the current ETag.
func TestETagLostUpdate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "acme")
		alice, bob := at.tokens["admin"], at.create("/api/v1/tokens", map[string]any{"name": "second admin", "role": "admin"}, "token")
		user := url + "/api/v1/users/" + at.ids["user"]

		resp, _ := exchange(t, "GET", user, alice, nil)
		read := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || read == "" {
			t.Fatalf("GET: %d, ETag %q", resp.StatusCode, read)
		}
		if resp, body := exchange(t, "GET", user, bob, nil, "If-None-Match", read); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Fatalf("GET If-None-Match current: %d %s", resp.StatusCode, body)
		}
		resp, _ = exchange(t, "PATCH", user, alice, map[string]any{"name": "Alice's edit"}, "If-Match", read)
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == read || resp.Header.Get("ETag") == "" {
			t.Fatalf("first PATCH: %d, ETag %q (read %q)", resp.StatusCode, resp.Header.Get("ETag"), read)
		}
		resp, body := exchange(t, "PATCH", user, bob, map[string]any{"name": "Bob's edit"}, "If-Match", read)
		if resp.StatusCode != http.StatusPreconditionFailed || problemCode(t, body) != "stale" ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("second PATCH with the old version: %d %s", resp.StatusCode, body)
		}
		resp, body = exchange(t, "DELETE", user, bob, nil, "If-Match", read)
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("DELETE with the old version: %d %s", resp.StatusCode, body)
		}
		resp, body = exchange(t, "GET", user, bob, nil, "If-None-Match", read)
		var u struct{ Name string }
		if resp.StatusCode != 200 || json.Unmarshal(body, &u) != nil || u.Name != "Alice's edit" {
			t.Fatalf("after the refused changes: %d %s", resp.StatusCode, body)
		}
		_, body = exchange(t, "GET", url+"/api/v1/audit?action=user.update&target=user:"+at.ids["user"], alice, nil)
		var audit struct{ Total int }
		if json.Unmarshal(body, &audit) != nil || audit.Total != 1 {
			t.Fatalf("audit of user.update: %s", body)
		}
		if resp, body := exchange(t, "PATCH", user, bob, map[string]any{"name": "x"}, "If-Match", "not-an-etag"); resp.StatusCode != 412 {
			t.Fatalf("malformed If-Match: %d %s", resp.StatusCode, body)
		}

		// Both admins send the same current version at once, five times:
		// each time exactly one wins. The check runs inside the transaction.
		for round := range 5 {
			resp, _ := exchange(t, "GET", user, alice, nil)
			tag := resp.Header.Get("ETag")
			codes := make([]int, 2)
			var wg sync.WaitGroup
			for i, tok := range []string{alice, bob} {
				wg.Go(func() {
					resp, _ := exchange(t, "PATCH", user, tok, map[string]any{"nicknames": []string{"n" + string(rune('a'+round)) + string(rune('0'+i))}}, "If-Match", tag)
					codes[i] = resp.StatusCode
				})
			}
			wg.Wait()
			if !(codes[0] == 200 && codes[1] == 412 || codes[0] == 412 && codes[1] == 200) {
				t.Fatalf("round %d: two PATCHes with one version answered %v", round, codes)
			}
		}
	})
}

// Every versioned resource refuses a change with the version it had before
// its last change.
func TestETagEveryResource(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "acme")
		admin := at.tokens["admin"]
		cases := []struct {
			path          string
			change        map[string]any // PATCH body; nil: the change is a POST to action
			action, final string         // final: the method refused with the old version
		}{
			{path: "/api/v1/groups/{id}", change: map[string]any{"name": "Renamed"}, final: "DELETE"},
			{path: "/api/v1/groups/{id}/properties/{key}", action: "PUT", final: "DELETE"},
			{path: "/api/v1/roles/{id}", change: map[string]any{"name": "Renamed role"}, final: "DELETE"},
			{path: "/api/v1/properties/{key}", change: map[string]any{"label": "Renamed"}, final: "DELETE"},
			{path: "/api/v1/skills/{id}", change: map[string]any{"name": "Renamed skill"}, final: "DELETE"},
			{path: "/api/v1/profiles/{id}", change: map[string]any{"name": "Renamed profile"}, final: "DELETE"},
			{path: "/api/v1/coaching-plans/{id}", change: map[string]any{"title": "Renamed plan"}, final: "PATCH"},
			{path: "/api/v1/invitations/{id}", action: "/resend", final: "DELETE"},
			{path: "/api/v1/webhooks/{id}", change: map[string]any{"description": "Renamed webhook"}, final: "DELETE"},
			{path: "/api/v1/webhooks/{id}", action: "/rotate-secret", final: "DELETE"},
			{path: "/api/v1/users/{id}", action: "/deactivate", final: "DELETE"},
		}
		for _, c := range cases {
			p := url + at.pathFor(c.path)
			var old string
			if c.change != nil {
				resp, body := exchange(t, "PATCH", p, admin, c.change)
				old = resp.Header.Get("ETag")
				if resp.StatusCode != 200 || old == "" {
					t.Fatalf("PATCH %s: %d %s, ETag %q", c.path, resp.StatusCode, body, old)
				}
				if resp, body = exchange(t, "PATCH", p, admin, c.change, "If-Match", old); resp.StatusCode != 200 {
					t.Fatalf("PATCH %s with the current version: %d %s", c.path, resp.StatusCode, body)
				}
			} else {
				get := p
				if c.action == "PUT" { // a group's property: the group's version
					get = url + at.pathFor("/api/v1/groups/{id}/properties")
				}
				resp, body := exchange(t, "GET", get, admin, nil)
				old = resp.Header.Get("ETag")
				if resp.StatusCode != 200 || old == "" {
					t.Fatalf("GET %s: %d %s, ETag %q", get, resp.StatusCode, body, old)
				}
				if c.action == "PUT" {
					resp, body = exchange(t, "PUT", p, admin, map[string]any{"value": "2m"}, "If-Match", old)
				} else {
					resp, body = exchange(t, "POST", p+c.action, admin, nil, "If-Match", old)
				}
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s with the current version: %d %s", c.action, c.path, resp.StatusCode, body)
				}
			}
			var body any
			if c.final == "PATCH" {
				body = c.change
			}
			resp, out := exchange(t, c.final, p, admin, body, "If-Match", old)
			if resp.StatusCode != http.StatusPreconditionFailed || problemCode(t, out) != "stale" {
				t.Errorf("%s %s with the version before the last change: %d %s", c.final, c.path, resp.StatusCode, out)
			}
		}
		// A webhook's GET answers 304 to its current ETag, and a change
		// with it succeeds; the ETag of a webhook's secret rotation is the
		// webhook's new version.
		hook := url + at.pathFor("/api/v1/webhooks/{id}")
		resp, _ := exchange(t, "GET", hook, admin, nil)
		current := resp.Header.Get("ETag")
		if resp, out := exchange(t, "GET", hook, admin, nil, "If-None-Match", current); resp.StatusCode != http.StatusNotModified || len(out) != 0 {
			t.Fatalf("webhook GET If-None-Match current: %d %s", resp.StatusCode, out)
		}
		resp, out := exchange(t, "POST", hook+"/rotate-secret", admin, nil, "If-Match", current)
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || resp.Header.Get("ETag") == current {
			t.Fatalf("rotate with the current version: %d %s, ETag %q (was %q)", resp.StatusCode, out, resp.Header.Get("ETag"), current)
		}
		if resp, out := exchange(t, "PATCH", hook, admin, map[string]any{"enabled": false}, "If-Match", resp.Header.Get("ETag")); resp.StatusCode != 200 {
			t.Fatalf("PATCH with the ETag the rotation answered: %d %s", resp.StatusCode, out)
		}

		// A token changes when it is revoked: its ETag from before refuses.
		tok := url + at.pathFor("/api/v1/tokens/{id}")
		resp, _ = exchange(t, "GET", tok, admin, nil)
		tag := resp.Header.Get("ETag")
		if resp, out := exchange(t, "DELETE", tok, admin, nil, "If-Match", tag); resp.StatusCode != 204 {
			t.Fatalf("revoke with the current version: %d %s", resp.StatusCode, out)
		}
		if resp, out := exchange(t, "DELETE", tok, admin, nil, "If-Match", tag); resp.StatusCode != 412 {
			t.Fatalf("revoke again with the version before: %d %s", resp.StatusCode, out)
		}
	})
}
