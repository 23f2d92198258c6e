package scim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
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

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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
// user, their external id and what the document names of the tenant (the
// home group's name, agent ID keys, the tenant's name). It is hashed from
// those instead of the rendered document, which costs a tenth.
func userVersion(u *roster.SCIMUser, c *userContext) string {
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(u.User)
	fmt.Fprintf(h, "%q %q %q %q", u.ExternalID, c.groups[u.GroupID], c.tenant, c.base)
	for _, id := range u.AgentIDs {
		fmt.Fprintf(h, " %q", c.agentKeys[id])
	}
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:8]) + `"`
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

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return reflect.DeepEqual(x, y)
}

// userChange compares the document after a PUT or PATCH (or a POST, with an
// empty before) with the one before, and returns the core input for what
// changed, the wanted active state and external id.
type userChange struct {
	in         roster.UserInput
	changed    bool
	active     *bool
	externalID *string
}

func diffUser(before, after map[string]any, languages []string) (userChange, error) {
	var c userChange
	set := func() { c.changed = true }
	str := func(doc map[string]any, key string) (string, error) { return getString(doc, key, key) }
	if v, err := str(after, "userName"); err != nil {
		return c, err
	} else if old, _ := str(before, "userName"); v != old {
		c.in.Username, c.changed = roster.Some(v), true
	}
	if name, changed, err := nameChange(before, after); err != nil {
		return c, err
	} else if changed {
		c.in.Name = roster.Some(name)
		set()
	}
	email, err := pick(after["emails"], "work", "emails")
	if err != nil {
		return c, err
	}
	if old, _ := pick(before["emails"], "work", "emails"); email != old {
		c.in.Email = roster.Some(email)
		set()
	}
	mobile, err := pick(after["phoneNumbers"], "mobile", "phoneNumbers")
	if err != nil {
		return c, err
	}
	if old, _ := pick(before["phoneNumbers"], "mobile", "phoneNumbers"); mobile != old {
		c.in.Mobile = roster.Some(mobile)
		set()
	}
	// preferredLanguage wins over locale unless only locale changed.
	key := "preferredLanguage"
	if sameJSON(after[key], before[key]) && !sameJSON(after["locale"], before["locale"]) {
		key = "locale"
	}
	if !sameJSON(after[key], before[key]) {
		lang, err := str(after, key)
		if err != nil {
			return c, err
		}
		c.in.Language = roster.Some(language(lang, languages))
		set()
	}
	if v, ok := after["active"]; ok && !sameJSON(v, before["active"]) {
		b, err := getBool(v, "active")
		if err != nil {
			return c, err
		}
		if old, err := getBool(before["active"], ""); err != nil || old != b {
			c.active = &b
		}
	}
	if !sameJSON(after["externalId"], before["externalId"]) {
		ext, err := str(after, "externalId")
		if err != nil {
			return c, err
		}
		c.externalID = &ext
	}
	ext, _ := after[SchemaRoster].(map[string]any)
	old, _ := before[SchemaRoster].(map[string]any)
	if err := diffRoster(&c, old, ext); err != nil {
		return c, err
	}
	return c, nil
}

// nameParts reads the name attributes of a document.
func nameParts(doc map[string]any) (formatted, display, joined string, err error) {
	n, _ := doc["name"].(map[string]any)
	if doc["name"] != nil && n == nil {
		return "", "", "", errInvalidValue("name must be an object")
	}
	var given, family string
	for _, f := range []struct {
		m    map[string]any
		key  string
		path string
		into *string
	}{{n, "formatted", "name.formatted", &formatted}, {doc, "displayName", "displayName", &display},
		{n, "givenName", "name.givenName", &given}, {n, "familyName", "name.familyName", &family}} {
		if *f.into, err = getString(f.m, f.key, f.path); err != nil {
			return
		}
	}
	return strings.TrimSpace(formatted), strings.TrimSpace(display), strings.TrimSpace(given + " " + family), nil
}

// nameChange finds Roster's one name in what the client changed:
// name.formatted, else displayName, else given and family name (Entra maps
// them separately); on create the first of them that is not empty.
func nameChange(before, after map[string]any) (string, bool, error) {
	f, d, j, err := nameParts(after)
	if err != nil {
		return "", false, err
	}
	bf, bd, bj, _ := nameParts(before)
	switch {
	case f != bf && f != "":
		return f, true, nil
	case d != bd && d != "":
		return d, true, nil
	case j != bj && j != "":
		return j, true, nil
	case f == "" && d == "" && j == "" && (bf != "" || bd != "" || bj != ""):
		return "", true, nil // removed: the name falls back to the username
	}
	return "", false, nil
}

// language maps a SCIM language tag (en-US) to one of the tenant's
// languages (en) when the tag itself is not one.
func language(tag string, languages []string) string {
	tag = strings.TrimSpace(tag)
	for _, l := range languages {
		if strings.EqualFold(l, tag) {
			return l
		}
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	for _, l := range languages {
		if strings.EqualFold(l, primary) {
			return l
		}
	}
	return tag
}

func diffRoster(c *userChange, before, after map[string]any) error {
	p := func(k string) string { return SchemaRoster + ":" + k }
	// A key PATCH removed is cleared (PUT keeps what it leaves out).
	changed := func(k string) bool { return !sameJSON(after[k], before[k]) }
	strList := func(k string) ([]string, error) {
		list, ok := after[k].([]any)
		if !ok && after[k] != nil {
			return nil, errInvalidValue("%s must be a list of strings", p(k))
		}
		out := []string{}
		for _, el := range list {
			s, ok := el.(string)
			if !ok {
				if n, isNum := el.(json.Number); isNum {
					s = n.String()
				} else {
					return nil, errInvalidValue("%s must be a list of strings", p(k))
				}
			}
			out = append(out, s)
		}
		return out, nil
	}
	if changed("roles") {
		v, err := strList("roles")
		if err != nil {
			return err
		}
		c.in.Roles, c.changed = roster.Some(v), true
	}
	if changed("homeGroup") {
		if after["homeGroup"] == nil {
			return errInvalidValue("%s is required: every user has a home group", p("homeGroup"))
		}
		n, err := getInt(after["homeGroup"], p("homeGroup"))
		if err != nil {
			return err
		}
		c.in.GroupID, c.changed = roster.Some(n), true
	}
	if changed("groupAccess") {
		v, err := strList("groupAccess")
		if err != nil {
			return err
		}
		ids := []int64{}
		for _, s := range v {
			n, err := getInt(s, p("groupAccess"))
			if err != nil {
				return err
			}
			ids = append(ids, n)
		}
		c.in.GroupAccess, c.changed = roster.Some(ids), true
	}
	if changed("agentNumber") {
		if after["agentNumber"] == nil {
			c.in.AgentNumber = roster.Opt[int64]{Set: true, Null: true}
		} else {
			n, err := getInt(after["agentNumber"], p("agentNumber"))
			if err != nil {
				return err
			}
			c.in.AgentNumber = roster.Some(n)
		}
		c.changed = true
	}
	if changed("agentIds") {
		v, err := strList("agentIds")
		if err != nil {
			return err
		}
		refs := []roster.AgentRef{}
		for _, s := range v {
			refs = append(refs, roster.ParseAgentRef(s))
		}
		c.in.AgentIDs, c.changed = roster.Some(refs), true
	}
	if changed("nicknames") {
		v, err := strList("nicknames")
		if err != nil {
			return err
		}
		c.in.Nicknames, c.changed = roster.Some(v), true
	}
	if changed("ringTo") {
		v, err := getString(after, "ringTo", p("ringTo"))
		if err != nil {
			return err
		}
		c.in.RingTo, c.changed = roster.Some(v), true
	}
	for _, k := range []string{"scoringEnabled", "roaming"} {
		if !changed(k) {
			continue
		}
		b, err := false, error(nil)
		if after[k] != nil {
			b, err = getBool(after[k], p(k))
		}
		if err != nil {
			return err
		}
		if k == "roaming" {
			c.in.Roaming = roster.Some(b)
		} else {
			c.in.ScoringEnabled = roster.Some(b)
		}
		c.changed = true
	}
	return nil
}

// checkReadOnly refuses a change of a read-only attribute of the Roster
// extension (its status). The enterprise extension's department and
// organization are derived; what a client writes there is ignored.
func checkReadOnly(before, after map[string]any) error {
	for urn, attrs := range map[string][]attr{SchemaRoster: rosterAttrs(nil)} {
		b, _ := before[urn].(map[string]any)
		a, _ := after[urn].(map[string]any)
		for _, at := range attrs {
			if v, ok := a[at.name]; ok && at.readOnly() && !sameJSON(v, b[at.name]) {
				return errMutability("%s:%s is read-only (%s)", urn, at.name, at.desc)
			}
		}
	}
	return nil
}
