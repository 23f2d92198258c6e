package scim

import (
	"net/http"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/roster-dev/roster/internal/roster"
)

// listParams are a query's parameters (RFC 7644 §3.4.2), from the URL or
// from a POST .search body.
type listParams struct {
	filter     filter.Expression
	filterText string
	sortBy     string
	desc       bool
	startIndex int // 1-based
	count      int
	attributes []string
	excluded   []string
}

// defaultCount is the page size when the client names none.
const defaultCount = 100

func paramsFromQuery(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	get := func(k string) string { // parameter names are case-insensitive
		for name, v := range q {
			if strings.EqualFold(name, k) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return makeParams(get("filter"), get("sortBy"), get("sortOrder"), get("startIndex"), get("count"),
		split(get("attributes")), split(get("excludedAttributes")))
}

func paramsFromSearch(body map[string]any) (listParams, error) {
	schemas, _ := body["schemas"].([]any)
	ok := false
	for _, s := range schemas {
		if str, _ := s.(string); strings.EqualFold(str, schemaSearch) {
			ok = true
		}
	}
	if !ok {
		return listParams{}, errInvalidSyntax("a .search body names the schema " + schemaSearch)
	}
	text := func(k string) (string, error) {
		switch v := lookup(body, k).(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		default:
			if n, err := getInt(v, k); err == nil {
				return strconv.FormatInt(n, 10), nil
			}
			return "", errInvalidValue("%s must be a string", k)
		}
	}
	list := func(k string) ([]string, error) {
		raw, _ := lookup(body, k).([]any)
		var out []string
		for _, el := range raw {
			s, ok := el.(string)
			if !ok {
				return nil, errInvalidValue("%s must be a list of strings", k)
			}
			out = append(out, s)
		}
		return out, nil
	}
	var vals [5]string
	for i, k := range []string{"filter", "sortBy", "sortOrder", "startIndex", "count"} {
		v, err := text(k)
		if err != nil {
			return listParams{}, err
		}
		vals[i] = v
	}
	attrs, err := list("attributes")
	if err != nil {
		return listParams{}, err
	}
	excl, err := list("excludedAttributes")
	if err != nil {
		return listParams{}, err
	}
	return makeParams(vals[0], vals[1], vals[2], vals[3], vals[4], attrs, excl)
}

func makeParams(filterText, sortBy, sortOrder, startIndex, count string, attrs, excl []string) (listParams, error) {
	p := listParams{filterText: filterText, sortBy: sortBy, startIndex: 1, count: defaultCount, attributes: attrs, excluded: excl}
	if filterText != "" {
		e, err := parseFilter(filterText)
		if err != nil {
			return p, err
		}
		p.filter = e
	}
	switch strings.ToLower(sortOrder) {
	case "", "ascending":
	case "descending":
		p.desc = true
	default:
		return p, errInvalidValue("sortOrder must be ascending or descending")
	}
	// Out-of-range numbers are taken as the nearest allowed (RFC 7644 §3.4.2.4).
	if startIndex != "" {
		n, err := strconv.Atoi(startIndex)
		if err != nil {
			return p, errInvalidValue("startIndex must be a whole number")
		}
		p.startIndex = max(n, 1)
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errInvalidValue("count must be a whole number")
		}
		p.count = min(max(n, 0), roster.SCIMMaxResults)
	}
	if len(attrs) > 50 || len(excl) > 50 {
		return p, errInvalidValue("at most 50 attributes and 50 excludedAttributes")
	}
	return p, nil
}

// userSortField maps sortBy to the core's field; "" keeps id order.
func userSortField(sortBy string) (string, error) {
	key := strings.ToLower(sortBy)
	key = strings.TrimPrefix(key, strings.ToLower(SchemaUser)+":")
	switch key {
	case "", "id", "meta.created":
		return "", nil
	case "username":
		return roster.SCIMFieldUsername, nil
	case "displayname", "name.formatted":
		return roster.SCIMFieldName, nil
	case "emails", "emails.value":
		return roster.SCIMFieldEmail, nil
	case "externalid":
		return roster.SCIMFieldExternalID, nil
	case "meta.lastmodified":
		return roster.SCIMFieldUpdated, nil
	}
	return "", errInvalidValue("sortBy %q is not supported; sort by id, userName, displayName, name.formatted, emails.value, externalId, meta.created or meta.lastModified", sortBy)
}

// project applies attributes / excludedAttributes (RFC 7644 §3.9) to a
// document; id and schemas are always returned.
func project(doc map[string]any, attrs, excluded []string) map[string]any {
	if len(attrs) == 0 && len(excluded) == 0 {
		return doc
	}
	if len(attrs) > 0 {
		out := map[string]any{"id": doc["id"], "schemas": doc["schemas"]}
		for _, a := range attrs {
			copyPath(doc, out, a)
		}
		return out
	}
	for _, a := range excluded {
		removePath(doc, a)
	}
	return doc
}

// splitPath reads "urn:...:attr.sub" into the object key holding it ("" for
// the document itself), the attribute and the sub-attribute.
func splitPath(doc map[string]any, path string) (ext, name, sub string) {
	for k := range doc {
		if strings.HasPrefix(k, "urn:") && len(path) > len(k) && strings.EqualFold(path[:len(k)+1], k+":") {
			ext, path = k, path[len(k)+1:]
			break
		}
		if strings.HasPrefix(k, "urn:") && strings.EqualFold(path, k) {
			return "", k, ""
		}
	}
	if strings.HasPrefix(strings.ToLower(path), strings.ToLower(SchemaUser)+":") || strings.HasPrefix(strings.ToLower(path), strings.ToLower(SchemaGroup)+":") {
		path = path[strings.LastIndex(path, ":")+1:]
	}
	name, sub, _ = strings.Cut(path, ".")
	return ext, name, sub
}

func keyOf(m map[string]any, name string) (string, bool) {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

func copyPath(from, to map[string]any, path string) {
	ext, name, sub := splitPath(from, path)
	src, dst := from, to
	if ext != "" {
		m, _ := from[ext].(map[string]any)
		if m == nil {
			return
		}
		src = m
		d, _ := to[ext].(map[string]any)
		if d == nil {
			d = map[string]any{}
			to[ext] = d
		}
		dst = d
	}
	k, ok := keyOf(src, name)
	if !ok {
		return
	}
	if sub == "" {
		dst[k] = src[k]
		return
	}
	switch v := src[k].(type) {
	case map[string]any:
		d, _ := dst[k].(map[string]any)
		if d == nil {
			d = map[string]any{}
		}
		if sk, ok := keyOf(v, sub); ok {
			d[sk] = v[sk]
		}
		dst[k] = d
	case []any:
		var out []any
		for i, el := range v {
			m, _ := el.(map[string]any)
			var d map[string]any
			if have, _ := dst[k].([]any); i < len(have) {
				d, _ = have[i].(map[string]any)
			}
			if d == nil {
				d = map[string]any{}
			}
			if sk, ok := keyOf(m, sub); ok {
				d[sk] = m[sk]
			}
			out = append(out, d)
		}
		dst[k] = out
	}
}

func removePath(doc map[string]any, path string) {
	ext, name, sub := splitPath(doc, path)
	m := doc
	if ext != "" {
		m, _ = doc[ext].(map[string]any)
		if m == nil {
			return
		}
	}
	k, ok := keyOf(m, name)
	if !ok || ((k == "id" || k == "schemas") && ext == "") {
		return
	}
	if sub == "" {
		delete(m, k)
		return
	}
	switch v := m[k].(type) {
	case map[string]any:
		if sk, ok := keyOf(v, sub); ok {
			delete(v, sk)
		}
	case []any:
		for _, el := range v {
			if em, ok := el.(map[string]any); ok {
				if sk, ok := keyOf(em, sub); ok {
					delete(em, sk)
				}
			}
		}
	}
}
