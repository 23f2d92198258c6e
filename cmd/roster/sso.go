package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/roster-dev/roster/internal/roster"
)

// ssoCommand runs `roster sso list --tenant S`, as the platform operator:
// the tenant's identity providers with the redirect URI to give the IdP
// (never a client secret). cfg is the one fs fills, so it is read after
// the parse.
func ssoCommand(ctx context.Context, fs *flag.FlagSet, cfg *Config, args []string, stdout, stderr io.Writer) error {
	tenant := fs.String("tenant", "", "tenant slug (required)")
	cfg.publicURLFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("--tenant is required")
	}
	return withService(ctx, *cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		t, err := svc.TenantBySlug(ctx, *tenant)
		if err != nil {
			return cliError(err)
		}
		ps, err := svc.ListSSOProviders(ctx, roster.SystemActor(t.ID))
		if err != nil {
			return cliError(err)
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tKIND\tNAME\tISSUER\tCLIENT ID\tSECRET\tMATCH\tJIT\tSTATE\tREDIRECT URI")
		for _, p := range ps {
			secret, jit, state := "none", "no", "enabled"
			if p.ClientSecretSet {
				secret = "set"
			}
			if p.JIT {
				jit = p.DefaultRole
			}
			if !p.Enabled {
				state = "disabled"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Kind, p.Name, p.Issuer, p.ClientID, secret,
				p.MatchClaim, jit, state, p.RedirectURI)
		}
		return w.Flush()
	})
}
