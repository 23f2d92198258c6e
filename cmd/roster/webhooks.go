package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// webhookConfig holds the settings of webhooks.
type webhookConfig struct {
	AllowPrivate bool
	SecretKey    string // the text given, or the one found by loadSecretKey
	serving      bool   // serve: find or make the key (other commands never open a secret)
}

// webhookFlags registers the settings serve needs for webhooks.
func (c *Config) webhookFlags(fs *flag.FlagSet) {
	c.Webhooks.serving = true
	allow, _ := strconv.ParseBool(os.Getenv("ROSTER_WEBHOOK_ALLOW_PRIVATE"))
	fs.BoolVar(&c.Webhooks.AllowPrivate, "webhook-allow-private", allow,
		"let webhooks reach private, loopback and link-local addresses (env ROSTER_WEBHOOK_ALLOW_PRIVATE; default: refused, against SSRF)")
	fs.StringVar(&c.Webhooks.SecretKey, "secret-key", os.Getenv("ROSTER_SECRET_KEY"),
		"key that encrypts webhook secrets at rest, any long random text (env ROSTER_SECRET_KEY; default: SQLite DATA/secret.key, PostgreSQL a key kept in the database)")
}

// loadSecretKey finds the key that seals webhook secrets when no
// --secret-key is given: on SQLite DATA/secret.key (made on first start,
// beside the database but not in it, so a backup of the database alone
// keeps the secrets sealed); on PostgreSQL one key stored in the database,
// so every replica seals and opens with the same key.
func (c *Config) loadSecretKey(ctx context.Context, db *store.DB, log *slog.Logger) error {
	if !c.Webhooks.serving || c.Webhooks.SecretKey != "" {
		return nil
	}
	newKey := func() string { return rand.Text() + rand.Text() }
	if db.Dialect() == store.Postgres {
		log.Warn("no --secret-key: webhook secrets are sealed with a key kept in the database; set --secret-key (the same on every replica) to keep the key apart from the data")
		key, err := db.ServerKey(ctx, "webhook-secrets", newKey)
		if err != nil {
			return fmt.Errorf("secret key: %w", err)
		}
		c.Webhooks.SecretKey = key
		return nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		c.Webhooks.SecretKey = string(b)
		return nil
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("secret key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	key := newKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("secret key: %w", err)
	}
	c.Webhooks.SecretKey = key
	return f.Close()
}

func (c *Config) webhookOptions() roster.WebhookOptions {
	return roster.WebhookOptions{SecretKey: c.Webhooks.SecretKey, AllowPrivate: c.Webhooks.AllowPrivate}
}

// startWebhooks starts the webhook worker: its own lane beside the mail.
func startWebhooks(cfg Config, svc *roster.Service, log *slog.Logger) *delivery.WebhookWorker {
	if cfg.Webhooks.AllowPrivate {
		log.Warn("--webhook-allow-private: webhooks may reach private and loopback addresses")
	}
	w := delivery.NewWebhookWorker(svc, delivery.WebhookOptions{Log: log, AllowPrivate: cfg.Webhooks.AllowPrivate})
	svc.OnWebhooks(w.Kick)
	w.Start()
	return w
}

// ssoKey is the 32-byte key that seals identity providers' client secrets,
// derived from the same secret key as the webhooks' (one key to keep and to
// back up); nil when none is loaded (commands that open no secret).
func (c *Config) ssoKey() []byte {
	if c.Webhooks.SecretKey == "" {
		return nil
	}
	sum := sha256.Sum256([]byte("roster sso client secrets\n" + strings.TrimSpace(c.Webhooks.SecretKey)))
	return sum[:]
}
