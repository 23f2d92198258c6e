package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/roster-dev/roster/internal/roster"
)

// tenantCommand runs `roster tenant list|show|set`, as the platform operator.
func tenantCommand(ctx context.Context, cmd string, fs *flag.FlagSet, cfgp *Config, args []string, stdout, stderr io.Writer) error {
	var slug, name, branding, languages, defaultLang *string
	var expiry, minPassword, depth *int
	if cmd != "tenant list" {
		slug = fs.String("slug", "", "tenant slug (required)")
	}
	if cmd == "tenant set" {
		name = fs.String("name", "", "a new display name")
		branding = fs.String("branding-name", "", "name shown in the console and in emails")
		languages = fs.String("languages", "", "languages offered, comma-separated (e.g. en,de,nb)")
		defaultLang = fs.String("default-language", "", "language of new users when none is given")
		expiry = fs.Int("invitation-expiry-days", 0, "days an invitation link works (1-90)")
		minPassword = fs.Int("password-min-length", 0, "shortest password allowed (8-128)")
		depth = fs.Int("group-depth", 0, "levels of the group tree (1-5)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageErr(err)
	}
	cfg := *cfgp // as parsed: --db and --data are bound to *cfgp
	if slug != nil && *slug == "" {
		return usageError{fmt.Errorf("--slug is required")}
	}
	return withService(ctx, cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		if cmd == "tenant list" {
			all, err := svc.ListTenants(ctx, roster.SystemActor(0))
			if err != nil {
				return cliError(err)
			}
			w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSLUG\tNAME\tLANGUAGES\tCREATED")
			for _, t := range all {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Slug, t.Name, strings.Join(t.Settings.Languages, ","), day(&t.CreatedAt))
			}
			return w.Flush()
		}
		t, err := svc.TenantBySlug(ctx, *slug)
		if err != nil {
			return cliError(err)
		}
		if cmd == "tenant set" {
			var in roster.TenantInput
			fs.Visit(func(f *flag.Flag) {
				switch f.Name {
				case "name":
					in.Name = roster.Some(*name)
				case "branding-name":
					in.Settings.BrandingName = roster.Some(*branding)
				case "languages":
					in.Settings.Languages = roster.Some(strings.Split(*languages, ","))
				case "default-language":
					in.Settings.DefaultLanguage = roster.Some(*defaultLang)
				case "invitation-expiry-days":
					in.Settings.InvitationExpiryDays = roster.Some(*expiry)
				case "password-min-length":
					in.Settings.MinPasswordLength = roster.Some(*minPassword)
				case "group-depth":
					in.Settings.GroupDepth = roster.Some(*depth)
				}
			})
			if t, err = svc.UpdateTenant(ctx, roster.SystemActor(t.ID), in); err != nil {
				return cliError(err)
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	})
}
