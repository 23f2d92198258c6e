package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// verifyStandardWebhook checks a request the way a receiver following the
// Standard Webhooks specification does, written from the specification and
// not from Roster's signer: the secret's base64 part is the HMAC-SHA256
// key, the signed content is "id.timestamp.body", and webhook-signature
// holds space-separated "v1,<base64>" entries, any of which may match.
func verifyStandardWebhook(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("timestamp outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, part := range strings.Split(sigs, " ") {
		version, sig, _ := strings.Cut(part, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// receiver is a real HTTP endpoint that records what arrives.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	got      []received
	statuses []int // answered in turn; then 204
	hold     chan struct{}
	entered  int // requests that reached the handler, held or not
}

type received struct {
	ID, Signature string
	Payload       roster.WebhookPayload
	VerifyErr     error
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.entered++
		rc.mu.Unlock()
		if rc.hold != nil {
			<-rc.hold
		}
		rc.mu.Lock()
		rec := received{ID: r.Header.Get("webhook-id"), Signature: r.Header.Get("webhook-signature"),
			VerifyErr: verifyStandardWebhook(rc.secret, r.Header, body)}
		if err := json.Unmarshal(body, &rec.Payload); err != nil {
			rec.VerifyErr = err
		}
		rc.got = append(rc.got, rec)
		status := http.StatusNoContent
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(func() {
		if rc.hold != nil {
			close(rc.hold)
			rc.hold = nil
		}
		rc.Close()
	})
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeResolver answers host names from a map that tests change.
type fakeResolver struct {
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

func (f *fakeResolver) set(host string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hosts == nil {
		f.hosts = map[string][]netip.Addr{}
	}
	f.hosts[host] = nil
	for _, a := range addrs {
		f.hosts[host] = append(f.hosts[host], netip.MustParseAddr(a))
	}
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.hosts[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

type hookEnv struct {
	*env
	worker *delivery.WebhookWorker
}

// newHookEnv is a tenant "acme" and a webhook worker with fast retries.
// Receivers listen on 127.0.0.1, so private addresses are allowed unless
// the test says otherwise.
func newHookEnv(t *testing.T, db *store.DB, wo roster.WebhookOptions, o delivery.WebhookOptions) *hookEnv {
	t.Helper()
	e := &env{ctx: context.Background()}
	e.svc = roster.NewService(db, roster.Options{Webhooks: wo, Lifecycle: roster.LifecycleOptions{PublicURL: "https://roster.example.com",
		Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1}}})
	var err error
	if e.tenant, err = e.svc.CreateTenant(e.ctx, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	e.sys = roster.SystemActor(e.tenant.ID)
	groups, err := e.svc.ListGroups(e.ctx, e.sys)
	if err != nil {
		t.Fatal(err)
	}
	e.group = groups[0].ID
	o.Log, o.Poll = quietLog(), 20*time.Millisecond
	if o.Schedule == nil {
		o.Schedule = []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
	}
	w := delivery.NewWebhookWorker(e.svc, o)
	e.svc.OnWebhooks(w.Kick)
	w.Start()
	t.Cleanup(w.Stop)
	return &hookEnv{env: e, worker: w}
}

func (h *hookEnv) hook(t *testing.T, a *roster.Actor, rc *receiver, events ...string) *roster.Webhook {
	t.Helper()
	w, secret, err := h.svc.CreateWebhook(h.ctx, a, roster.WebhookInput{URL: roster.Some(rc.URL + "/hook"), Events: roster.Some(events)})
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()
	return w
}

func (h *hookEnv) createUser(t *testing.T, a *roster.Actor, group int64, name string) *roster.User {
	t.Helper()
	u, err := h.svc.CreateUser(h.ctx, a, roster.UserInput{Username: roster.Some(name), Name: roster.Some("Person " + name),
		Email: roster.Some(name + "@example.com"), Language: roster.Some("en"), GroupID: roster.Some(group), Roles: roster.Some([]string{"agent"})})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (h *hookEnv) log(t *testing.T, hookID int64) []roster.WebhookDelivery {
	t.Helper()
	p, err := h.svc.ListWebhookDeliveries(h.ctx, h.sys, hookID, roster.DeliveryQuery{PerPage: "100"})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestWebhookSignedDelivery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		h := newHookEnv(t, db, roster.WebhookOptions{AllowPrivate: true}, delivery.WebhookOptions{AllowPrivate: true})
		rc := newReceiver(t)
		hook := h.hook(t, h.sys, rc, roster.EventUserCreated, roster.EventUserUpdated)
		u := h.createUser(t, h.sys, h.group, "anna")
		if _, err := h.svc.UpdateUser(h.ctx, h.sys, u.ID, roster.UserInput{Name: roster.Some("Anna K")}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.DeactivateUser(h.ctx, h.sys, u.ID); err != nil { // not subscribed: nothing sent
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "two deliveries", func() bool { return len(rc.all()) >= 2 })
		time.Sleep(100 * time.Millisecond)
		got := rc.all()
		if len(got) != 2 {
			t.Fatalf("got %d deliveries, want 2 (user.deactivated is not subscribed)", len(got))
		}
		for _, g := range got {
			if g.VerifyErr != nil {
				t.Errorf("%s: %v", g.Payload.Type, g.VerifyErr)
			}
			if g.Payload.Tenant.Slug != "acme" || g.Payload.Data["id"] != float64(u.ID) || !strings.HasPrefix(g.ID, "msg_") {
				t.Errorf("payload %+v", g.Payload)
			}
		}
		types := []string{got[0].Payload.Type, got[1].Payload.Type}
		if !(types[0] == "user.created" && types[1] == "user.updated") && !(types[1] == "user.created" && types[0] == "user.updated") {
			t.Errorf("types %v", types)
		}
		for _, g := range got {
			if g.Payload.Type == "user.updated" {
				ch, _ := g.Payload.Data["changes"].(map[string]any)
				name, _ := ch["name"].(map[string]any)
				if name["from"] != "Person anna" || name["to"] != "Anna K" || g.Payload.Data["name"] != "Anna K" || len(ch) != 1 {
					t.Errorf("changes %v", g.Payload.Data["changes"])
				}
			}
		}
		waitFor(t, 2*time.Second, "the log to say delivered", func() bool {
			l := h.log(t, hook.ID)
			return len(l) == 2 && l[0].Status == "delivered" && l[1].Status == "delivered"
		})
		if l := h.log(t, hook.ID); *l[0].ResponseCode != 204 || l[0].Attempts != 1 {
			t.Errorf("log %+v", l[0])
		}

		// Rotation: both secrets sign during the window.
		old := rc.secret
		_, fresh, err := h.svc.RotateWebhookSecret(h.ctx, h.sys, hook.ID)
		if err != nil || fresh == old || !strings.HasPrefix(fresh, "whsec_") {
			t.Fatalf("rotate: %q %v", fresh, err)
		}
		if _, err := h.svc.SendTestEvent(h.ctx, h.sys, hook.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the test event", func() bool { return len(rc.all()) == 3 })
		last := rc.all()[2]
		if last.Payload.Type != "webhook.test" || last.VerifyErr != nil || strings.Count(last.Signature, "v1,") != 2 {
			t.Errorf("test event after rotation: %+v", last)
		}
		hdr := http.Header{}
		hdr.Set("webhook-id", "msg_x")
		hdr.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		sig, _ := delivery.SignWebhook([]string{fresh}, "msg_x", time.Now().Unix(), []byte("{}"))
		hdr.Set("webhook-signature", sig)
		if err := verifyStandardWebhook(fresh, hdr, []byte("{}")); err != nil {
			t.Errorf("the new secret does not verify: %v", err)
		}
		if err := verifyStandardWebhook(old, hdr, []byte("{}")); err == nil {
			t.Error("a signature by the new secret verifies with the old one")
		}
	})
}

func TestWebhookRetriesAfterServerErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		h := newHookEnv(t, db, roster.WebhookOptions{AllowPrivate: true}, delivery.WebhookOptions{AllowPrivate: true})
		rc := newReceiver(t)
		rc.statuses = []int{500, 503}
		hook := h.hook(t, h.sys, rc, roster.EventGroupChanged)
		if _, err := h.svc.CreateGroup(h.ctx, h.sys, roster.GroupInput{Name: roster.Some("Sales"), ParentID: roster.Some(h.group)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "three attempts", func() bool { return len(rc.all()) == 3 })
		got := rc.all()
		if got[0].ID != got[1].ID || got[1].ID != got[2].ID {
			t.Errorf("webhook-id changed between attempts: %s %s %s", got[0].ID, got[1].ID, got[2].ID)
		}
		if got[2].Payload.Data["change"] != "created" || got[2].Payload.Data["name"] != "Sales" {
			t.Errorf("payload %+v", got[2].Payload)
		}
		waitFor(t, 2*time.Second, "delivered", func() bool { l := h.log(t, hook.ID); return l[0].Status == "delivered" })
		if l := h.log(t, hook.ID)[0]; l.Attempts != 3 || *l.ResponseCode != 204 {
			t.Errorf("log %+v", l)
		}

		// An endpoint that always fails: failed once the schedule is spent.
		rc.mu.Lock()
		rc.statuses = []int{500, 500, 500, 500, 500}
		rc.mu.Unlock()
		if _, err := h.svc.CreateGroup(h.ctx, h.sys, roster.GroupInput{Name: roster.Some("Support"), ParentID: roster.Some(h.group)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "failed", func() bool { l := h.log(t, hook.ID); return l[0].Status == "failed" })
		if l := h.log(t, hook.ID)[0]; l.Attempts != 4 || *l.ResponseCode != 500 || !strings.Contains(l.LastError, "gave up after 4 attempts") {
			t.Errorf("log %+v", l)
		}
	})
}

// captureSender takes emails for the mail worker.
type captureSender struct {
	mu  sync.Mutex
	got []string
}

func (c *captureSender) Send(_ context.Context, m *roster.OutboxMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, m.Recipient)
	return nil
}

func (c *captureSender) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// TestSlowWebhookHoldsNothingElse: an endpoint that hangs holds one lane;
// another tenant's webhook and the mail keep flowing.
func TestSlowWebhookHoldsNothingElse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		h := newHookEnv(t, db, roster.WebhookOptions{AllowPrivate: true}, delivery.WebhookOptions{AllowPrivate: true, Timeout: 5 * time.Second})
		mail := &captureSender{}
		mw := delivery.New(h.svc, delivery.Options{Email: mail, Log: quietLog(), Poll: 20 * time.Millisecond})
		h.svc.OnOutbox(mw.Kick)
		mw.Start()
		defer mw.Stop()

		slow := newReceiver(t)
		slow.hold = make(chan struct{})
		h.hook(t, h.sys, slow, roster.EventUserCreated)
		h.createUser(t, h.sys, h.group, "slowpoke")
		waitFor(t, 3*time.Second, "the slow endpoint to be hanging", func() bool {
			slow.mu.Lock()
			defer slow.mu.Unlock()
			return slow.entered == 1
		})

		other, err := h.svc.CreateTenant(h.ctx, "globex", "Globex")
		if err != nil {
			t.Fatal(err)
		}
		osys := roster.SystemActor(other.ID)
		og, _ := h.svc.ListGroups(h.ctx, osys)
		fast := newReceiver(t)
		h.hook(t, osys, fast, roster.EventUserCreated, roster.EventInvitationSent)
		start := time.Now()
		h.createUser(t, osys, og[0].ID, "quick")
		if _, err := h.svc.InviteUsers(h.ctx, osys, []roster.UserInput{{Email: roster.Some("new@globex.example"), Language: roster.Some("en"),
			GroupID: roster.Some(og[0].ID)}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Second, "the other tenant's webhooks and mail", func() bool { return len(fast.all()) == 3 && mail.count() == 1 })
		if len(slow.all()) != 0 {
			t.Fatal("the slow endpoint answered already")
		}
		// quick's user.created, the invitee's user.created and invitation.sent.
		t.Logf("other tenant's three events and the mail arrived in %s while an endpoint hung", time.Since(start).Round(time.Millisecond))
		for _, g := range fast.all() {
			if g.VerifyErr != nil || g.Payload.Tenant.Slug != "globex" {
				t.Errorf("%+v", g)
			}
		}
		close(slow.hold)
		slow.hold = nil
		waitFor(t, 5*time.Second, "the slow endpoint", func() bool { return len(slow.all()) == 1 })
		if g := slow.all()[0]; g.Payload.Tenant.Slug != "acme" || g.Payload.Data["username"] != "slowpoke" {
			t.Errorf("tenant isolation: acme's endpoint got %+v", g.Payload)
		}
	})
}

// TestWebhookSSRF: private destinations are refused when saved and, for a
// name that resolves differently later, when delivered.
func TestWebhookSSRF(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		res := &fakeResolver{}
		res.set("public.example", "203.0.113.7")
		res.set("intranet.example", "203.0.113.8", "10.1.2.3")
		h := newHookEnv(t, db, roster.WebhookOptions{Resolver: res}, delivery.WebhookOptions{Resolver: res})
		for _, u := range []string{"http://127.0.0.1:9000/x", "https://10.0.0.5/x", "https://192.168.1.1/", "https://172.16.0.1/",
			"https://169.254.169.254/latest/meta-data", "https://[::1]/", "https://[fe80::1]/", "https://[ff02::1]/", "https://224.0.0.1/",
			"https://0.0.0.0/", "https://100.64.0.1/", "https://[::ffff:127.0.0.1]/", "https://localhost/", "https://api.localhost/",
			"https://intranet.example/", "https://nowhere.example/", "ftp://public.example/", "https://user:pw@public.example/"} {
			_, _, err := h.svc.CreateWebhook(h.ctx, h.sys, roster.WebhookInput{URL: roster.Some(u), Events: roster.Some([]string{"user.created"})})
			if roster.ErrorCode(err) != roster.EInvalid || roster.ErrorFields(err)[0].Field != "url" {
				t.Errorf("%s: %v, want refused", u, err)
			}
		}
		hooks, _ := h.svc.ListWebhooks(h.ctx, h.sys)
		if len(hooks) != 0 {
			t.Fatalf("refused webhooks were saved: %+v", hooks)
		}

		// Saved while public, then the name moves to the receiver on
		// loopback (DNS rebinding): the delivery is refused, nothing sent.
		rc := newReceiver(t)
		port := rc.URL[strings.LastIndex(rc.URL, ":")+1:]
		hook, _, err := h.svc.CreateWebhook(h.ctx, h.sys, roster.WebhookInput{URL: roster.Some("http://public.example:" + port + "/hook"),
			Events: roster.Some([]string{"user.created"})})
		if err != nil {
			t.Fatal(err)
		}
		res.set("public.example", "127.0.0.1")
		h.createUser(t, h.sys, h.group, "rebind")
		waitFor(t, 5*time.Second, "a refused attempt", func() bool { l := h.log(t, hook.ID); return len(l) == 1 && l[0].Attempts > 0 })
		if l := h.log(t, hook.ID)[0]; !strings.Contains(l.LastError, "refused") || l.ResponseCode != nil {
			t.Errorf("log %+v", l)
		}
		if len(rc.all()) != 0 {
			t.Error("the loopback receiver was reached")
		}
	})
}

// TestWebhookScheduleSpansADay: the default retries reach past 24 hours.
func TestWebhookScheduleSpansADay(t *testing.T) {
	var total time.Duration
	for _, d := range delivery.DefaultWebhookSchedule {
		total += d * 9 / 10 // the most jitter takes
	}
	if total < 24*time.Hour {
		t.Errorf("the retries end %s after the first attempt, want at least 24h", total)
	}
}
