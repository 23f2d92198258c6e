package scim

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// What a PUT, PATCH or POST changes: the document after it against the one
// before, turned into the core's input.

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

// core is the change as the core's one SCIM use case takes it.
func (c userChange) core() roster.SCIMUserChange {
	out := roster.SCIMUserChange{Active: c.active, ExternalID: c.externalID}
	if c.changed {
		out.Update = &c.in
	}
	return out
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
