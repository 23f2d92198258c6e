package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// hookEvent is one delivery as the receiver saw it.
type hookEvent struct {
	Type     string         `json:"type"`
	Tenant   map[string]any `json:"tenant"`
	Data     map[string]any `json:"data"`
	verified bool
}

// hookReceiver verifies each request per Standard Webhooks, independently
// of Roster's signer: HMAC-SHA256 keyed with the base64 part of the
// secret, over "webhook-id.webhook-timestamp.body".
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	got    []hookEvent
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(rc.secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		var ev hookEvent
		_ = json.Unmarshal(body, &ev)
		ev.verified = strings.Contains(" "+r.Header.Get("webhook-signature")+" ", " "+want+" ")
		rc.got = append(rc.got, ev)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) events() []hookEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookEvent(nil), rc.got...)
}

type hookAPI struct {
	t     *testing.T
	url   string
	admin string
}

func (h *hookAPI) call(method, path string, body any, want int) map[string]any {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if h.admin != "" {
		req.Header.Set("Authorization", "Bearer "+h.admin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	m := map[string]any{}
	_ = json.Unmarshal(out, &m)
	m["_raw"] = string(out)
	m["_location"] = resp.Header.Get("Location")
	return m
}

// TestWebhookEventsFromAPIChanges makes changes through the REST API and
// checks every event that arrives at a real receiver, in order, signed.
func TestWebhookEventsFromAPIChanges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := roster.NewService(db, roster.Options{Webhooks: roster.WebhookOptions{AllowPrivate: true},
			Lifecycle: roster.LifecycleOptions{PublicURL: "https://roster.example.com", Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1}}})
		mux := http.NewServeMux()
		api.New(svc, slog.New(slog.DiscardHandler)).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		worker := delivery.NewWebhookWorker(svc, delivery.WebhookOptions{AllowPrivate: true, Poll: 20 * time.Millisecond,
			Log: slog.New(slog.DiscardHandler)})
		svc.OnWebhooks(worker.Kick)
		worker.Start()
		t.Cleanup(worker.Stop)

		tn, err := svc.CreateTenant(ctx, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		_, admin, err := svc.CreateToken(ctx, roster.SystemActor(tn.ID), roster.TokenInput{Name: "hooks", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		h := &hookAPI{t: t, url: srv.URL, admin: admin}
		groups, _ := svc.ListGroups(ctx, roster.SystemActor(tn.ID))
		root := groups[0].ID

		// Bad input names the field and changes nothing.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"events": []string{"user.created"}}, "url"},
			{map[string]any{"url": srv.URL, "events": []string{"user.exploded"}}, "events"},
			{map[string]any{"url": srv.URL, "events": []string{}}, "events"},
			{map[string]any{"url": "https://user:pw@example.com/", "events": []string{"user.created"}}, "url"},
			{map[string]any{"url": srv.URL, "events": []string{"user.created"}, "secret": "whsec_mine"}, "secret"},
		} {
			r := h.call("POST", "/api/v1/webhooks", c.body, 400)
			if !strings.Contains(r["_raw"].(string), `"field":"`+c.field+`"`) {
				t.Errorf("%v: %s", c.body, r["_raw"])
			}
		}

		rc := newHookReceiver(t)
		created := h.call("POST", "/api/v1/webhooks", map[string]any{"url": rc.URL + "/events", "events": roster.WebhookEventTypes(),
			"description": "Platform"}, 201)
		secret, _ := created["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || created["_location"] != fmt.Sprintf("/api/v1/webhooks/%v", created["id"]) {
			t.Fatalf("created: %v", created)
		}
		if key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); len(key) < 24 || len(key) > 64 {
			t.Errorf("secret of %d bytes", len(key))
		}
		rc.mu.Lock()
		rc.secret = secret
		rc.mu.Unlock()
		hookPath := fmt.Sprintf("/api/v1/webhooks/%v", created["id"])
		for _, p := range []string{hookPath, "/api/v1/webhooks", "/api/v1/audit"} {
			if r := h.call("GET", p, nil, 200); strings.Contains(r["_raw"].(string), "whsec_") || strings.Contains(r["_raw"].(string), strings.TrimPrefix(secret, "whsec_")) {
				t.Errorf("%s shows the secret: %s", p, r["_raw"])
			}
		}

		team := h.call("POST", "/api/v1/groups", map[string]any{"name": "Team A", "parent_id": root}, 201)
		h.call("POST", "/api/v1/roles", map[string]any{"key": "coach", "name": "Coach", "permissions": []string{"insights.view"}, "scope": "groups"}, 201)
		h.call("POST", "/api/v1/interactions/batch", map[string]any{"interactions": []map[string]any{{"source": "voice", "external_id": "c1",
			"agent_external_id": "4711", "started_at": "2026-11-20T08:00:00Z"}}}, 200)
		agents := h.call("GET", "/api/v1/agents", nil, 200)
		agentID := agents["items"].([]any)[0].(map[string]any)["id"]
		user := h.call("POST", "/api/v1/users", map[string]any{"username": "anna", "name": "Anna", "email": "anna@example.com",
			"language": "en", "group_id": root, "roles": []string{"agent"}}, 201)
		up := fmt.Sprintf("/api/v1/users/%v", user["id"])
		h.call("PATCH", up, map[string]any{"name": "Anna K"}, 200)
		h.call("POST", up+"/move", map[string]any{"group_id": team["id"]}, 200)
		h.call("PUT", up+"/agents", map[string]any{"agent_ids": []any{agentID}}, 200)
		h.call("POST", up+"/deactivate", nil, 200)
		h.call("POST", up+"/reactivate", nil, 200)
		inv := h.call("POST", "/api/v1/invitations", map[string]any{"invitations": []map[string]any{{"username": "bert", "email": "bert@example.com",
			"language": "en", "group_id": root}}}, 201)
		invID := inv["invitations"].([]any)[0].(map[string]any)["id"]
		link := h.call("GET", fmt.Sprintf("/api/v1/invitations/%v/link", invID), nil, 200)
		lu, _ := url.Parse(link["url"].(string))
		anon := &hookAPI{t: t, url: srv.URL}
		anon.call("POST", "/api/v1/invitations/accept", map[string]any{"token": strings.TrimPrefix(lu.Path, "/invite/"), "password": "silver-kettle-42-moon"}, 200)
		h.call("DELETE", up, nil, 204)
		// Not subscribed by anyone: no event.
		h.call("PATCH", hookPath, map[string]any{"description": "Platform events"}, 200)

		want := []string{"group.changed", "role.changed", "user.created", "user.updated", "user.moved", "agent_ids.changed",
			"user.deactivated", "user.reactivated", "user.created", "invitation.sent", "invitation.accepted", "user.deleted"}
		deadline := time.Now().Add(10 * time.Second)
		for len(rc.events()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		got := rc.events()
		var types []string
		for _, e := range got {
			types = append(types, e.Type)
			if !e.verified {
				t.Errorf("%s: the signature does not verify", e.Type)
			}
			if e.Tenant["slug"] != "acme" || e.Tenant["id"] != float64(tn.ID) {
				t.Errorf("%s: tenant %v", e.Type, e.Tenant)
			}
		}
		if strings.Join(types, " ") != strings.Join(want, " ") {
			t.Fatalf("events\n got %v\nwant %v", types, want)
		}
		change := func(e hookEvent, field string) (any, any) {
			c, _ := e.Data["changes"].(map[string]any)[field].(map[string]any)
			return c["from"], c["to"]
		}
		uid := user["id"]
		check := func(i int, ok bool, what string) {
			if !ok {
				t.Errorf("%s %s: %v", got[i].Type, what, got[i].Data)
			}
		}
		check(0, got[0].Data["change"] == "created" && got[0].Data["name"] == "Team A", "created Team A")
		check(1, got[1].Data["change"] == "created" && got[1].Data["key"] == "coach", "created coach")
		check(2, got[2].Data["id"] == uid && got[2].Data["username"] == "anna" && got[2].Data["changes"] == nil, "anna, no changes")
		from, to := change(got[3], "name")
		check(3, from == "Anna" && to == "Anna K" && got[3].Data["name"] == "Anna K", "name Anna -> Anna K")
		from, to = change(got[4], "group_id")
		check(4, from == float64(root) && to == team["id"], "group root -> Team A")
		_, to = change(got[5], "agent_ids")
		check(5, fmt.Sprint(to) == fmt.Sprint([]any{agentID}) && fmt.Sprint(got[5].Data["agent_ids"]) == fmt.Sprint([]any{agentID}), "agent IDs")
		from, to = change(got[6], "status")
		check(6, from == "active" && to == "deactivated", "status active -> deactivated")
		from, to = change(got[7], "status")
		check(7, from == "deactivated" && to == "active", "status deactivated -> active")
		check(8, got[8].Data["username"] == "bert" && got[8].Data["status"] == "invited", "bert invited")
		check(9, got[9].Data["email"] == "bert@example.com" && got[9].Data["status"] == "pending", "invitation to bert")
		from, to = change(got[10], "status")
		check(10, from == "pending" && to == "accepted", "invitation accepted")
		check(11, got[11].Data["id"] == uid && got[11].Data["username"] == "anna", "anna as she was")

		log := h.call("GET", hookPath+"/deliveries?per_page=25", nil, 200)
		if log["total"] != float64(len(want)) {
			t.Errorf("delivery log: %v", log["_raw"])
		}
		for _, it := range log["items"].([]any) {
			d := it.(map[string]any)
			if d["status"] != "delivered" || d["response_code"] != float64(200) || d["attempts"] != float64(1) {
				t.Errorf("delivery %v", d)
			}
		}
		rot := h.call("POST", hookPath+"/rotate-secret", nil, 200)
		if s, _ := rot["secret"].(string); !strings.HasPrefix(s, "whsec_") || s == secret || rot["previous_secret_until"] == nil {
			t.Errorf("rotate: %v", rot)
		}
		h.call("DELETE", hookPath, nil, 204)
		h.call("GET", hookPath+"/deliveries", nil, 404)
	})
}
