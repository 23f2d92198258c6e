package scim

import (
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// attr declares one attribute as RFC 7643 §7 describes it. The same
// declarations serve discovery, the case-insensitive reading of request
// bodies and PATCH paths, and the refusal of read-only changes.
type attr struct {
	name       string
	typ        string // string, boolean, integer, dateTime, reference, complex
	multi      bool
	required   bool
	caseExact  bool
	mutability string // readOnly, readWrite, immutable, writeOnly
	returned   string // always, never, default, request
	uniqueness string // none, server, global
	desc       string
	canonical  []string
	refTypes   []string
	sub        []attr
}

func (a attr) readOnly() bool { return a.mutability == "readOnly" }

func str(name, desc string) attr {
	return attr{name: name, typ: "string", mutability: "readWrite", returned: "default", uniqueness: "none", desc: desc}
}

func (a attr) with(f func(*attr)) attr { f(&a); return a }

var readOnly = func(a *attr) { a.mutability = "readOnly" }

// userAttrs are the core User attributes Roster keeps (RFC 7643 §4.1).
// canonical values that depend on the tenant are filled per request.
func userAttrs(languages []string) []attr {
	return []attr{
		str("userName", "The username: 1 to 64 letters, digits and . _ @ + -; unique in the tenant regardless of case.").
			with(func(a *attr) { a.required, a.uniqueness = true, "server" }),
		{name: "name", typ: "complex", mutability: "readWrite", returned: "default", uniqueness: "none",
			desc: "The user's name; Roster keeps one name (formatted), given and family name are its first word and the rest.",
			sub: []attr{
				str("formatted", "The full name (Roster's name)."),
				str("givenName", "The first word of the name."),
				str("familyName", "The rest of the name."),
			}},
		str("displayName", "The full name, the same as name.formatted."),
		str("preferredLanguage", "The user's language, one of the tenant's languages.").with(func(a *attr) { a.canonical = languages }),
		str("locale", "The same as preferredLanguage.").with(func(a *attr) { a.canonical = languages }),
		{name: "active", typ: "boolean", mutability: "readWrite", returned: "default",
			desc: "false: deactivated (sessions and codes end at once); true: may sign in."},
		{name: "emails", typ: "complex", multi: true, mutability: "readWrite", returned: "default", uniqueness: "none",
			desc: "Roster keeps one address, the work one: unique in the tenant, compared in lower case.",
			sub: []attr{
				str("value", "The email address."),
				str("type", "Always work.").with(func(a *attr) { a.canonical = []string{"work"} }),
				{name: "primary", typ: "boolean", mutability: "readWrite", returned: "default", desc: "Always true."},
			}},
		{name: "phoneNumbers", typ: "complex", multi: true, mutability: "readWrite", returned: "default", uniqueness: "none",
			desc: "Roster keeps one number, the mobile one, in E.164 form (for one-time codes).",
			sub: []attr{
				str("value", "The mobile number in E.164 form (+4930123456)."),
				str("type", "Always mobile.").with(func(a *attr) { a.canonical = []string{"mobile"} }),
				{name: "primary", typ: "boolean", mutability: "readWrite", returned: "default", desc: "Always true."},
			}},
		str("password", "Taken on create only, as the user's password if it passes the tenant's password policy; never returned.").
			with(func(a *attr) { a.mutability, a.returned, a.caseExact = "writeOnly", "never", true }),
		{name: "groups", typ: "complex", multi: true, mutability: "readOnly", returned: "default", uniqueness: "none",
			desc: "The user's home group; changed through the group's members or the Roster extension's homeGroup.",
			sub: []attr{
				str("value", "The group's id.").with(readOnly),
				{name: "$ref", typ: "reference", refTypes: []string{"Group"}, mutability: "readOnly", returned: "default", desc: "The group's URI."},
				str("display", "The group's name.").with(readOnly),
				str("type", "Always direct.").with(func(a *attr) { a.mutability, a.canonical = "readOnly", []string{"direct"} }),
			}},
	}
}

func enterpriseAttrs() []attr {
	return []attr{
		str("department", "The name of the user's home group.").with(readOnly),
		str("organization", "The tenant's name.").with(readOnly),
	}
}

func rosterAttrs(roleKeys []string) []attr {
	multiStr := func(name, desc string) attr {
		return str(name, desc).with(func(a *attr) { a.multi = true })
	}
	boolean := func(name, desc string) attr {
		return attr{name: name, typ: "boolean", mutability: "readWrite", returned: "default", desc: desc}
	}
	return []attr{
		multiStr("roles", "Role keys; on create the tenant's scim_default_role when left out. Granting is bounded by the token's own rights.").
			with(func(a *attr) { a.canonical, a.caseExact = roleKeys, true }),
		str("homeGroup", "The id of the home group; on create the tenant's scim_default_group when left out.").with(func(a *attr) { a.caseExact = true }),
		multiStr("groupAccess", "Ids of further groups whose data the user's group-scoped roles reach.").with(func(a *attr) { a.caseExact = true }),
		{name: "agentNumber", typ: "integer", mutability: "readWrite", returned: "default", uniqueness: "server", desc: "1 to 999999999, unique in the tenant."},
		multiStr("agentIds", "Agent IDs held, as source:external_id.").with(func(a *attr) { a.caseExact = true }),
		multiStr("nicknames", "Up to 20 nicknames of 1 to 64 characters."),
		str("ringTo", "The number calls ring, in E.164 form."),
		boolean("scoringEnabled", "Whether the user's interactions are scored."),
		boolean("roaming", "A roaming agent: their agent-scoped roles also reach their group access."),
		str("status", "invited, active or deactivated.").
			with(func(a *attr) { a.mutability, a.canonical = "readOnly", []string{"invited", "active", "deactivated"} }),
	}
}

func groupAttrs() []attr {
	return []attr{
		str("displayName", "The group's name, unique among its siblings; groups made over SCIM go under the tenant's scim_group_parent.").
			with(func(a *attr) { a.required = true }),
		{name: "members", typ: "complex", multi: true, mutability: "readWrite", returned: "default", uniqueness: "none",
			desc: "The users whose home group this is. Adding a member moves them here; removing one moves them to the tenant's scim_default_group.",
			sub: []attr{
				str("value", "The user's id.").with(func(a *attr) { a.mutability, a.caseExact = "immutable", true }),
				{name: "$ref", typ: "reference", refTypes: []string{"User"}, mutability: "immutable", returned: "default", desc: "The user's URI."},
				str("display", "The user's username.").with(readOnly),
				str("type", "Always User.").with(func(a *attr) { a.mutability, a.canonical = "immutable", []string{"User"} }),
			}},
	}
}

// findAttr looks name up case-insensitively (RFC 7643 §2.1).
func findAttr(attrs []attr, name string) (attr, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.name, name) {
			return a, true
		}
	}
	return attr{}, false
}

func (a attr) render() map[string]any {
	m := map[string]any{
		"name": a.name, "type": a.typ, "multiValued": a.multi, "description": a.desc, "required": a.required,
		"mutability": a.mutability, "returned": a.returned,
	}
	if a.typ == "string" || a.typ == "reference" {
		m["caseExact"] = a.caseExact
	}
	if a.typ != "complex" && a.typ != "boolean" {
		u := a.uniqueness
		if u == "" {
			u = "none"
		}
		m["uniqueness"] = u
	}
	if a.canonical != nil {
		m["canonicalValues"] = a.canonical
	}
	if a.refTypes != nil {
		m["referenceTypes"] = a.refTypes
	}
	if a.sub != nil {
		var subs []map[string]any
		for _, s := range a.sub {
			subs = append(subs, s.render())
		}
		m["subAttributes"] = subs
	}
	return m
}

// tenantVocab are the tenant's role keys and languages, the canonical values
// clients offer in their attribute mappings.
func (s *Server) tenantVocab(r *http.Request, a *roster.Actor) (roles, languages []string, err error) {
	t, err := s.svc.Tenant(r.Context(), a)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.svc.ListRoles(r.Context(), a)
	if err != nil {
		return nil, nil, err
	}
	for _, ro := range rs {
		roles = append(roles, ro.Key)
	}
	return roles, t.Settings.Languages, nil
}

type schemaDef struct {
	id, name, desc string
	attrs          []attr
}

func (s *Server) schemaDefs(r *http.Request, a *roster.Actor) ([]schemaDef, error) {
	roles, langs, err := s.tenantVocab(r, a)
	if err != nil {
		return nil, err
	}
	return []schemaDef{
		{SchemaUser, "User", "A person with access to the tenant.", userAttrs(langs)},
		{SchemaEnterprise, "EnterpriseUser", "Enterprise attributes Roster derives (read-only).", enterpriseAttrs()},
		{SchemaRoster, "RosterUser", "Roster's own user fields.", rosterAttrs(roles)},
		{SchemaGroup, "Group", "A group of Roster's group tree.", groupAttrs()},
	}, nil
}

func (d schemaDef) render(base string) map[string]any {
	attrs := []map[string]any{}
	for _, a := range d.attrs {
		attrs = append(attrs, a.render())
	}
	return map[string]any{
		"schemas": []string{schemaSchema}, "id": d.id, "name": d.name, "description": d.desc, "attributes": attrs,
		"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + d.id},
	}
}

// baseURL is the absolute URL of the SCIM service as the client reached it.
func (s *Server) baseURL(r *http.Request) string {
	if u := s.svc.PublicURL(); u != "" {
		return strings.TrimSuffix(u, "/") + Base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Base
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	defs, err := s.schemaDefs(r, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var items []map[string]any
	for _, d := range defs {
		items = append(items, d.render(s.baseURL(r)))
	}
	writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	defs, err := s.schemaDefs(r, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range defs {
		if d.id == r.PathValue("id") {
			writeJSON(w, http.StatusOK, d.render(s.baseURL(r)))
			return
		}
	}
	writeError(w, errNotFound("no schema "+r.PathValue("id")))
}

func (s *Server) resourceTypeDocs(base string) []map[string]any {
	return []map[string]any{
		{
			"schemas": []string{schemaResType}, "id": "User", "name": "User", "endpoint": "/Users",
			"description": "Roster users", "schema": SchemaUser,
			"schemaExtensions": []map[string]any{{"schema": SchemaEnterprise, "required": false}, {"schema": SchemaRoster, "required": false}},
			"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
		},
		{
			"schemas": []string{schemaResType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
			"description": "Roster groups", "schema": SchemaGroup, "schemaExtensions": []map[string]any{},
			"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
		},
	}
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request, _ *roster.Actor) {
	items := s.resourceTypeDocs(s.baseURL(r))
	writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request, _ *roster.Actor) {
	for _, d := range s.resourceTypeDocs(s.baseURL(r)) {
		if d["id"] == r.PathValue("id") {
			writeJSON(w, http.StatusOK, d)
			return
		}
	}
	writeError(w, errNotFound("no resource type "+r.PathValue("id")))
}

// serviceProviderConfig advertises exactly what this door does.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request, _ *roster.Actor) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{schemaSPConfig},
		"documentationUri": "https://github.com/roster-dev/roster/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": roster.SCIMMaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "API token", "primary": true,
			"description":      "A Roster API token (roster token create, or the console) whose role holds users.manage, sent as Authorization: Bearer TOKEN.",
			"documentationUri": "https://github.com/roster-dev/roster/blob/main/docs/scim.md",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.baseURL(r) + "/ServiceProviderConfig"},
	})
}

func (s *Server) bulk(w http.ResponseWriter, _ *http.Request, _ *roster.Actor) {
	writeError(w, &scimError{status: http.StatusNotImplemented, detail: "bulk operations are not supported (ServiceProviderConfig bulk.supported is false)"})
}
