package scim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// userContext is what rendering users needs besides the users: group names,
// agent ID keys, the tenant's name and languages, the base URL.
type userContext struct {
	base      string
	tenant    string
	languages []string
	groups    map[int64]string
	agentKeys map[int64]string
}

// timeText renders a dateTime with milliseconds, the precision Roster keeps.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func idText(id int64) string { return strconv.FormatInt(id, 10) }

// renderUser is the SCIM representation of a user.
func renderUser(u *roster.SCIMUser, c *userContext) map[string]any {
	given, family, _ := strings.Cut(u.Name, " ")
	doc := map[string]any{
		"schemas":           []any{SchemaUser, SchemaEnterprise, SchemaRoster},
		"id":                idText(u.ID),
		"userName":          u.Username,
		"name":              map[string]any{"formatted": u.Name, "givenName": given, "familyName": family},
		"displayName":       u.Name,
		"preferredLanguage": u.Language,
		"locale":            u.Language,
		"active":            u.Status != roster.StatusDeactivated,
		"emails":            []any{},
		"phoneNumbers":      []any{},
	}
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	if u.Email != "" {
		doc["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	if u.Mobile != "" {
		doc["phoneNumbers"] = []any{map[string]any{"value": u.Mobile, "type": "mobile", "primary": true}}
	}
	doc["groups"] = []any{map[string]any{"value": idText(u.GroupID), "$ref": c.base + "/Groups/" + idText(u.GroupID),
		"display": c.groups[u.GroupID], "type": "direct"}}
	doc[SchemaEnterprise] = map[string]any{"department": c.groups[u.GroupID], "organization": c.tenant}
	access := []any{}
	for _, g := range u.GroupAccess {
		access = append(access, idText(g))
	}
	agents := []any{}
	for _, id := range u.AgentIDs {
		agents = append(agents, c.agentKeys[id])
	}
	roles, nicks := []any{}, []any{}
	for _, r := range u.Roles {
		roles = append(roles, r)
	}
	for _, n := range u.Nicknames {
		nicks = append(nicks, n)
	}
	ext := map[string]any{
		"roles": roles, "homeGroup": idText(u.GroupID), "groupAccess": access, "agentIds": agents, "nicknames": nicks,
		"ringTo": u.RingTo, "scoringEnabled": u.ScoringEnabled, "roaming": u.Roaming, "status": u.Status,
	}
	if u.AgentNumber != nil {
		ext["agentNumber"] = *u.AgentNumber
	}
	doc[SchemaRoster] = ext
	doc["meta"] = map[string]any{
		"resourceType": "User", "created": timeText(u.CreatedAt), "lastModified": timeText(u.UpdatedAt),
		"location": c.base + "/Users/" + idText(u.ID),
		"version":  userVersion(u, c),
	}
	return doc
}

// userVersion is a weak ETag of everything a user's document shows: the
// user's fields that it renders, their external id and what the document
// names of the tenant (the home group's name, agent ID keys, the tenant's
// name). It is hashed from those instead of the rendered document, which
// costs many times more; and from nothing else, so that a list and a GET
// give one user the same version (a GET also loads properties and
// profiles, which the document does not show).
func userVersion(u *roster.SCIMUser, c *userContext) string {
	b := make([]byte, 0, 256)
	str := func(v string) { b = strconv.AppendQuote(b, v) }
	num := func(v int64) { b = strconv.AppendInt(append(b, ' '), v, 10) }
	for _, v := range []string{u.Username, u.Name, u.Email, u.Mobile, u.Language, u.Status, u.RingTo, u.ExternalID, c.groups[u.GroupID], c.tenant, c.base} {
		str(v)
	}
	b = strconv.AppendBool(strconv.AppendBool(b, u.ScoringEnabled), u.Roaming)
	for _, v := range []int64{u.ID, u.GroupID, u.CreatedAt.UnixMilli(), u.UpdatedAt.UnixMilli()} {
		num(v)
	}
	if u.AgentNumber != nil {
		num(*u.AgentNumber)
	}
	for _, list := range [][]string{u.Roles, u.Nicknames} {
		b = append(b, '[')
		for _, v := range list {
			str(v)
		}
	}
	b = append(b, '[')
	for _, g := range u.GroupAccess {
		num(g)
	}
	b = append(b, '[')
	for _, id := range u.AgentIDs {
		str(c.agentKeys[id])
	}
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}

// setVersion makes meta.version a weak ETag of everything else in doc (a
// group's), so that any change of what a client sees changes it.
func setVersion(doc map[string]any) {
	meta := doc["meta"].(map[string]any)
	delete(meta, "version")
	b, _ := json.Marshal(doc)
	sum := sha256.Sum256(b)
	meta["version"] = `W/"` + hex.EncodeToString(sum[:8]) + `"`
}

// userSchema is every attribute a user document has, by schema URN ("" for
// the core schema), for reading request bodies case-insensitively.
func userSchema() map[string][]attr {
	return map[string][]attr{"": append(userAttrs(nil), commonAttrs()...), SchemaEnterprise: enterpriseAttrs(), SchemaRoster: rosterAttrs(nil)}
}

// commonAttrs are RFC 7643 §3.1's attributes of every resource.
func commonAttrs() []attr {
	return []attr{
		str("id", "").with(func(a *attr) { a.mutability, a.caseExact = "readOnly", true }),
		str("externalId", "").with(func(a *attr) { a.caseExact = true }),
		{name: "meta", typ: "complex", mutability: "readOnly"},
		{name: "schemas", typ: "string", multi: true, mutability: "readOnly"},
	}
}

// canonical rewrites a request document with the declared spelling of every
// attribute name it knows, drops what it does not know (attributes Roster
// does not keep, such as title or addresses, are ignored), and refuses an
// extension it does not know.
// readDocument reads a request's resource and puts it in canonical form
// for schema (what create and replace take).
func readDocument(r *http.Request, schema map[string][]attr) (map[string]any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return canonical(body, schema)
}

func canonical(doc map[string]any, schema map[string][]attr) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range doc {
		if strings.HasPrefix(strings.ToLower(k), "urn:") {
			urn, ok := knownURN(k, schema)
			if !ok {
				if strings.EqualFold(k, SchemaUser) || strings.EqualFold(k, SchemaGroup) {
					continue
				}
				return nil, errInvalidValue("unknown schema extension %q", k)
			}
			m, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return nil, errInvalidValue("%s must be an object", urn)
			}
			sub, err := canonicalAttrs(m, schema[urn])
			if err != nil {
				return nil, err
			}
			out[urn] = sub
			continue
		}
		a, ok := findAttr(schema[""], k)
		if !ok {
			continue
		}
		cv, err := canonicalValue(a, v)
		if err != nil {
			return nil, err
		}
		out[a.name] = cv
	}
	return out, nil
}

func knownURN(k string, schema map[string][]attr) (string, bool) {
	for urn := range schema {
		if urn != "" && strings.EqualFold(urn, k) {
			return urn, true
		}
	}
	return "", false
}

func canonicalAttrs(m map[string]any, attrs []attr) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range m {
		a, ok := findAttr(attrs, k)
		if !ok {
			continue
		}
		cv, err := canonicalValue(a, v)
		if err != nil {
			return nil, err
		}
		out[a.name] = cv
	}
	return out, nil
}

// canonicalValue spells the sub-attributes of a complex value canonically.
func canonicalValue(a attr, v any) (any, error) {
	if a.sub == nil || v == nil {
		return v, nil
	}
	if a.multi {
		list, ok := v.([]any)
		if !ok {
			if m, isObj := v.(map[string]any); isObj {
				list = []any{m} // one value where a list belongs
			} else {
				return nil, errInvalidValue("%s must be a list of objects", a.name)
			}
		}
		out := make([]any, 0, len(list))
		for i, el := range list {
			m, ok := el.(map[string]any)
			if !ok {
				return nil, errInvalidValue("%s[%d] must be an object", a.name, i)
			}
			cm, err := canonicalAttrs(m, a.sub)
			if err != nil {
				return nil, err
			}
			out = append(out, cm)
		}
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errInvalidValue("%s must be an object", a.name)
	}
	return canonicalAttrs(m, a.sub)
}

// getString reads an optional string attribute.
func getString(m map[string]any, key, path string) (string, error) {
	switch v := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	default:
		return "", errInvalidValue("%s must be a string", path)
	}
}

// getBool reads a boolean, also as the strings "True" and "False" that
// Entra ID sends.
func getBool(v any, path string) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(x))); err == nil {
			return b, nil
		}
	}
	return false, errInvalidValue("%s must be true or false", path)
}

func getInt(v any, path string) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
	case int64:
		return x, nil
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errInvalidValue("%s must be a whole number", path)
}

// pick returns the element of a multi-valued attribute Roster keeps: the
// one of type typ, else the primary one, else the first without a type.
func pick(v any, typ, path string) (string, error) {
	list, _ := v.([]any)
	var best map[string]any
	rank := 0
	for _, el := range list {
		m, _ := el.(map[string]any)
		t, _ := m["type"].(string)
		primary, _ := getBool(m["primary"], "")
		r := 0
		switch {
		case strings.EqualFold(t, typ):
			r = 3
		case primary:
			r = 2
		case t == "":
			r = 1
		}
		if r > rank {
			best, rank = m, r
		}
	}
	if best == nil {
		return "", nil
	}
	return getString(best, "value", path+".value")
}
