// Command roster runs the Roster server and its administration commands.
// main only parses configuration and wires the pieces together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/demo"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

const usage = `Roster: user and access administration for contact-centre platforms.

Usage:
  roster serve [--addr HOST:PORT] [--demo]      run the console, API and SCIM
  roster migrate                                 apply database migrations and exit
  roster scim defaults --tenant S [--group ID] [--role KEY] [--group-parent ID] [--language L]
                                                 what users and groups created over SCIM get
  roster tenant create --slug S --name N [--admin-email E --admin-name N]
                                                 create a tenant (and invite its first admin)
  roster token create --tenant S --name N --role ROLEKEY
                                                 create a tenant service token (printed once)
  roster tenant list | show --slug S | set --slug S [--name N] [--languages en,de,nb] [--group-depth N] ...
                                                 list, show or change tenants and their settings
  roster token list --tenant S                   list the tenant's API tokens (no secrets)
  roster token revoke --tenant S ID              revoke an API token at once
  roster version                                 module version and VCS revision of this binary
  roster backup --to FILE                        consistent copy of the SQLite database (also while serving)
  roster doctor [--fix]                          check the database: integrity, migrations,
                                                 stored phone numbers, outbox backlog

Exit codes: 0 ok, 1 failure (also: doctor found a problem), 2 usage.
  roster user import --tenant S [--dry-run] [--mode create|upsert] [--invite] [--delimiter ,|;] FILE|-
                                                 import users from CSV: every row checked first, all or nothing
  roster user import --tenant S --resume         finish (or roll back) an interrupted import
  roster user export --tenant S [--status ..] [--role ..] [--group ..] [--q ..]
                                                 the users as CSV on standard output
  roster sso list --tenant S                     list the tenant's identity providers and their redirect URIs

Every command takes --db DSN (env ROSTER_DB; default SQLite in the data folder)
and --data DIR (env ROSTER_DATA; default ./roster-data). Run a command with -h
for all its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	code := exitCode(err) // 0 ok, 1 failure, 2 usage
	if code != 0 {
		fmt.Fprintln(os.Stderr, "roster:", err)
	}
	os.Exit(code)
}

// Config is every setting, parsed once here and passed down.
type Config struct {
	DB        string
	DataDir   string
	Addr      string
	Demo      bool
	LogLevel  string
	LogFormat string
	SMTPURL   string
	MailFrom  string
	PublicURL string
	// MetricsAddr, when set, serves /metrics on its own listener only.
	MetricsAddr string
	// TrustedProxies are the reverse proxies whose forwarding headers are
	// believed (--trusted-proxies); nil: nobody's.
	TrustedProxies *clientip.Proxies
	Lifecycle      lifecycleConfig // sessions, passwords, SMS, delivery
	Webhooks       webhookConfig
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// flags registers the settings every command shares.
func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", os.Getenv("ROSTER_DB"), "database: a postgres:// URL, or empty for SQLite in the data folder (env ROSTER_DB)")
	fs.StringVar(&c.DataDir, "data", envOr("ROSTER_DATA", "roster-data"), "data folder for the SQLite database (env ROSTER_DATA)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("ROSTER_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env ROSTER_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("ROSTER_LOG_FORMAT", "text"), "log format: text or json (env ROSTER_LOG_FORMAT)")
}

func (c *Config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(api.RequestIDLogHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(api.RequestIDLogHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd := args[0]
	if (cmd == "tenant" || cmd == "token" || cmd == "user" || cmd == "sso") && len(args) > 1 {
		cmd += " " + args[1]
		args = args[1:]
	}
	var cfg Config
	fs := flag.NewFlagSet("roster "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	switch cmd {
	case "serve":
		fs.StringVar(&cfg.Addr, "addr", envOr("ROSTER_ADDR", "127.0.0.1:8080"), "address to listen on (env ROSTER_ADDR)")
		fs.BoolVar(&cfg.Demo, "demo", false, "load the demo tenant \"demo\" (once) and print how to use it")
		fs.StringVar(&cfg.SMTPURL, "smtp-url", os.Getenv("ROSTER_SMTP_URL"), "smtp://[user:pass@]host:port for outgoing mail (env ROSTER_SMTP_URL)")
		fs.StringVar(&cfg.MailFrom, "mail-from", envOr("ROSTER_MAIL_FROM", "roster@localhost"), "sender address of emails (env ROSTER_MAIL_FROM)")
		fs.StringVar(&cfg.PublicURL, "public-url", os.Getenv("ROSTER_PUBLIC_URL"), "base URL of links in emails (env ROSTER_PUBLIC_URL; default http://ADDR)")
		trusted := fs.String("trusted-proxies", os.Getenv("ROSTER_TRUSTED_PROXIES"),
			"comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For, Forwarded and X-Forwarded-Proto are believed (env ROSTER_TRUSTED_PROXIES; default: none)")
		fs.StringVar(&cfg.MetricsAddr, "metrics-addr", os.Getenv("ROSTER_METRICS_ADDR"),
			"serve /metrics on this address only, e.g. 127.0.0.1:9090 (env ROSTER_METRICS_ADDR; default: /metrics on --addr)")
		cfg.lifecycleFlags(fs)
		cfg.webhookFlags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return usageErr(err)
		}
		proxies, err := clientip.Parse(*trusted)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = proxies
		return serve(ctx, cfg, stdout, stderr)
	case "migrate":
		if err := fs.Parse(args[1:]); err != nil {
			return usageErr(err)
		}
		db, _, err := openDB(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d migration(s) applied\n", n)
		return nil
	case "scim":
		return scimCommand(ctx, &cfg, fs, args, stdout, stderr)
	case "tenant create":
		slug := fs.String("slug", "", "tenant slug: a-z, 0-9 and - (required)")
		name := fs.String("name", "", "display name (required)")
		adminEmail := fs.String("admin-email", "", "invite the first Admin at this address; the invitation URL is printed last")
		adminName := fs.String("admin-name", "", "the first Admin's display name")
		cfg.publicURLFlag(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return usageErr(err)
		}
		if err := checkAdminFlags(*adminEmail, *adminName); err != nil {
			return err
		}
		return withService(ctx, cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
			t, err := svc.CreateTenant(ctx, *slug, *name)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintln(stdout, t.ID)
			if *adminEmail != "" {
				url, err := inviteFirstAdmin(ctx, svc, t, *adminEmail, *adminName)
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintln(stdout, url)
			}
			return nil
		})
	case "token create":
		tenant := fs.String("tenant", "", "tenant slug (required)")
		name := fs.String("name", "", "a name for the token (required)")
		role := fs.String("role", "", "role key the token acts with, e.g. admin or read_only (required)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageErr(err)
		}
		return withService(ctx, cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
			t, err := svc.TenantBySlug(ctx, *tenant)
			if err != nil {
				return cliError(err)
			}
			_, secret, err := svc.CreateToken(ctx, roster.SystemActor(t.ID), roster.TokenInput{Name: *name, Role: *role})
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintln(stdout, secret)
			return nil
		})
	}
	if cmd == "tenant list" || cmd == "tenant show" || cmd == "tenant set" {
		return tenantCommand(ctx, cmd, fs, &cfg, args, stdout, stderr)
	}
	if cmd == "token list" || cmd == "token revoke" {
		return tokenCommand(ctx, cmd, fs, &cfg, args, stdout, stderr)
	}
	if cmd == "user import" || cmd == "user export" {
		return userCommand(ctx, cmd, fs, &cfg, args, stdout, stderr)
	}
	if cmd == "version" || cmd == "backup" || cmd == "doctor" {
		return opsCommand(ctx, cmd, fs, &cfg, args, stdout, stderr)
	}
	if cmd == "sso list" {
		return ssoCommand(ctx, fs, &cfg, args, stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return usageErr(fmt.Errorf("unknown command %q", strings.Join(strings.Fields(cmd), " ")))
}

// cliError spells out field errors one per line.
func cliError(err error) error {
	fields := roster.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(roster.ErrorMessage(err))
	for _, f := range fields {
		// Fields are named like the flags that set them.
		flagName := f.Field
		if setting, ok := strings.CutPrefix(f.Field, "settings."); ok { // roster tenant set's flags
			flagName = strings.ReplaceAll(setting, "_", "-")
		}
		fmt.Fprintf(&b, "\n  --%s: %s", flagName, f.Message)
	}
	return errors.New(b.String())
}

func openDB(ctx context.Context, cfg Config, stderr io.Writer) (*store.DB, *slog.Logger, error) {
	log, err := cfg.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	return db, log, nil
}

// withService opens and migrates the database and runs fn with the core.
func withService(ctx context.Context, cfg Config, stderr io.Writer, fn func(*roster.Service, *slog.Logger) error) error {
	return withServiceDB(ctx, cfg, stderr, func(svc *roster.Service, _ *store.DB, log *slog.Logger) error { return fn(svc, log) })
}

// withServiceDB is withService for callers that need the database too.
func withServiceDB(ctx context.Context, cfg Config, stderr io.Writer, fn func(*roster.Service, *store.DB, *slog.Logger) error) error {
	db, log, err := openDB(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	lifecycle, err := cfg.lifecycleOptions()
	if err != nil {
		return err
	}
	if err := cfg.loadSecretKey(ctx, db, log); err != nil {
		return err
	}
	return fn(roster.NewService(db, roster.Options{Logger: log, Lifecycle: lifecycle, Webhooks: cfg.webhookOptions(),
		SecretKey: cfg.ssoKey()}), db, log)
}

func serve(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	return withServiceDB(ctx, cfg, stderr, func(svc *roster.Service, db *store.DB, log *slog.Logger) error {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return err
		}
		var metricsLn net.Listener
		if cfg.MetricsAddr != "" {
			if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
				return fmt.Errorf("--metrics-addr: %w", err)
			}
			defer metricsLn.Close()
		}
		baseURL := "http://" + ln.Addr().String()
		if cfg.PublicURL == "" {
			cfg.PublicURL = baseURL
		}
		svc.SetPublicURL(cfg.PublicURL)
		outbox, err := startOutbox(cfg, svc, log)
		if err != nil {
			return err
		}
		defer outbox.Stop() // also when serving fails; Stop is idempotent
		hooks := startWebhooks(cfg, svc, log)
		defer hooks.Stop()
		// The decision index follows other processes' changes (every 500 ms)
		// until the server is done, before the database closes.
		syncCtx, stopSync := context.WithCancel(context.Background())
		syncDone := make(chan struct{})
		go func() { defer close(syncDone); svc.RunAuthzSync(syncCtx) }()
		defer func() { stopSync(); <-syncDone }()

		h := newHandlers(cfg, db, svc, log, prometheus.NewRegistry(), cfg.MetricsAddr != "")
		srv := &http.Server{
			Handler:           h.root,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}

		if cfg.Demo {
			howto, err := loadDemo(ctx, svc, baseURL)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			fmt.Fprint(stdout, howto)
		}
		fmt.Fprintf(stdout, "Roster is listening on %s\n", baseURL)
		log.Info("serving", "addr", ln.Addr().String(), "db", dialectName(cfg), "trusted_proxies", cfg.TrustedProxies.String())

		errc := make(chan error, 2)
		go func() { errc <- srv.Serve(ln) }()
		if metricsLn != nil {
			metricsSrv := &http.Server{Handler: metricsOnly(h.metrics), ReadHeaderTimeout: 10 * time.Second}
			go func() { errc <- metricsSrv.Serve(metricsLn) }()
			defer metricsSrv.Close()
			fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", metricsLn.Addr())
		}
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		// Ordered shutdown: stop taking requests and finish those in flight,
		// then the database closes (deferred in withService).
		log.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		// Then the outbox worker: it finishes the message in flight and
		// hands back the rest, before the database closes.
		outbox.Stop()
		hooks.Stop()
		log.Info("stopped")
		return nil
	})
}

// metricsOnly serves GET /metrics and nothing else (--metrics-addr).
func metricsOnly(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return mux
}

func dialectName(cfg Config) string {
	if cfg.DB == "" {
		return "sqlite"
	}
	return "postgres"
}

func loadDemo(ctx context.Context, svc *roster.Service, baseURL string) (string, error) {
	info, err := demo.Load(ctx, svc)
	if err != nil {
		return "", err
	}
	return info.HowTo(baseURL), nil
}
