package roster

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Saved filters: the console's lists remember the filters each user saves
// ("Save filters" / "Reset to default", seed 004). They are the user's own
// preference, so any signed-in user may save theirs, but never while viewing
// as someone else.

// FilterLists names the lists whose filters can be saved, with the query
// parameters each one keeps.
var FilterLists = map[string][]string{
	"users": {"status", "role", "group", "scoring", "roaming", "sort", "order", "per_page"},
}

// SavedFilter returns the actor's saved filter of list as URL query
// parameters, "" when there is none (or the actor is not a user).
func (s *Service) SavedFilter(ctx context.Context, a *Actor, list string) (string, error) {
	if _, ok := FilterLists[list]; !ok {
		return "", Errorf(ENotFound, "no list %q", list)
	}
	if a.Kind != ActorUser {
		return "", nil
	}
	return s.store.Read().SavedFilter(ctx, a.TenantID, a.ID, list)
}

// SaveFilter stores the actor's filter of list. Unknown parameters are
// refused, so a saved filter is always one the list understands.
func (s *Service) SaveFilter(ctx context.Context, a *Actor, list, query string) (string, error) {
	keys, ok := FilterLists[list]
	if !ok {
		return "", Errorf(ENotFound, "no list %q", list)
	}
	if err := a.ownPreference(); err != nil {
		return "", err
	}
	var v Validation
	vals, err := url.ParseQuery(query)
	if err != nil || len(query) > 2000 {
		v.Add("filter", "is not a valid filter")
	}
	clean := url.Values{}
	for k, vs := range vals {
		if !slices.Contains(keys, k) {
			v.Add(k, "cannot be saved in the %s filter; use %s", list, strings.Join(keys, ", "))
			continue
		}
		if len(vs) > 0 && vs[0] != "" {
			clean.Set(k, vs[0])
		}
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	q := clean.Encode()
	err = s.inTx(ctx, func(tx Tx) error {
		if err := tx.SaveFilter(ctx, a.TenantID, a.ID, list, q, s.Now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "filter.save", "user", a.ID, nil, map[string]string{"list": list, "filter": q})
	})
	return q, err
}

// ResetFilter forgets the actor's saved filter of list.
func (s *Service) ResetFilter(ctx context.Context, a *Actor, list string) error {
	if _, ok := FilterLists[list]; !ok {
		return Errorf(ENotFound, "no list %q", list)
	}
	if err := a.ownPreference(); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := tx.DeleteSavedFilter(ctx, a.TenantID, a.ID, list); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "filter.reset", "user", a.ID, map[string]string{"list": list}, nil)
	})
}

// ownPreference allows a signed-in user to change their own settings, but
// not a token and not someone viewing as another user.
func (a *Actor) ownPreference() error {
	if a.ReadOnly {
		return Errorf(EForbidden, "viewing as another user is read-only")
	}
	if a.Kind != ActorUser {
		return Errorf(EForbidden, "only a signed-in user has saved filters")
	}
	return nil
}

// exportPageSize is how many rows an export reads per query.
const exportPageSize = 100

// ExportUsers calls each for every user of the list q selects, in its order,
// reading one page at a time through ListUsers (so the export is exactly
// what the list shows, scope included) and holding one page in memory.
// Paging fields of q are ignored: the export is the whole list.
func (s *Service) ExportUsers(ctx context.Context, a *Actor, q UserQuery, each func(*User) error) error {
	return exportPages(ctx, a, func(page int) (*Page[User], error) {
		q.Page, q.PerPage = strconv.Itoa(page), strconv.Itoa(exportPageSize)
		return s.ListUsers(ctx, a, q)
	}, each)
}

// InvitationOfUser returns the pending (possibly expired) invitation of an
// invited user, so the console can act on it from the user's row.
func (s *Service) InvitationOfUser(ctx context.Context, a *Actor, userID int64) (*Invitation, error) {
	if err := a.require(PermUsersInvite, PermUsersView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, userID)
	if err != nil {
		return nil, err
	}
	if err := s.userInScope(ctx, a, u, PermUsersInvite, PermUsersView); err != nil {
		return nil, err
	}
	inv, err := r.PendingInvitationOfUser(ctx, a.TenantID, userID)
	if err != nil {
		return nil, err
	}
	inv.Status = inv.EffectiveStatus(s.Now())
	return inv, nil
}

// ExportAudit calls each for every audit event f selects, newest first, one
// page at a time through ListAudit. Paging fields of f are ignored.
func (s *Service) ExportAudit(ctx context.Context, a *Actor, f AuditFilter, each func(*AuditEvent) error) error {
	return exportPages(ctx, a, func(page int) (*Page[AuditEvent], error) {
		f.Page, f.PerPage = page, exportPageSize
		return s.ListAudit(ctx, a, f)
	}, each)
}

// AgentIDsByID returns the agent IDs of ids the actor may see (unknown ones
// are left out), so the console can label agent IDs picked in a form.
func (s *Service) AgentIDsByID(ctx context.Context, a *Actor, ids []int64) ([]AgentID, error) {
	perms := []string{PermUsersView, PermUsersManage, PermTeamView}
	if err := a.require(perms...); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > 500 {
		return nil, badField("agent_ids", "at most 500 at once")
	}
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil {
		return nil, err
	}
	found, err := s.store.Read().AgentIDsByID(ctx, a.TenantID, ids)
	if err != nil {
		return nil, err
	}
	out := found[:0]
	for _, g := range found {
		if sf.agentVisible(&g) {
			out = append(out, g)
		}
	}
	return out, nil
}
