package roster

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Users list: its query (filters, sort, paging) as the doors give it.

// ListUsers returns one page of the tenant's users with the total.
func (s *Service) ListUsers(ctx context.Context, a *Actor, q UserQuery) (*Page[User], error) {
	if err := a.require(PermUsersView); err != nil {
		return nil, err
	}
	f, err := s.userFilter(ctx, a, q)
	if err != nil {
		return nil, err
	}
	if f.Scope, err = s.scopeOf(ctx, a, PermUsersView); err != nil {
		return nil, err
	}
	items, total, err := s.store.Read().ListUsers(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[User]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}

// UserQuery is a user list request as front doors receive it (strings).
type UserQuery struct {
	Status  string // comma-separated statuses
	Role    string // role key
	Group   string // group id: its subtree
	Q       string
	Sort    string
	Order   string
	Page    string
	PerPage string
	Scoring string // "true" or "false": the scoring-enabled flag
	Roaming string // "true" or "false": the roaming-agent flag
}

func (s *Service) userFilter(ctx context.Context, a *Actor, q UserQuery) (UserFilter, error) {
	var v Validation
	f := UserFilter{Sort: "name"}
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	if q.Status != "" {
		for _, st := range strings.Split(q.Status, ",") {
			st = strings.TrimSpace(st)
			if st != StatusInvited && st != StatusActive && st != StatusDeactivated {
				v.Add("status", "%q is not a status; use invited, active or deactivated", st)
				continue
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	if q.Sort != "" {
		if !slices.Contains(UserSortKeys, q.Sort) {
			v.Add("sort", "cannot sort by %q; use one of %s", q.Sort, strings.Join(UserSortKeys, ", "))
		}
		f.Sort = q.Sort
	}
	f.Desc = parseOrder(&v, q.Order)
	f.Query = strings.TrimSpace(q.Q)
	f.Scoring = parseFlag(&v, "scoring", q.Scoring)
	f.Roaming = parseFlag(&v, "roaming", q.Roaming)
	if len(f.Query) > 100 {
		v.Add("q", "must be at most 100 characters")
	}
	if strings.ContainsFunc(f.Query, unicode.IsControl) || !utf8.ValidString(f.Query) {
		v.Add("q", "must be text without control characters")
	} else if len(f.Query) <= 100 {
		f.Exact = exactTerm(f.Query)
	}
	if q.Role != "" {
		roles, err := s.store.Read().ListRoles(ctx, a.TenantID)
		if err != nil {
			return f, err
		}
		for _, r := range roles {
			if r.Key == q.Role {
				f.RoleID = r.ID
			}
		}
		if f.RoleID == 0 {
			v.Add("role", "no role with the key %q", q.Role)
		}
	}
	if q.Group != "" {
		gid, err := strconv.ParseInt(q.Group, 10, 64)
		if err != nil {
			v.Add("group", "must be a group id")
		} else {
			tree, err := loadTree(ctx, s.store.Read(), a.TenantID)
			if err != nil {
				return f, err
			}
			if _, ok := tree.byID[gid]; !ok {
				v.Add("group", "no group with id %d", gid)
			} else {
				f.GroupIDs = tree.subtree(gid)
			}
		}
	}
	return f, v.Err()
}

// ParsePaging reads page and per_page with their defaults (1 and 25).
func ParsePaging(v *Validation, page, perPage string) (int, int) {
	p, pp := 1, 25
	if page != "" {
		n, err := strconv.Atoi(page)
		if p = n; err != nil || p < 1 || p > 1_000_000 {
			v.Add("page", "must be a whole number from 1")
			p = 1
		}
	}
	if perPage != "" {
		n, err := strconv.Atoi(perPage)
		if pp = n; err != nil || !slices.Contains(PerPageChoices, pp) {
			v.Add("per_page", "must be 10, 25, 50 or 100")
			pp = 25
		}
	}
	return p, pp
}

// parseFlag reads an optional true/false filter.
func parseFlag(v *Validation, field, s string) *bool {
	switch s {
	case "":
		return nil
	case "true":
		t := true
		return &t
	case "false":
		f := false
		return &f
	}
	v.Add(field, "must be true or false")
	return nil
}

func parseOrder(v *Validation, order string) bool {
	switch order {
	case "", "asc":
		return false
	case "desc":
		return true
	}
	v.Add("order", "must be asc or desc")
	return false
}
