package roster

import (
	"context"
	"strconv"
)

// Whole lists for CSV downloads (GET of a list with Accept: text/csv): each
// needs the list's own permission and export.csv, and walks the list a
// page at a time, so memory stays one page.

// exportPages calls each for every row of a list, reading it a page of
// exportPageSize at a time through list (the list's own use case, so the
// export is exactly what the list shows, scope included), holding one page
// in memory. It needs export.csv on top of what the list needs.
func exportPages[T any](ctx context.Context, a *Actor, list func(page int) (*Page[T], error), each func(*T) error) error {
	if err := a.require(PermExportCSV); err != nil {
		return err
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := list(page)
		if err != nil {
			return err
		}
		for i := range p.Items {
			if err := each(&p.Items[i]); err != nil {
				return err
			}
		}
		if len(p.Items) < p.PerPage || page*p.PerPage >= p.Total {
			return nil
		}
	}
}

// ExportAgents calls each for every agent ID the list q selects.
func (s *Service) ExportAgents(ctx context.Context, a *Actor, q AgentQuery, each func(*AgentID) error) error {
	return exportPages(ctx, a, func(page int) (*Page[AgentID], error) {
		q.Page, q.PerPage = strconv.Itoa(page), strconv.Itoa(exportPageSize)
		return s.ListAgents(ctx, a, q)
	}, each)
}

// ExportInvitations calls each for every invitation the list q selects.
func (s *Service) ExportInvitations(ctx context.Context, a *Actor, q InvitationQuery, each func(*Invitation) error) error {
	return exportPages(ctx, a, func(page int) (*Page[Invitation], error) {
		q.Page, q.PerPage = strconv.Itoa(page), strconv.Itoa(exportPageSize)
		return s.ListInvitations(ctx, a, q)
	}, each)
}

// ExportGroups returns the groups the actor may list, for a download.
func (s *Service) ExportGroups(ctx context.Context, a *Actor) ([]Group, error) {
	if err := a.require(PermExportCSV); err != nil {
		return nil, err
	}
	return s.ListGroups(ctx, a)
}

// GroupPaths names groups by their path of names from level 1 (or their
// id where a name holds a '/'), as the users CSV does.
func GroupPaths(groups []Group) func(id int64) string {
	t := newTree(groups)
	return t.ref
}
