package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/roster-dev/roster/internal/roster"
)

// scimCommand: roster scim defaults --tenant S [--group ID] [--role KEY]
// [--group-parent ID] [--language L] sets what a SCIM create that leaves
// them out gets (docs/scim.md) and prints the defaults in force.
func scimCommand(ctx context.Context, cfg *Config, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[1] != "defaults" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf(`unknown command; use "roster scim defaults"`)
	}
	tenant := fs.String("tenant", "", "tenant slug (required)")
	group := fs.Int64("group", -1, "home group id of users created over SCIM without one (0: the first level-1 group)")
	role := fs.String("role", "\x00", "role key of users created over SCIM without roles (empty: user)")
	parent := fs.Int64("group-parent", -1, "parent group id of groups created over SCIM (0: the first level-1 group)")
	language := fs.String("language", "\x00", "language of users created over SCIM without one (empty: the tenant's first)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	return withService(ctx, *cfg, stderr, func(svc *roster.Service, _ *slog.Logger) error {
		t, err := svc.TenantBySlug(ctx, *tenant)
		if err != nil {
			return cliError(err)
		}
		a := roster.SystemActor(t.ID)
		cur, err := svc.SCIMSettings(ctx, a)
		if err != nil {
			return err
		}
		next := cur
		if *group >= 0 {
			next.DefaultGroup = *group
		}
		if *role != "\x00" {
			next.DefaultRole = *role
		}
		if *parent >= 0 {
			next.GroupParent = *parent
		}
		if *language != "\x00" {
			next.Language = *language
		}
		if next != cur {
			if err := svc.SetSCIMSettings(ctx, a, next); err != nil {
				return cliError(err)
			}
		}
		d, err := svc.SCIMDefaults(ctx, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "home group %d, role %s, language %s, parent of new groups %d\n", d.DefaultGroup, d.DefaultRole, d.Language, d.GroupParent)
		return nil
	})
}
