package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/mailtest"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

type env struct {
	svc    *roster.Service
	ctx    context.Context
	tenant *roster.Tenant
	sys    *roster.Actor
	group  int64
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{ctx: context.Background()}
	e.svc = roster.NewService(db, roster.Options{Lifecycle: roster.LifecycleOptions{PublicURL: "https://roster.example.com",
		Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1}, ForgotMinDuration: time.Nanosecond}})
	var err error
	e.tenant, err = e.svc.CreateTenant(e.ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	e.sys = roster.SystemActor(e.tenant.ID)
	groups, err := e.svc.ListGroups(e.ctx, e.sys)
	if err != nil {
		t.Fatal(err)
	}
	e.group = groups[0].ID
	return e
}

func (e *env) invite(t *testing.T, n int) {
	t.Helper()
	rows := make([]roster.UserInput, n)
	for i := range rows {
		rows[i] = roster.UserInput{Email: roster.Some(fmt.Sprintf("user%03d@example.com", i)), Language: roster.Some("en"),
			GroupID: roster.Some(e.group)}
	}
	if _, err := e.svc.InviteUsers(e.ctx, e.sys, rows); err != nil {
		t.Fatal(err)
	}
}

func (e *env) outbox(t *testing.T, status string) []roster.OutboxMessage {
	t.Helper()
	p, err := e.svc.ListOutbox(e.ctx, e.sys, roster.OutboxQuery{Status: status, PerPage: "100"})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// smsProvider is a real HTTP server standing in for an SMS gateway.
type smsProvider struct {
	mu       sync.Mutex
	got      []delivery.SMSRequest
	auth     []string
	statuses []int // answered in turn; then 200
	srv      *httptest.Server
}

func newSMSProvider(t *testing.T, statuses ...int) *smsProvider {
	p := &smsProvider{statuses: statuses}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.statuses) > 0 {
			st := p.statuses[0]
			p.statuses = p.statuses[1:]
			if st != http.StatusOK {
				http.Error(w, "provider says no", st)
				return
			}
		}
		var req delivery.SMSRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.got = append(p.got, req)
		p.auth = append(p.auth, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *smsProvider) received() []delivery.SMSRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]delivery.SMSRequest(nil), p.got...)
}

func startMail(t *testing.T, addr string) *mailtest.Server {
	t.Helper()
	m, err := mailtest.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestDeliversEmailAndSMS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mail := startMail(t, "127.0.0.1:0")
		sms := newSMSProvider(t)
		smtp, err := delivery.NewSMTP(mail.URL(), "Roster <roster@example.com>", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		httpSMS, err := delivery.NewHTTPSMS(sms.srv.URL, "provider-secret")
		if err != nil {
			t.Fatal(err)
		}
		w := delivery.New(e.svc, delivery.Options{Email: smtp, SMS: httpSMS, Log: quietLog()})

		e.invite(t, 1)
		_, err = e.svc.CreateUser(e.ctx, e.sys, roster.UserInput{Username: roster.Some("olga"), Mobile: roster.Some("+491705550001"),
			Language: roster.Some("en"), GroupID: roster.Some(e.group)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RequestPasswordCode(e.ctx, roster.CodeRequest{Tenant: "acme", Login: "olga", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}
		if n, err := w.RunOnce(e.ctx); err != nil || n != 2 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}

		msgs := mail.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d mails", len(msgs))
		}
		m := msgs[0]
		if m.To[0] != "user000@example.com" || m.Subject != "You are invited to Acme" || m.Header.Get("X-Roster-Outbox-Id") == "" ||
			!strings.Contains(m.Header.Get("From"), "roster@example.com") {
			t.Fatalf("mail = %+v", m)
		}
		links := m.Links()
		if len(links) != 1 || !strings.HasPrefix(links[0], "https://roster.example.com/invite/inv_") || !strings.Contains(m.HTML, links[0]) {
			t.Fatalf("links %v in\n%s", links, m.Text)
		}
		// The link in the mail is a working one.
		if _, err := e.svc.InspectInvitation(e.ctx, strings.TrimPrefix(links[0], "https://roster.example.com/invite/")); err != nil {
			t.Fatal(err)
		}

		got := sms.received()
		if len(got) != 1 || got[0].To != "+491705550001" || !strings.Contains(got[0].Text, "one-time code") || sms.auth[0] != "Bearer provider-secret" {
			t.Fatalf("sms = %+v (auth %v)", got, sms.auth)
		}
		sent := e.outbox(t, "sent")
		if len(sent) != 2 || sent[0].SentAt == nil || sent[0].Attempts != 1 {
			t.Fatalf("outbox = %+v", sent)
		}
		// Nothing is sent twice.
		if n, _ := w.RunOnce(e.ctx); n != 0 || len(mail.Messages()) != 1 {
			t.Fatalf("a second run claimed %d", n)
		}
	})
}

// TestMailServerDown: a mail server that is down only delays the mail; it is
// retried with backoff and delivered once the server is back.
func TestMailServerDown(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nobody listens: connection refused
		smtp, err := delivery.NewSMTP("smtp://"+addr, "roster@example.com", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		w := delivery.New(e.svc, delivery.Options{Email: smtp, Log: quietLog(), BackoffBase: 600 * time.Millisecond, BackoffMax: 700 * time.Millisecond})
		e.invite(t, 3)
		for i := 0; i < 2; i++ {
			if n, err := w.RunOnce(e.ctx); err != nil || n != 3 {
				t.Fatalf("attempt %d claimed %d, %v", i, n, err)
			}
			pending := e.outbox(t, "pending")
			if len(pending) != 3 || pending[0].Attempts != i+1 || pending[0].LastError == "" || !pending[0].NextAttemptAt.After(time.Now()) {
				t.Fatalf("after a failed attempt: %+v", pending[0])
			}
			// Backing off: nothing is due right away.
			if n, _ := w.RunOnce(e.ctx); n != 0 {
				t.Fatalf("retried before the backoff: %d", n)
			}
			// Backoffs long enough that a slow machine still tests before
			// they run out (at least 540 ms with the jitter), then waited out.
			time.Sleep(800 * time.Millisecond)
		}
		mail := startMail(t, addr)
		if n, err := w.RunOnce(e.ctx); err != nil || n != 3 {
			t.Fatalf("after the server came back: %d, %v", n, err)
		}
		if got := len(mail.Messages()); got != 3 {
			t.Fatalf("%d of 3 mails delivered", got)
		}
		for _, m := range e.outbox(t, "sent") {
			if m.Attempts != 3 {
				t.Fatalf("attempts = %d, want 3", m.Attempts)
			}
		}
	})
}

func TestPermanentAndTemporaryFailures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// 503 is retried; 400 fails for good.
		sms := newSMSProvider(t, http.StatusServiceUnavailable, http.StatusBadRequest)
		httpSMS, _ := delivery.NewHTTPSMS(sms.srv.URL, "")
		w := delivery.New(e.svc, delivery.Options{SMS: httpSMS, Log: quietLog(), BackoffBase: time.Millisecond, BackoffMax: time.Millisecond,
			MaxAttempts: 5})
		_, err := e.svc.CreateUser(e.ctx, e.sys, roster.UserInput{Username: roster.Some("olga"), Mobile: roster.Some("+491705550001"),
			Language: roster.Some("en"), GroupID: roster.Some(e.group)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RequestPasswordCode(e.ctx, roster.CodeRequest{Tenant: "acme", Login: "olga", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}
		w.RunOnce(e.ctx)
		time.Sleep(5 * time.Millisecond)
		w.RunOnce(e.ctx)
		failed := e.outbox(t, "failed")
		if len(failed) != 1 || failed[0].Attempts != 2 || !strings.Contains(failed[0].LastError, "400") {
			t.Fatalf("failed = %+v", failed)
		}
	})
}

// TestNoSenderLogs: without --smtp-url the message is written to the log
// (link included, so a setup without mail still works) and marked logged.
func TestNoSenderLogs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var buf bytes.Buffer
		w := delivery.New(e.svc, delivery.Options{Log: slog.New(slog.NewTextHandler(&buf, nil))})
		e.invite(t, 1)
		w.RunOnce(e.ctx)
		logged := e.outbox(t, "logged")
		if len(logged) != 1 || !strings.Contains(logged[0].Text, "[hidden]") {
			t.Fatalf("outbox = %+v", logged)
		}
		if !strings.Contains(buf.String(), "https://roster.example.com/invite/inv_") || !strings.Contains(buf.String(), "user000@example.com") {
			t.Fatalf("the log lacks the message:\n%s", buf.String())
		}
	})
}

// TestTwoWorkersSendEachMessageOnce runs two workers (as two replicas would)
// over one database: every message is delivered exactly once.
func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mail := startMail(t, "127.0.0.1:0")
		e.invite(t, 40)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			smtp, _ := delivery.NewSMTP(mail.URL(), "roster@example.com", 10*time.Second)
			w := delivery.New(e.svc, delivery.Options{Email: smtp, Log: quietLog(), Batch: 3})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := w.RunOnce(e.ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		msgs := mail.Messages()
		seen := map[string]int{}
		for _, m := range msgs {
			seen[m.To[0]]++
		}
		if len(msgs) != 40 || len(seen) != 40 {
			t.Fatalf("%d mails to %d addresses, want 40 each once", len(msgs), len(seen))
		}
	})
}

// TestStartStop: a started worker delivers what is queued when kicked, and
// Stop returns.
func TestStartStop(t *testing.T) {
	db := testdb.SQLite(t)
	e := newEnv(t, db)
	mail := startMail(t, "127.0.0.1:0")
	smtp, _ := delivery.NewSMTP(mail.URL(), "roster@example.com", 10*time.Second)
	w := delivery.New(e.svc, delivery.Options{Email: smtp, Log: quietLog(), Poll: time.Hour})
	e.svc.OnOutbox(w.Kick)
	w.Start()
	e.invite(t, 2)
	if _, err := mail.WaitFor(2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.Stop(); w.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
}

func TestSMTPURL(t *testing.T) {
	for _, bad := range []string{"http://mail", "smtp://", "smtp://mail:99999", "smtp://mail?starttls=maybe"} {
		if _, err := delivery.NewSMTP(bad, "roster@example.com", 0); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := delivery.NewSMTP("smtp://mail:25", "not an address", 0); err == nil {
		t.Error("bad --mail-from accepted")
	}
	for _, ok := range []string{"smtp://mail:2525", "smtp://user:pass@mail:587?starttls=required", "smtps://mail"} {
		if _, err := delivery.NewSMTP(ok, "roster@example.com", 0); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
