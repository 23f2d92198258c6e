package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// Every route named in queries is in the route table, and every GET route
// whose answer is a list declares itself a list there.
func TestQueriesMatchRoutes(t *testing.T) {
	routes := New(nil, slog.New(slog.DiscardHandler)).Routes()
	for pattern := range queries {
		if !slices.Contains(routes, pattern) {
			t.Errorf("queries names %s, which is not in the route table", pattern)
		}
	}
}

func fieldsOf(t *testing.T, body []byte) []string {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem: %s", body)
	}
	var out []string
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// Every list refuses unknown parameters, sort keys, orders and page sizes,
// naming them, and answers a page with its Link header.
func TestListConventions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		at := newAccessTenant(t, svc, url, "acme")
		admin := at.tokens["admin"]
		for pattern, q := range queries {
			if !q.list {
				continue
			}
			path := url + at.pathFor(strings.TrimPrefix(pattern, "GET "))
			resp, body := exchange(t, "GET", path+"?colour=red&page=1", admin, nil)
			if resp.StatusCode != 400 || !slices.Equal(fieldsOf(t, body), []string{"colour"}) || !strings.Contains(string(body), "colour") {
				t.Errorf("%s?colour=red: %d %s", pattern, resp.StatusCode, body)
			}
			resp, body = exchange(t, "GET", path+"?sort=no_such_key&order=sideways&per_page=7", admin, nil)
			if f := fieldsOf(t, body); resp.StatusCode != 400 || !slices.Contains(f, "sort") || !slices.Contains(f, "order") {
				t.Errorf("%s?sort=no_such_key&order=sideways: %d %s", pattern, resp.StatusCode, body)
			}
			if resp, body = exchange(t, "GET", path+"?per_page=7", admin, nil); resp.StatusCode != 400 || !slices.Contains(fieldsOf(t, body), "per_page") {
				t.Errorf("%s?per_page=7: %d %s", pattern, resp.StatusCode, body)
			}
			query := fmt.Sprintf("?page=1&per_page=10&sort=%s&order=%s", q.sorts[0], q.orders[0])
			resp, body = exchange(t, "GET", path+query, admin, nil)
			var page pageMeta
			link := resp.Header.Get("Link")
			if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil || page.PerPage != 10 || page.Page != 1 ||
				!strings.Contains(link, `rel="first"`) || !strings.Contains(link, `rel="last"`) {
				t.Errorf("%s%s: %d Link %q %s", pattern, query, resp.StatusCode, link, body)
			}
		}
		if resp, body := exchange(t, "GET", url+"/api/v1/users/"+at.ids["user"]+"?expand=all", admin, nil); resp.StatusCode != 400 ||
			!slices.Equal(fieldsOf(t, body), []string{"expand"}) {
			t.Errorf("a single user with a query parameter: %d %s", resp.StatusCode, body)
		}

		// The catalogue lists page and sort: 13 groups, ten a page.
		for i := range 11 {
			at.create("/api/v1/groups", map[string]any{"name": fmt.Sprintf("G%02d", i), "parent_id": 1}, "id")
		}
		resp, body := exchange(t, "GET", url+"/api/v1/groups?per_page=10&page=2&sort=name&order=desc", admin, nil)
		var groups struct {
			Items []struct{ Name string }
			Total int
		}
		if err := json.Unmarshal(body, &groups); err != nil || resp.StatusCode != 200 || groups.Total != 13 || len(groups.Items) != 3 {
			t.Fatalf("groups page 2: %d %s", resp.StatusCode, body)
		}
		if groups.Items[0].Name != "G02" || groups.Items[2].Name != "G00" { // after "Tenant zqacme", "Team zqacme", G10 ... G03
			t.Errorf("groups by name, descending, page 2 = %v", groups.Items)
		}
		link := resp.Header.Get("Link")
		for _, want := range []string{`page=1&per_page=10&sort=name>; rel="first"`, `page=1&per_page=10&sort=name>; rel="prev"`, `page=2&per_page=10&sort=name>; rel="last"`} {
			if !strings.Contains(link, want) {
				t.Errorf("Link %q lacks %q", link, want)
			}
		}
		if strings.Contains(link, `rel="next"`) {
			t.Errorf("the last page links a next one: %q", link)
		}
	})
}
