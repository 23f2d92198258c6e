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

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/demo"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

const usage = `Roster: user and access administration for contact-centre platforms.

Usage:
  roster serve [--addr HOST:PORT] [--demo]      run the console, API and SCIM
  roster migrate                                 apply database migrations and exit
  roster tenant create --slug S --name N [--admin-email E --admin-name N]
                                                 create a tenant (and invite its first admin)
  roster token create --tenant S --name N --role ROLEKEY
                                                 create a tenant service token (printed once)
  roster tenant list | show --slug S | set --slug S [--name N] [--languages en,de,nb] [--group-depth N] ...
                                                 list, show or change tenants and their settings
  roster token list --tenant S                   list the tenant's API tokens (no secrets)
  roster token revoke --tenant S ID              revoke an API token at once
  roster sso list --tenant S                     list the tenant's identity providers and their redirect URIs

Every command takes --db DSN (env ROSTER_DB; default SQLite in the data folder)
and --data DIR (env ROSTER_DATA; default ./roster-data). Run a command with -h
for all its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "roster:", err)
		}
		os.Exit(1)
	}
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
	// TrustedProxies are the reverse proxies whose forwarding headers are
	// believed (--trusted-proxies); nil: nobody's.
	TrustedProxies *clientip.Proxies
	Lifecycle      lifecycleConfig // sessions, passwords, SMS, delivery (lifecycle.go)
	// SecretKeyFile holds the key sealing stored secrets (secretkey.go).
	SecretKeyFile string
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
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", os.Getenv("ROSTER_SECRET_KEY_FILE"), "file with the base64 key that seals stored secrets such as SSO client secrets (env ROSTER_SECRET_KEY_FILE; default DATA/secret.key, made on first use)")
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
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd := args[0]
	if (cmd == "tenant" || cmd == "token" || cmd == "sso") && len(args) > 1 {
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
		cfg.lifecycleFlags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		proxies, err := clientip.Parse(*trusted)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		cfg.TrustedProxies = proxies
		return serve(ctx, cfg, stdout, stderr)
	case "migrate":
		if err := fs.Parse(args[1:]); err != nil {
			return err
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
	case "tenant create":
		slug := fs.String("slug", "", "tenant slug: a-z, 0-9 and - (required)")
		name := fs.String("name", "", "display name (required)")
		adminEmail := fs.String("admin-email", "", "invite the first Admin at this address; the invitation URL is printed last")
		adminName := fs.String("admin-name", "", "the first Admin's display name")
		cfg.publicURLFlag(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
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
			return err
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
		return tenantCommand(ctx, cmd, fs, cfg, args, stdout, stderr) // tenants.go
	}
	if cmd == "token list" || cmd == "token revoke" {
		return tokenCommand(ctx, cmd, fs, cfg, args, stdout, stderr) // tokens.go
	}
	if cmd == "sso list" {
		return ssoCommand(ctx, fs, &cfg, args, stdout, stderr) // sso.go
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(strings.Fields(cmd), " "))
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
		flagName := strings.ReplaceAll(strings.TrimPrefix(f.Field, "settings."), "_", "-")
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
	key, err := cfg.secretKey(log)
	if err != nil {
		return err
	}
	return fn(roster.NewService(db, roster.Options{Logger: log, Lifecycle: lifecycle, SecretKey: key}), log)
}

func serve(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	return withService(ctx, cfg, stderr, func(svc *roster.Service, log *slog.Logger) error {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return err
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
		// The decision index follows other processes' changes (every 500 ms)
		// until the server is done, before the database closes.
		syncCtx, stopSync := context.WithCancel(context.Background())
		syncDone := make(chan struct{})
		go func() { defer close(syncDone); svc.RunAuthzSync(syncCtx) }()
		defer func() { stopSync(); <-syncDone }()

		metrics := api.NewMetrics()
		mux := http.NewServeMux()
		api.New(svc, log, api.Options{Proxies: cfg.TrustedProxies}).Register(mux)
		console.New(svc, log, console.Options{PublicURL: cfg.PublicURL, Proxies: cfg.TrustedProxies}).Register(mux)
		healthz, readyz := api.Health(svc.Ready, log)
		mux.HandleFunc("GET /healthz", healthz)
		mux.HandleFunc("GET /readyz", readyz)
		mux.Handle("GET /metrics", metrics)
		srv := &http.Server{
			Handler:           metrics.Middleware(log, mux),
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

		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
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
		log.Info("stopped")
		return nil
	})
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
