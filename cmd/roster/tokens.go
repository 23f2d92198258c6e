package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// tokenCommand runs `roster token list|revoke`, as the platform operator.
func tokenCommand(ctx context.Context, cmd string, fs *flag.FlagSet, cfg *Config, args []string, stdout, stderr io.Writer) error {
	tenant := fs.String("tenant", "", "tenant slug (required)")
	var id *int64
	if cmd == "token revoke" {
		id = fs.Int64("id", 0, "id of the token to revoke (or give it as the argument)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("--tenant is required")
	}
	if id != nil {
		switch {
		case fs.NArg() == 1 && *id == 0:
			n, err := strconv.ParseInt(fs.Arg(0), 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("the token id must be a whole number, not %q", fs.Arg(0))
			}
			*id = n
		case fs.NArg() > 1 || (fs.NArg() == 1 && *id != 0):
			return fmt.Errorf("give one token id")
		case *id < 1:
			return fmt.Errorf("which token? give its id (roster token list --tenant %s)", *tenant)
		}
	}
	return withService(ctx, *cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		t, err := svc.TenantBySlug(ctx, *tenant)
		if err != nil {
			return cliError(err)
		}
		sys := roster.SystemActor(t.ID)
		if id != nil {
			if err := svc.RevokeToken(ctx, sys, *id); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(stdout, "revoked token %d\n", *id)
			return nil
		}
		toks, err := svc.ListTokens(ctx, sys)
		if err != nil {
			return cliError(err)
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tMADE BY\tCREATED\tLAST USED\tEXPIRES\tSTATE")
		for _, tok := range toks {
			by := "service token"
			if !tok.Service {
				by = fmt.Sprintf("%s (user %d)", tok.CreatedByName, *tok.BoundUserID)
			}
			state := "active"
			switch {
			case tok.RevokedAt != nil:
				state = "revoked " + day(tok.RevokedAt)
			case tok.ExpiresAt != nil && !time.Now().Before(*tok.ExpiresAt):
				state = "expired"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", tok.ID, tok.Name, tok.Role, by, day(&tok.CreatedAt),
				day(tok.LastUsedAt), day(tok.ExpiresAt), state)
		}
		return w.Flush()
	})
}

// day writes a time as a UTC date and minute, "-" for none.
func day(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
