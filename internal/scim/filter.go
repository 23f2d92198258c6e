package scim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/roster-dev/roster/internal/roster"
)

// maxFilterLen bounds a filter's text before it is parsed.
const maxFilterLen = 2000

var subAfterValuePath = regexp.MustCompile(`^\s*([A-Za-z][\w:.-]*)\[([^\[\]]+)\]\.([A-Za-z]\w*)\s+((?i:eq|ne|co|sw|ew|gt|ge|lt|le)\s+.+?|(?i:pr))\s*$`)

// parseFilter parses a SCIM filter; any failure is invalidFilter.
func parseFilter(text string) (filter.Expression, error) {
	if len(text) > maxFilterLen {
		return nil, errInvalidFilter("the filter is longer than %d bytes", maxFilterLen)
	}
	e, err := filter.ParseFilter([]byte(text))
	if err != nil {
		// emails[type eq "work"].value eq "x" is outside RFC 7644's grammar
		// but is what Entra ID's documentation shows: it means
		// emails[type eq "work" and value eq "x"].
		if m := subAfterValuePath.FindStringSubmatch(text); m != nil && !strings.Contains(strings.ToLower(m[2]), " or ") {
			e, err = filter.ParseFilter([]byte(m[1] + "[" + m[2] + " and " + m[3] + " " + m[4] + "]"))
		}
	}
	if err != nil || e == nil {
		return nil, errInvalidFilter("the filter %q cannot be parsed (RFC 7644 §3.4.2.2)", text)
	}
	return e, nil
}

// userFilter translates a parsed filter into the core's filter on users.
func userFilter(e filter.Expression) (*roster.SCIMFilter, error) {
	return translate(e, "")
}

// never matches no user (ids start at 1).
func never() *roster.SCIMFilter {
	return &roster.SCIMFilter{Op: "eq", Field: roster.SCIMFieldID, Value: int64(0)}
}

func translate(e filter.Expression, parent string) (*roster.SCIMFilter, error) {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		l, err := translate(x.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := translate(x.Right, parent)
		if err != nil {
			return nil, err
		}
		return &roster.SCIMFilter{Op: string(x.Operator), Args: []*roster.SCIMFilter{l, r}}, nil
	case *filter.NotExpression:
		in, err := translate(x.Expression, parent)
		if err != nil {
			return nil, err
		}
		return &roster.SCIMFilter{Op: "not", Args: []*roster.SCIMFilter{in}}, nil
	case *filter.ValuePath:
		if parent != "" {
			return nil, errInvalidFilter("value filters cannot be nested")
		}
		name, err := attrName(x.AttributePath)
		if err != nil {
			return nil, err
		}
		return translate(x.ValueFilter, name)
	case *filter.AttributeExpression:
		return translateCompare(x, parent)
	}
	return nil, errInvalidFilter("unsupported filter expression")
}

// attrName is the lower-case name of a path's attribute, checking its schema URN.
func attrName(p filter.AttributePath) (string, error) {
	uri := p.URI()
	name := strings.ToLower(p.AttributeName)
	switch {
	case uri == "" || strings.EqualFold(uri, SchemaUser):
		return name, nil
	case strings.EqualFold(uri, SchemaRoster):
		return "roster:" + name, nil
	case strings.EqualFold(uri, SchemaEnterprise):
		return "enterprise:" + name, nil
	}
	return "", errInvalidFilter("unknown schema %q", uri)
}

func translateCompare(x *filter.AttributeExpression, parent string) (*roster.SCIMFilter, error) {
	name, err := attrName(x.AttributePath)
	if err != nil {
		return nil, err
	}
	sub := strings.ToLower(x.AttributePath.SubAttributeName())
	if parent != "" { // inside emails[...]: the name is the sub-attribute
		name, sub = parent, name
	}
	op := strings.ToLower(string(x.Operator))
	path := x.AttributePath.String()
	field := ""
	switch name + "." + sub {
	case "id.":
		field = roster.SCIMFieldID
	case "username.":
		field = roster.SCIMFieldUsername
	case "externalid.":
		field = roster.SCIMFieldExternalID
	case "emails.", "emails.value":
		field = roster.SCIMFieldEmail
	case "phonenumbers.", "phonenumbers.value":
		field = roster.SCIMFieldMobile
	case "displayname.", "name.formatted":
		field = roster.SCIMFieldName
	case "preferredlanguage.", "locale.":
		field = roster.SCIMFieldLanguage
	case "active.":
		field = roster.SCIMFieldActive
	case "meta.created":
		field = roster.SCIMFieldCreated
	case "meta.lastmodified":
		field = roster.SCIMFieldUpdated
	case "groups.", "groups.value", "roster:homegroup.":
		field = roster.SCIMFieldGroup
	case "roster:agentnumber.":
		field = roster.SCIMFieldAgentNumber
	case "roster:roles.":
		field = roster.SCIMFieldRole
	case "emails.type", "phonenumbers.type":
		// Roster keeps one work address and one mobile number.
		want := map[string]string{"emails": "work", "phonenumbers": "mobile"}[name]
		v, ok := x.CompareValue.(string)
		if op == "pr" || (op == "eq" && ok && strings.EqualFold(v, want)) {
			return presence(name), nil
		}
		if op == "ne" && ok && !strings.EqualFold(v, want) {
			return presence(name), nil
		}
		if op == "eq" || op == "ne" {
			return never(), nil
		}
		return nil, errInvalidFilter("%s supports eq, ne and pr", path)
	case "emails.primary", "phonenumbers.primary":
		if b, ok := x.CompareValue.(bool); (ok && b == (op == "eq")) || op == "pr" {
			return presence(name), nil
		}
		if b, ok := x.CompareValue.(bool); ok && b == (op == "ne") {
			return &roster.SCIMFilter{Op: "not", Args: []*roster.SCIMFilter{presence(name)}}, nil
		}
		return nil, errInvalidFilter("%s supports eq and ne with true or false, and pr", path)
	default:
		return nil, errInvalidFilter("%s cannot be filtered on; filterable: id, userName, externalId, emails.value, phoneNumbers.value, "+
			"displayName, name.formatted, preferredLanguage, locale, active, meta.created, meta.lastModified, groups.value, and the Roster "+
			"extension's homeGroup, agentNumber and roles", path)
	}
	f := &roster.SCIMFilter{Op: op, Field: field}
	if op == "pr" {
		return f, nil
	}
	v, err := compareValue(field, op, x.CompareValue, path)
	if err != nil {
		return nil, err
	}
	if v == nil { // an id that cannot exist
		return never(), nil
	}
	f.Value = v
	return f, nil
}

func presence(name string) *roster.SCIMFilter {
	field := roster.SCIMFieldEmail
	if name == "phonenumbers" {
		field = roster.SCIMFieldMobile
	}
	return &roster.SCIMFilter{Op: "pr", Field: field}
}

// compareValue checks and converts a compared value to the field's type.
func compareValue(field, op string, v any, path string) (any, error) {
	textOps := op == "co" || op == "sw" || op == "ew"
	switch field {
	case roster.SCIMFieldID, roster.SCIMFieldGroup, roster.SCIMFieldAgentNumber:
		if textOps {
			return nil, errInvalidFilter("%s is compared with eq, ne, gt, ge, lt, le or pr", path)
		}
		var n int64
		var err error
		switch x := v.(type) {
		case string:
			n, err = strconv.ParseInt(x, 10, 64)
			if err != nil && field != roster.SCIMFieldAgentNumber {
				if op == "eq" {
					return nil, nil // Roster ids are numbers: nothing matches
				}
				return nil, errInvalidFilter("%s: %q is not a Roster id", path, x)
			}
		case int:
			n = int64(x)
		case float64:
			n = int64(x)
			if float64(n) != x {
				err = fmt.Errorf("not whole")
			}
		case json.Number:
			n, err = x.Int64()
		default:
			err = fmt.Errorf("not a number")
		}
		if err != nil {
			return nil, errInvalidFilter("%s is compared with a whole number", path)
		}
		return n, nil
	case roster.SCIMFieldActive:
		b, ok := v.(bool)
		if !ok || (op != "eq" && op != "ne") {
			return nil, errInvalidFilter("%s is compared with eq or ne and true or false", path)
		}
		return b, nil
	case roster.SCIMFieldCreated, roster.SCIMFieldUpdated:
		s, ok := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil || textOps {
			return nil, errInvalidFilter("%s is compared (eq, ne, gt, ge, lt, le) with a date-time such as \"2026-12-03T10:00:00Z\"", path)
		}
		return t, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, errInvalidFilter("%s is compared with a string", path)
	}
	switch op {
	case "gt", "ge", "lt", "le":
		if field == roster.SCIMFieldRole {
			return nil, errInvalidFilter("%s is compared with eq, ne or pr", path)
		}
	case "co", "sw", "ew":
		if field == roster.SCIMFieldRole {
			return nil, errInvalidFilter("%s is compared with eq, ne or pr", path)
		}
		if s == "" {
			return nil, errInvalidFilter("%s %s needs a non-empty value", path, op)
		}
	}
	return s, nil
}

// matches evaluates a filter on a document in memory: groups (a tenant
// has few) and the elements a PATCH value path selects. Attribute names are
// case-insensitive; string values compare case-insensitively except ids.
func matches(e filter.Expression, doc map[string]any) bool {
	switch x := e.(type) {
	case *filter.LogicalExpression:
		if x.Operator == filter.AND {
			return matches(x.Left, doc) && matches(x.Right, doc)
		}
		return matches(x.Left, doc) || matches(x.Right, doc)
	case *filter.NotExpression:
		return !matches(x.Expression, doc)
	case *filter.ValuePath:
		for _, el := range elements(lookup(doc, x.AttributePath.AttributeName)) {
			if m, ok := el.(map[string]any); ok && matches(x.ValueFilter, m) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		v := lookup(doc, x.AttributePath.AttributeName)
		if sub := x.AttributePath.SubAttributeName(); sub != "" {
			var vals []any
			for _, el := range elements(v) {
				if m, ok := el.(map[string]any); ok {
					if sv := lookup(m, sub); sv != nil {
						vals = append(vals, sv)
					}
				}
			}
			v = vals
			if len(vals) == 0 {
				v = nil
			}
		}
		exact := strings.EqualFold(x.AttributePath.AttributeName, "id") || strings.EqualFold(x.AttributePath.AttributeName, "value")
		for _, el := range elements(v) {
			if compare(el, string(x.Operator), x.CompareValue, exact) {
				return true
			}
		}
		return v == nil && x.Operator == filter.NE
	}
	return false
}

func elements(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out
	}
	return []any{v}
}

// lookup finds a key case-insensitively.
func lookup(doc map[string]any, name string) any {
	if v, ok := doc[name]; ok {
		return v
	}
	for k, v := range doc {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func compare(have any, op string, want any, exact bool) bool {
	if op == "pr" {
		s, isStr := have.(string)
		return have != nil && (!isStr || s != "")
	}
	switch h := have.(type) {
	case bool:
		w, ok := want.(bool)
		if !ok {
			return false
		}
		return (op == "eq" && h == w) || (op == "ne" && h != w)
	case string:
		w, ok := want.(string)
		if !ok {
			if n, isNum := want.(int); isNum {
				w = strconv.Itoa(n)
			} else {
				return false
			}
		}
		if ht, err := time.Parse(time.RFC3339Nano, h); err == nil {
			if wt, err := time.Parse(time.RFC3339Nano, w); err == nil { // dates compare as instants
				c := ht.Compare(wt)
				return map[string]bool{"eq": c == 0, "ne": c != 0, "gt": c > 0, "ge": c >= 0, "lt": c < 0, "le": c <= 0}[op]
			}
		}
		if !exact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return h == w
		case "ne":
			return h != w
		case "co":
			return strings.Contains(h, w)
		case "sw":
			return strings.HasPrefix(h, w)
		case "ew":
			return strings.HasSuffix(h, w)
		case "gt":
			return h > w
		case "ge":
			return h >= w
		case "lt":
			return h < w
		case "le":
			return h <= w
		}
	}
	return false
}
