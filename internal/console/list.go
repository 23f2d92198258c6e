package console

import (
	"net/url"
	"slices"
	"strconv"
)

// listView builds the links of a sortable, paged list from the current
// query, so every link keeps the other parameters (filters, search, tab).
type listView struct {
	Path  string
	Query url.Values
}

func newListView(path string, q url.Values) listView {
	c := url.Values{}
	for k, v := range q {
		if len(v) > 0 && v[0] != "" {
			c[k] = []string{v[0]}
		}
	}
	return listView{Path: path, Query: c}
}

// with returns the current address with some parameters replaced; an empty
// value removes the parameter.
func (l listView) with(kv ...string) string {
	q := url.Values{}
	for k, v := range l.Query {
		q[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return l.Path
	}
	return l.Path + "?" + q.Encode()
}

// sortHeader is one sortable column heading.
type sortHeader struct {
	Label, Href  string
	Active, Desc bool
}

// Sort returns the heading of column key: clicking it sorts by the column,
// clicking again reverses the order; the page starts over at 1.
func (l listView) Sort(key, label, defaultKey string) sortHeader {
	cur := l.Query.Get("sort")
	if cur == "" {
		cur = defaultKey
	}
	desc := l.Query.Get("order") == "desc"
	h := sortHeader{Label: label, Active: cur == key, Desc: desc}
	order := "asc"
	if h.Active && !desc {
		order = "desc"
	}
	h.Href = l.with("sort", key, "order", order, "page", "")
	return h
}

type hiddenField struct{ Name, Value string }

// pager is the page-size choice and the first/previous/next/last links.
type pager struct {
	Path                    string
	Hidden                  []hiddenField
	PerPageChoices          []int
	Page, PerPage, Total    int
	Pages, From, To         int
	HasPrev, HasNext        bool
	First, Prev, Next, Last string
}

// perPageChoices are the sizes the console offers (seed 004: 10, 25 or 50).
var perPageChoices = []int{10, 25, 50}

func (l listView) Pager(page, perPage, total int) pager {
	p := pager{Path: l.Path, PerPageChoices: perPageChoices, Page: page, PerPage: perPage, Total: total}
	p.Pages = (total + perPage - 1) / perPage
	if p.Pages < 1 {
		p.Pages = 1
	}
	if total > 0 {
		p.From = (page-1)*perPage + 1
		p.To = min(page*perPage, total)
	}
	p.HasPrev, p.HasNext = page > 1, page < p.Pages
	p.First = l.with("page", "")
	p.Prev = l.with("page", pageParam(page-1))
	p.Next = l.with("page", strconv.Itoa(page+1))
	p.Last = l.with("page", pageParam(p.Pages))
	keys := make([]string, 0, len(l.Query))
	for k := range l.Query {
		if k != "per_page" && k != "page" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p.Hidden = append(p.Hidden, hiddenField{k, l.Query.Get(k)})
	}
	return p
}

// pageParam leaves page 1 out of links, so the first page has one address.
func pageParam(n int) string {
	if n <= 1 {
		return ""
	}
	return strconv.Itoa(n)
}
