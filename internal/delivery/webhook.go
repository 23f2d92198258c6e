package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// WebhookOutbox is the core's side of webhook delivery (*roster.Service).
type WebhookOutbox interface {
	ClaimWebhookDeliveries(ctx context.Context, claim string, limit int, lease time.Duration) ([]roster.DeliveryAttempt, error)
	FinishWebhookDelivery(ctx context.Context, d *roster.WebhookDelivery, claim string, o roster.AttemptOutcome) error
	PruneWebhookDeliveries(ctx context.Context) error
}

// DefaultWebhookSchedule is the wait before each retry (Standard Webhooks'
// suggestion): more than 27 hours from the first attempt to the last.
var DefaultWebhookSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// WebhookOptions configure a WebhookWorker. Zero fields take the defaults.
type WebhookOptions struct {
	Log *slog.Logger
	// Poll is how often due deliveries are looked for (default 1s).
	Poll time.Duration
	// Lanes is how many deliveries are in flight at once, each to a
	// different webhook (default 8): a slow endpoint holds one lane.
	Lanes int
	// Timeout bounds one attempt, connecting included (default 10s).
	Timeout time.Duration
	// Lease is how long a claim holds a delivery (default 1 minute, at
	// least twice Timeout).
	Lease time.Duration
	// Schedule is the wait before each retry; after the last one the
	// delivery has failed (default DefaultWebhookSchedule).
	Schedule []time.Duration
	// AllowPrivate lets deliveries reach private, loopback and link-local
	// addresses (--webhook-allow-private).
	AllowPrivate bool
	// Resolver looks up webhook hosts (default net.DefaultResolver).
	Resolver roster.Resolver
	// PruneEvery is how often old final deliveries are dropped (default 1h).
	PruneEvery time.Duration
}

func (o WebhookOptions) withDefaults() WebhookOptions {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Lanes <= 0 {
		o.Lanes = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Lease < 2*o.Timeout {
		o.Lease = max(time.Minute, 2*o.Timeout)
	}
	if len(o.Schedule) == 0 {
		o.Schedule = DefaultWebhookSchedule
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Hour
	}
	return o
}

// WebhookWorker delivers webhook deliveries: its own lane beside the mail
// worker, so an endpoint that hangs never delays mail, and at most one
// delivery per webhook at a time, so it never delays another webhook.
type WebhookWorker struct {
	outbox WebhookOutbox
	o      WebhookOptions
	client *http.Client
	kick   chan struct{}

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewWebhookWorker returns a worker over outbox.
func NewWebhookWorker(outbox WebhookOutbox, o WebhookOptions) *WebhookWorker {
	w := &WebhookWorker{outbox: outbox, o: o.withDefaults(), kick: make(chan struct{}, 1)}
	w.client = &http.Client{
		Timeout: w.o.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would reach what the address check refuses
			DialContext:           w.dial,
			TLSHandshakeTimeout:   w.o.Timeout,
			ResponseHeaderTimeout: w.o.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		// A redirect could lead anywhere: it counts as a failed attempt.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w
}

// Kick wakes the worker: deliveries were just queued. It never blocks.
func (w *WebhookWorker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Start runs the worker in the background until Stop.
func (w *WebhookWorker) Start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.Run(ctx)
	}()
}

// Stop ends the worker after the attempts in flight (each within Timeout).
func (w *WebhookWorker) Stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.cancel = nil
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Run delivers until ctx ends.
func (w *WebhookWorker) Run(ctx context.Context) {
	poll := time.NewTicker(w.o.Poll)
	defer poll.Stop()
	finished := make(chan struct{}, w.o.Lanes)
	inFlight := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	nextPrune := time.Now()
	for {
		if now := time.Now(); !now.Before(nextPrune) {
			if err := w.outbox.PruneWebhookDeliveries(ctx); err != nil && ctx.Err() == nil {
				w.o.Log.Error("webhooks: pruning the delivery log", "err", err)
			}
			nextPrune = now.Add(w.o.PruneEvery)
		}
		if free := w.o.Lanes - inFlight; free > 0 && ctx.Err() == nil {
			claim := newClaim()
			attempts, err := w.outbox.ClaimWebhookDeliveries(ctx, claim, free, w.o.Lease)
			if err != nil && ctx.Err() == nil {
				w.o.Log.Error("webhooks: claiming deliveries", "err", err)
			}
			for i := range attempts {
				inFlight++
				wg.Add(1)
				go func(a *roster.DeliveryAttempt) {
					defer wg.Done()
					w.attempt(context.WithoutCancel(ctx), a, claim)
					finished <- struct{}{}
				}(&attempts[i])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-finished:
			inFlight--
		case <-poll.C:
		case <-w.kick:
		}
		for drained := false; !drained; { // count every lane freed meanwhile
			select {
			case <-finished:
				inFlight--
			default:
				drained = true
			}
		}
	}
}

// attempt sends one delivery and records what happened.
func (w *WebhookWorker) attempt(ctx context.Context, a *roster.DeliveryAttempt, claim string) {
	out := w.send(ctx, a)
	log := w.o.Log.With("delivery", a.ID, "tenant", a.TenantID, "webhook", a.WebhookID, "event", a.EventType, "attempt", a.Attempts+1)
	switch out.Status {
	case roster.DeliveryDelivered:
		log.Info("webhooks: delivered", "status", out.ResponseCode)
	case roster.DeliveryFailed:
		log.Warn("webhooks: delivery failed; no attempts left", "err", out.Error)
	default:
		log.Warn("webhooks: delivery failed; will retry", "err", out.Error, "retry_at", out.Retry)
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.outbox.FinishWebhookDelivery(rctx, &a.WebhookDelivery, claim, out); err != nil {
		// The lease runs out and the delivery is tried again: at worst a
		// duplicate (same webhook-id), never a loss.
		log.Error("webhooks: recording a delivery", "err", err)
	}
}

// send makes the HTTP request and decides what follows.
func (w *WebhookWorker) send(ctx context.Context, a *roster.DeliveryAttempt) roster.AttemptOutcome {
	fail := func(code int, err error) roster.AttemptOutcome {
		n := a.Attempts + 1
		if n > len(w.o.Schedule) {
			return roster.AttemptOutcome{Status: roster.DeliveryFailed, ResponseCode: code, Attempted: true,
				Error: fmt.Sprintf("gave up after %d attempts: %v", n, err)}
		}
		d := w.o.Schedule[n-1]
		d -= time.Duration(rand.Int64N(int64(d)/10 + 1)) // jitter: replicas do not retry in lockstep
		return roster.AttemptOutcome{Status: roster.DeliveryPending, Retry: time.Now().Add(d), ResponseCode: code,
			Error: err.Error(), Attempted: true}
	}
	if a.OpenError != nil {
		return fail(0, a.OpenError)
	}
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, strings.NewReader(a.Payload))
	if err != nil {
		return fail(0, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Roster-Webhooks/1")
	req.Header.Set("webhook-id", a.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	sig, err := SignWebhook(a.Secrets, a.MsgID, ts, []byte(a.Payload))
	if err != nil {
		return fail(0, err)
	}
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	if err != nil {
		return fail(0, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return roster.AttemptOutcome{Status: roster.DeliveryDelivered, ResponseCode: resp.StatusCode, Attempted: true}
	}
	return fail(resp.StatusCode, fmt.Errorf("the endpoint answered %s: %s", resp.Status, bytes.TrimSpace(snippet)))
}

// SignWebhook is the webhook-signature header: "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" for each secret, space-separated (Standard Webhooks).
func SignWebhook(secrets []string, msgID string, ts int64, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("no signing secret")
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := roster.WebhookSigningKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%d.", msgID, ts)
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

// dial connects to a checked address: the host is resolved here, every
// address must be public (unless private ones are allowed), and the
// connection goes to an address that was checked, so a name that
// resolves differently a moment later (DNS rebinding) gains nothing.
func (w *WebhookWorker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", portText)
	}
	var addrs []netip.Addr
	if w.o.AllowPrivate {
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a}
		} else if addrs, err = w.o.Resolver.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, err
		}
	} else if addrs, err = roster.CheckWebhookHost(ctx, w.o.Resolver, host); err != nil {
		return nil, fmt.Errorf("refused: %w (the operator allows those with --webhook-allow-private)", err)
	}
	d := &net.Dialer{Timeout: w.o.Timeout, Control: w.control}
	var last error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		last = err
	}
	if last == nil {
		last = fmt.Errorf("%s has no address", host)
	}
	return nil, last
}

// control checks the address the socket really connects to, once more.
func (w *WebhookWorker) control(_, address string, _ syscall.RawConn) error {
	if w.o.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !roster.PublicAddress(ap.Addr()) {
		return fmt.Errorf("refused to connect to %s: not a public address", address)
	}
	return nil
}
