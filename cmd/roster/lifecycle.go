package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/roster"
)

// lifecycleConfig holds the settings of invitations, passwords, sessions and
// message delivery.
type lifecycleConfig struct {
	SMSURL         string
	SMSToken       string
	Argon2Memory   uint // KiB
	Argon2Time     uint
	Argon2Threads  uint
	SessionIdle    time.Duration
	SessionMax     time.Duration
	OutboxPoll     time.Duration
	OutboxRetryMax time.Duration
	OutboxLease    time.Duration
}

func envDuration(key string, def time.Duration) time.Duration {
	if v := os.Getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envUint(key string, def uint) uint {
	if v := os.Getenv(key); v != "" {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			return uint(n)
		}
	}
	return def
}

// lifecycleFlags registers the settings serve needs for sign-in and delivery.
func (c *Config) lifecycleFlags(fs *flag.FlagSet) {
	l := &c.Lifecycle
	d := auth.DefaultParams()
	fs.StringVar(&l.SMSURL, "sms-url", os.Getenv("ROSTER_SMS_URL"), "HTTP endpoint of the SMS provider: one JSON POST {to, text, reference} per message (env ROSTER_SMS_URL; empty: SMS are written to the log)")
	fs.StringVar(&l.SMSToken, "sms-token", os.Getenv("ROSTER_SMS_TOKEN"), "bearer token for the SMS provider (env ROSTER_SMS_TOKEN)")
	fs.UintVar(&l.Argon2Memory, "argon2-memory", envUint("ROSTER_ARGON2_MEMORY", uint(d.Memory)), "argon2id memory per password hash in KiB (env ROSTER_ARGON2_MEMORY; OWASP: 19456 = 19 MiB)")
	fs.UintVar(&l.Argon2Time, "argon2-time", envUint("ROSTER_ARGON2_TIME", uint(d.Time)), "argon2id passes (env ROSTER_ARGON2_TIME)")
	fs.UintVar(&l.Argon2Threads, "argon2-threads", envUint("ROSTER_ARGON2_THREADS", uint(d.Threads)), "argon2id parallelism (env ROSTER_ARGON2_THREADS)")
	fs.DurationVar(&l.SessionIdle, "session-idle", envDuration("ROSTER_SESSION_IDLE", 8*time.Hour), "a session unused this long ends (env ROSTER_SESSION_IDLE)")
	fs.DurationVar(&l.SessionMax, "session-max", envDuration("ROSTER_SESSION_MAX", 7*24*time.Hour), "every session ends this long after sign-in (env ROSTER_SESSION_MAX)")
	fs.DurationVar(&l.OutboxPoll, "outbox-poll", envDuration("ROSTER_OUTBOX_POLL", 2*time.Second), "how often the outbox is checked for due messages (env ROSTER_OUTBOX_POLL)")
	fs.DurationVar(&l.OutboxLease, "outbox-lease", envDuration("ROSTER_OUTBOX_LEASE", 2*time.Minute), "how long a worker holds the messages it is sending; a crashed worker's messages are sent after this (env ROSTER_OUTBOX_LEASE)")
	fs.DurationVar(&l.OutboxRetryMax, "outbox-retry-max", envDuration("ROSTER_OUTBOX_RETRY_MAX", time.Hour), "longest wait between delivery attempts of a message (env ROSTER_OUTBOX_RETRY_MAX)")
}

// publicURLFlag registers --public-url for commands that make links.
func (c *Config) publicURLFlag(fs *flag.FlagSet) {
	def := os.Getenv("ROSTER_PUBLIC_URL")
	if def == "" {
		def = "http://" + envOr("ROSTER_ADDR", "127.0.0.1:8080")
	}
	fs.StringVar(&c.PublicURL, "public-url", def, "base URL of links in emails (env ROSTER_PUBLIC_URL)")
}

// lifecycleOptions turns the flags into the core's options.
func (c *Config) lifecycleOptions() (roster.LifecycleOptions, error) {
	l := c.Lifecycle
	o := roster.LifecycleOptions{PublicURL: c.PublicURL, SessionIdle: l.SessionIdle, SessionMax: l.SessionMax}
	if l.Argon2Memory != 0 || l.Argon2Time != 0 || l.Argon2Threads != 0 {
		d := auth.DefaultParams()
		p := auth.Params{Memory: uint32(l.Argon2Memory), Time: uint32(l.Argon2Time), Threads: uint8(min(l.Argon2Threads, 255)),
			SaltLen: d.SaltLen, KeyLen: d.KeyLen}
		if err := p.Validate(); err != nil {
			return o, fmt.Errorf("--argon2-*: %w", err)
		}
		o.Argon2 = p
	}
	if o.SessionIdle < 0 || o.SessionMax < 0 || (o.SessionIdle > 0 && o.SessionMax > 0 && o.SessionIdle > o.SessionMax) {
		return o, fmt.Errorf("--session-idle and --session-max must be positive, the idle timeout the shorter")
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return o, fmt.Errorf("--public-url must start with http:// or https:// (got %q)", c.PublicURL)
	}
	return o, nil
}

// startOutbox starts the delivery worker: SMTP when --smtp-url is set, the
// SMS provider when --sms-url is set, otherwise the log.
func startOutbox(cfg Config, svc *roster.Service, log *slog.Logger) (*delivery.Worker, error) {
	o := delivery.Options{Log: log, Poll: cfg.Lifecycle.OutboxPoll, BackoffMax: cfg.Lifecycle.OutboxRetryMax, Lease: cfg.Lifecycle.OutboxLease}
	if cfg.SMTPURL != "" {
		smtp, err := delivery.NewSMTP(cfg.SMTPURL, cfg.MailFrom, 30*time.Second)
		if err != nil {
			return nil, err
		}
		o.Email = smtp
	} else {
		log.Warn("no --smtp-url: emails stay in the outbox (GET /api/v1/outbox) and are written to the log")
	}
	if cfg.Lifecycle.SMSURL != "" {
		sms, err := delivery.NewHTTPSMS(cfg.Lifecycle.SMSURL, cfg.Lifecycle.SMSToken)
		if err != nil {
			return nil, err
		}
		o.SMS = sms
	}
	w := delivery.New(svc, o)
	svc.OnOutbox(w.Kick)
	w.Start()
	return w, nil
}

// inviteFirstAdmin invites the tenant's first administrator into its
// level-1 group and returns the invitation link. The email waits in the
// outbox until a server delivers it.
func inviteFirstAdmin(ctx context.Context, svc *roster.Service, t *roster.Tenant, email, name string) (string, error) {
	sys := roster.SystemActor(t.ID)
	groups, err := svc.ListGroups(ctx, sys)
	if err != nil {
		return "", err
	}
	var root int64
	for _, g := range groups {
		if g.Level == 1 {
			root = g.ID
			break
		}
	}
	lang := "en"
	if len(t.Settings.Languages) > 0 {
		lang = t.Settings.Languages[0]
	}
	in := roster.UserInput{Email: roster.Some(email), Language: roster.Some(lang), GroupID: roster.Some(root),
		Roles: roster.Some([]string{roster.RoleAdmin})}
	if name != "" {
		in.Name = roster.Some(name)
	}
	links, err := svc.InviteUsers(ctx, sys, []roster.UserInput{in})
	if err != nil {
		return "", err
	}
	return links[0].URL, nil
}

// checkAdminFlags validates --admin-email and --admin-name before anything
// is created.
func checkAdminFlags(email, name string) error {
	if email == "" {
		if name != "" {
			return fmt.Errorf("--admin-name needs --admin-email")
		}
		return nil
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != strings.TrimSpace(email) {
		return fmt.Errorf("--admin-email: %q is not an email address", email)
	}
	return nil
}
