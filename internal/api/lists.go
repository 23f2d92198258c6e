package api

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Query parameters and lists. Every route declares the query parameters it
// reads (queries); anything else is answered 400 naming it, before the
// handler runs, so a misspelt filter never silently returns everything.
// Lists also take page, per_page (10, 25, 50, 100), sort and order; their
// sort keys and orders are declared here too, and unknown ones refused. A
// list answer carries Link (first, prev, next, last) next to its totals.

// listParams are the query parameters every list takes.
var listParams = []string{"page", "per_page", "sort", "order"}

// bothOrders: a list that can be read either way.
var bothOrders = []string{"asc", "desc"}

// query is what one route reads from its query string.
type query struct {
	params []string // filters besides listParams
	list   bool     // takes listParams
	sorts  []string // sort keys; empty: the list's own order only
	orders []string // orders it takes (asc, desc)
}

// queries: every route that reads a query string. A route not listed takes
// none.
var queries = map[string]query{
	"GET /api/v1/users": {list: true, params: []string{"status", "role", "group", "q", "scoring_enabled", "scoring", "roaming"},
		sorts: roster.UserSortKeys, orders: bothOrders},
	"GET /api/v1/groups":               {list: true, sorts: []string{"name", "level", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/roles":                {list: true, sorts: []string{"name", "key", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/tokens":               {list: true, sorts: []string{"name", "created_at", "last_used_at", "expires_at"}, orders: bothOrders},
	"GET /api/v1/properties":           {list: true, sorts: []string{"key", "label", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/skills":               {list: true, sorts: []string{"name", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/groups/{id}/profiles": {list: true, sorts: []string{"name", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/audit": {list: true, params: []string{"actor", "action", "target", "from", "to"},
		sorts: []string{"at"}, orders: []string{"desc"}},
	"GET /api/v1/invitations":  {list: true, params: []string{"status"}, sorts: []string{"created_at"}, orders: []string{"desc"}},
	"GET /api/v1/outbox":       {list: true, params: []string{"status", "channel"}, sorts: []string{"created_at"}, orders: []string{"desc"}},
	"GET /api/v1/interactions": {list: true, params: []string{"agent_id", "group", "from", "to"}, sorts: []string{"started_at"}, orders: bothOrders},
	"GET /api/v1/agents": {list: true, params: []string{"q", "assigned", "source", "user_id"},
		sorts: roster.AgentSortKeys, orders: bothOrders},
	"GET /api/v1/coaching-plans": {list: true, params: []string{"agent_user_id", "status"},
		sorts: []string{"created_at", "updated_at", "due_date"}, orders: bothOrders},
	"GET /api/v1/my-team":                  {list: true, params: []string{"from", "to"}, sorts: []string{"name"}, orders: []string{"asc"}},
	"GET /api/v1/authz/scope":              {params: []string{"user_id", "permission"}},
	"POST /api/v1/users/import":            {params: []string{"dry_run", "mode", "invite", "delimiter"}},
	"GET /api/v1/webhooks":                 {list: true, sorts: []string{"url", "description", "created_at", "updated_at"}, orders: bothOrders},
	"GET /api/v1/webhooks/{id}/deliveries": {list: true, sorts: []string{"created_at"}, orders: []string{"desc"}},
}

// checkQuery refuses query parameters, sort keys and orders the route does
// not take, naming each.
func (s *Server) checkQuery(pattern string, h handlerFunc) handlerFunc {
	q := queries[pattern]
	return func(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
		if r.URL.RawQuery == "" {
			h(w, r, a)
			return
		}
		values, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			s.error(w, r, roster.Errorf(roster.EInvalid, "the query string cannot be read: %v", err))
			return
		}
		var v roster.Validation
		names := make([]string, 0, len(values))
		for name := range values {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			known := slices.Contains(q.params, name) || q.list && slices.Contains(listParams, name)
			if !known {
				takes := "no query parameters"
				if all := append(slices.Clone(q.params), map[bool][]string{true: listParams}[q.list]...); len(all) > 0 {
					takes = "only " + strings.Join(all, ", ")
				}
				v.Add(name, "is not a query parameter of %s (it takes %s)", pattern, takes)
			}
		}
		if sort := values.Get("sort"); q.list && sort != "" && !slices.Contains(q.sorts, sort) {
			v.Add("sort", "cannot sort by %q; use %s", sort, strings.Join(q.sorts, ", "))
		}
		if order := values.Get("order"); q.list && order != "" && !slices.Contains(q.orders, order) {
			if len(q.orders) == 1 {
				v.Add("order", "must be %s: this list comes in that order only", q.orders[0])
			} else {
				v.Add("order", "must be asc or desc")
			}
		}
		if err := v.Err(); err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r, a)
	}
}

// pageMeta is what Link headers need of a page.
type pageMeta struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

// writeList renders a page of a list (any value with total, page and
// per_page) with its Link header.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, page any) {
	body, err := json.Marshal(page)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var m pageMeta
	if p, ok := page.(interface {
		Paging() (total, page, perPage int)
	}); ok {
		m.Total, m.Page, m.PerPage = p.Paging() // a page of the core: no second pass over the body
	} else if json.Unmarshal(body, &m) != nil {
		m = pageMeta{}
	}
	if m.PerPage > 0 {
		if link := linkHeader(r.URL, m); link != "" {
			w.Header().Set("Link", link)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// linkHeader is the RFC 8288 Link header of a page: first, prev, next and
// last, each the request's own URL with another page.
func linkHeader(u *url.URL, m pageMeta) string {
	last := max(1, (m.Total+m.PerPage-1)/m.PerPage)
	at := func(p int) string {
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(m.PerPage))
		return "<" + u.Path + "?" + q.Encode() + ">"
	}
	links := []string{at(1) + `; rel="first"`}
	if m.Page > 1 {
		links = append(links, at(min(m.Page-1, last))+`; rel="prev"`)
	}
	if m.Page < last {
		links = append(links, at(m.Page+1)+`; rel="next"`)
	}
	links = append(links, at(last)+`; rel="last"`)
	return strings.Join(links, ", ")
}

// sortKeys: how a whole list the core returns is sorted by each key the
// API offers for it.
type sortKeys[T any] map[string]func(a, b T) int

// pageWhole sorts and pages a whole list the core returned (the catalogue
// lists: groups, roles, tokens, properties, skills, profiles). Without
// sort, the core's own order stays.
func pageWhole[T any](r *http.Request, items []T, keys sortKeys[T]) (*roster.Page[T], error) {
	q := r.URL.Query()
	var v roster.Validation
	page, perPage := roster.ParsePaging(&v, q.Get("page"), q.Get("per_page"))
	if err := v.Err(); err != nil {
		return nil, err
	}
	if by := keys[q.Get("sort")]; by != nil {
		items = slices.Clone(items)
		slices.SortStableFunc(items, by)
		if q.Get("order") == "desc" {
			slices.Reverse(items)
		}
	}
	from := min(len(items), (page-1)*perPage)
	to := min(len(items), from+perPage)
	return &roster.Page[T]{Items: slices.Clip(items[from:to]), Total: len(items), Page: page, PerPage: perPage}, nil
}

// byText and friends build sort functions; ties keep the core's order.
func byText[T any](f func(T) string) func(a, b T) int {
	return func(a, b T) int { return cmp.Compare(strings.ToLower(f(a)), strings.ToLower(f(b))) }
}

func byInt[T any](f func(T) int64) func(a, b T) int {
	return func(a, b T) int { return cmp.Compare(f(a), f(b)) }
}

// writeWhole pages and sorts a whole list (pageWhole) and renders it.
func writeWhole[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T, keys sortKeys[T]) {
	page, err := pageWhole(r, items, keys)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}
