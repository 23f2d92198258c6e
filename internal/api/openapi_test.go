// These tests keep openapi.json (served at /api/v1/openapi.json) honest.
//
// When you add a route to the route table, add it to
// openapi.json with its
// parameters, request body and responses (reuse components/responses for the
// problem+json errors). A public endpoint registered outside the route table
// (in Register or in cmd/roster) also goes into documentedPublicRoutes below
// and gets "security": [] in the document. When you add a field to a type
// listed in documentedTypes, add the property to its schema; when you document
// a new type, add it to documentedTypes. These tests fail until route table,
// document and Go types agree. Query parameters are not checked: document them
// by hand when a handler reads a new one.
package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// documentedPublicRoutes are served without authentication and are not in
// the route table. The /api/ ones are registered by Register (checked below);
// the others by cmd/roster.
var documentedPublicRoutes = []string{
	"GET /api/v1/openapi.json",
	"POST /api/v1/sessions",
	"POST /api/v1/sessions/second-factor",
	"DELETE /api/v1/sessions/current",
	"POST /api/v1/password/forgot",
	"POST /api/v1/password/reset",
	"POST /api/v1/invitations/accept",
	"POST /api/v1/invitations/inspect",
	"GET /api/v1/sso/options",
	"GET /sso/{id}/start",
	"GET /sso/{id}/callback",
	"GET /api/v1/sso/route",
	"GET /sso/{id}/try",
	"GET /sso/{id}/saml/metadata",
	"POST /sso/{id}/saml/acs",
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
}

// documentedTypes pairs component schemas with the Go types the API encodes
// (output) or decodes (input). Their properties must match the JSON names.
var documentedTypes = []struct {
	schema string
	typ    reflect.Type
	input  bool
}{
	{"User", reflect.TypeFor[roster.User](), false},
	{"EffectiveValue", reflect.TypeFor[roster.EffectiveValue](), false},
	{"UserProfile", reflect.TypeFor[roster.UserProfile](), false},
	{"ProfileSkill", reflect.TypeFor[roster.ProfileSkill](), false},
	{"Property", reflect.TypeFor[roster.Property](), false},
	{"PropertyInput", reflect.TypeFor[roster.PropertyInput](), true},
	{"PropertyValueInput", reflect.TypeFor[valueBody](), true},
	{"GroupProperties", reflect.TypeFor[roster.GroupDetails](), false},
	{"Skill", reflect.TypeFor[roster.Skill](), false},
	{"SkillInput", reflect.TypeFor[roster.SkillInput](), true},
	{"Profile", reflect.TypeFor[roster.Profile](), false},
	{"ProfileInput", reflect.TypeFor[roster.ProfileInput](), true},
	{"ProfileSkillInput", reflect.TypeFor[roster.ProfileSkillInput](), true},
	{"CoachingPlan", reflect.TypeFor[roster.CoachingPlan](), false},
	{"CoachingNote", reflect.TypeFor[roster.CoachingNote](), false},
	{"CoachingPlanInput", reflect.TypeFor[roster.CoachingPlanInput](), true},
	{"CoachingNoteInput", reflect.TypeFor[noteBody](), true},
	{"TeamMember", reflect.TypeFor[roster.TeamMember](), false},
	{"MyTeam", reflect.TypeFor[roster.MyTeam](), false},
	{"UserInput", reflect.TypeFor[roster.UserInput](), true},
	{"Group", reflect.TypeFor[roster.Group](), false},
	{"GroupInput", reflect.TypeFor[roster.GroupInput](), true},
	{"Role", reflect.TypeFor[roster.Role](), false},
	{"RoleInput", reflect.TypeFor[roster.RoleInput](), true},
	{"Permission", reflect.TypeFor[roster.Permission](), false},
	{"APIToken", reflect.TypeFor[roster.APIToken](), false},
	{"SSOProvider", reflect.TypeFor[roster.SSOProvider](), false},
	{"SSOProviderInput", reflect.TypeFor[roster.SSOProviderInput](), true},
	{"SSOPolicy", reflect.TypeFor[roster.SSOPolicy](), false},
	{"SSOPolicyInput", reflect.TypeFor[roster.SSOPolicyInput](), true},
	{"Tenant", reflect.TypeFor[roster.Tenant](), false},
	{"TenantSettings", reflect.TypeFor[roster.TenantSettings](), false},
	{"MFAStep", reflect.TypeFor[roster.MFAStep](), false},
	{"MFAStatus", reflect.TypeFor[roster.MFAStatus](), false},
	{"TenantInput", reflect.TypeFor[roster.TenantInput](), true},
	{"MeInput", reflect.TypeFor[roster.MeInput](), true},
	{"TokenCreate", reflect.TypeFor[roster.TokenInput](), true},
	{"AuditEvent", reflect.TypeFor[roster.AuditEvent](), false},
	{"Webhook", reflect.TypeFor[roster.Webhook](), false},
	{"WebhookCreate", reflect.TypeFor[roster.WebhookInput](), true},
	{"WebhookUpdate", reflect.TypeFor[roster.WebhookInput](), true},
	{"WebhookDelivery", reflect.TypeFor[roster.WebhookDelivery](), false},
	{"Stats", reflect.TypeFor[roster.UserCounts](), false},
	{"Problem", reflect.TypeFor[Problem](), false},
	{"FieldError", reflect.TypeFor[roster.FieldError](), false},
	{"Invitation", reflect.TypeFor[roster.Invitation](), false},
	{"InvitationInfo", reflect.TypeFor[roster.InvitationInfo](), false},
	{"OutboxMessage", reflect.TypeFor[roster.OutboxMessage](), false},
	{"SessionInfo", reflect.TypeFor[SessionInfo](), false},
	{"AgentID", reflect.TypeFor[roster.AgentID](), false},
	{"Interaction", reflect.TypeFor[roster.Interaction](), false},
	{"InteractionInput", reflect.TypeFor[roster.InteractionInput](), true},
	{"IngestResult", reflect.TypeFor[roster.IngestResult](), false},
	{"RowError", reflect.TypeFor[roster.RowError](), false},
	{"MoveInput", reflect.TypeFor[roster.MoveInput](), true},
	{"CheckInput", reflect.TypeFor[roster.CheckInput](), true},
	{"Visible", reflect.TypeFor[roster.Visible](), false},
	{"Impersonation", reflect.TypeFor[impersonationJSON](), false},
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf(`openapi = %v, want "3.1.0"`, doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version, got %v", info)
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		t.Fatal("the document has no paths object")
	}
}

// normalizePattern turns a ServeMux pattern into the document's form:
// "{rest...}" becomes "{rest}" and a trailing "{$}" goes.
func normalizePattern(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

// documentedOperations maps "METHOD /path" to the operation object.
func documentedOperations(doc map[string]any) map[string]map[string]any {
	ops := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for _, m := range openAPIMethods {
			if op, ok := item[m].(map[string]any); ok {
				ops[strings.ToUpper(m)+" "+path] = op
			}
		}
	}
	return ops
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(nil, slog.New(slog.DiscardHandler))

	public := map[string]bool{}
	for _, r := range documentedPublicRoutes {
		public[normalizePattern(r)] = true
	}
	want := map[string]bool{}
	for _, r := range s.Routes() {
		r = normalizePattern(r)
		if want[r] {
			t.Errorf("the route table lists %s twice", r)
		}
		if public[r] {
			t.Errorf("%s is in the route table (authenticated) and in documentedPublicRoutes", r)
		}
		want[r] = true
	}
	for r := range public {
		want[r] = true
	}
	ops := documentedOperations(doc)

	var missing, extra []string
	for r := range want {
		if ops[r] == nil {
			missing = append(missing, r)
		}
	}
	for r := range ops {
		if !want[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes served but not documented in openapi.json (add them under paths):\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.json that no route serves (remove them, or add the route to a route table or documentedPublicRoutes):\n\t%s", strings.Join(extra, "\n\t"))
	}
}

// TestOpenAPIOperations checks each operation on its own: a unique
// operationId, declared path parameters, the right security, and errors as
// problem+json.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	public := map[string]bool{}
	for _, r := range documentedPublicRoutes {
		public[normalizePattern(r)] = true
	}
	paths, _ := doc["paths"].(map[string]any)
	ids := map[string]string{}
	templateParam := regexp.MustCompile(`\{([^}]+)\}`)
	for key, op := range documentedOperations(doc) {
		path := key[strings.Index(key, " ")+1:]
		id, _ := op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s: no operationId", key)
		case ids[id] != "":
			t.Errorf("%s: operationId %q is used by %s too", key, id, ids[id])
		default:
			ids[id] = key
		}

		// Path parameters may sit on the path item or the operation.
		item, _ := paths[path].(map[string]any)
		declared := map[string]bool{}
		for _, list := range []any{item["parameters"], op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				p, _ := resolveRef(doc, p).(map[string]any)
				if p["in"] == "path" {
					declared[p["name"].(string)] = true
					if p["required"] != true {
						t.Errorf("%s: path parameter %v must be required", key, p["name"])
					}
				}
			}
		}
		inTemplate := map[string]bool{}
		for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
			inTemplate[m[1]] = true
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared in parameters", key, m[1])
			}
		}
		for name := range declared {
			if !inTemplate[name] {
				t.Errorf("%s: declares path parameter %q that the path does not have", key, name)
			}
		}

		security, hasSecurity := op["security"].([]any)
		if public[key] && (!hasSecurity || len(security) != 0) {
			t.Errorf(`%s is public: give it "security": []`, key)
		}
		if !public[key] && hasSecurity && len(security) == 0 {
			t.Errorf(`%s needs authentication but says "security": []`, key)
		}

		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", key)
		}
		if !public[key] && responses["401"] == nil {
			t.Errorf("%s: needs authentication, so document its 401 response", key)
		}
		for code, resp := range responses {
			status, err := strconv.Atoi(code)
			if err != nil || status < 400 || !strings.HasPrefix(path, "/api/") {
				continue
			}
			resp, _ := resolveRef(doc, resp).(map[string]any)
			content, _ := resp["content"].(map[string]any)
			if content["application/problem+json"] == nil {
				t.Errorf("%s: the %s response must be application/problem+json", key, code)
			}
		}
	}
}

// TestOpenAPIRoutesRegistered checks that the public /api/ routes listed
// above are really served by Register, not by its catch-all 404.
func TestOpenAPIRoutesRegistered(t *testing.T) {
	s := New(nil, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	s.Register(mux)
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	check := append(s.Routes(), documentedPublicRoutes...)
	for _, r := range check {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/api/") {
			continue // served by cmd/roster
		}
		req := httptest.NewRequest(method, wildcard.ReplaceAllString(normalizePattern(path), "1"), nil)
		if _, pattern := mux.Handler(req); pattern != r {
			t.Errorf("%s is answered by the pattern %q, not by its own", r, pattern)
		}
	}
}

// resolveRef follows a local $ref ("#/components/...") or returns v as it is.
func resolveRef(doc map[string]any, v any) any {
	for range 10 { // refs to refs are allowed; cycles are not
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		v = lookupPointer(doc, ref)
	}
	return nil
}

// lookupPointer resolves a local JSON pointer, nil when it points nowhere.
func lookupPointer(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = c[tok]; !ok {
				return nil
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				s, _ := ref.(string)
				if lookupPointer(doc, s) == nil {
					t.Errorf("%s: $ref %q does not resolve (only local refs like #/components/schemas/X are used)", at, ref)
				}
			}
			// Every required property must exist, when properties are listed.
			if props, ok := v["properties"].(map[string]any); ok {
				required, _ := v["required"].([]any)
				for _, r := range required {
					if name, _ := r.(string); props[name] == nil {
						t.Errorf("%s: required %q is not among the properties", at, name)
					}
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(at+"/"+strconv.Itoa(i), child)
			}
		}
	}
	walk("#", doc)
}

// jsonField is one key encoding/json produces for a struct.
type jsonField struct {
	name      string
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields lists the JSON keys of a struct type the way encoding/json does:
// json tags, "-" skipped, unexported fields skipped, embedded structs inlined.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFields(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		out = append(out, jsonField{name: name, typ: f.Type, omitEmpty: omit})
	}
	return out
}

// optElem returns T for roster.Opt[T], nil for anything else.
func optElem(t reflect.Type) reflect.Type {
	optPkg := reflect.TypeFor[roster.Opt[int]]().PkgPath()
	if t.Kind() == reflect.Struct && t.PkgPath() == optPkg && strings.HasPrefix(t.Name(), "Opt[") {
		if f, ok := t.FieldByName("V"); ok {
			return f.Type
		}
	}
	return nil
}

// goJSONType is the JSON Schema type a Go type encodes to ("" when any JSON
// value may appear) and whether null may appear: "yes", "no" or "may" (an
// optional input field, where null is accepted but not always meaningful).
func goJSONType(t reflect.Type) (typ, null string) {
	if e := optElem(t); e != nil {
		typ, _ := goJSONType(e)
		return typ, "may"
	}
	if t.Kind() == reflect.Pointer {
		typ, _ := goJSONType(t.Elem())
		return typ, "yes"
	}
	switch {
	case t == reflect.TypeFor[json.RawMessage](), t.Kind() == reflect.Interface:
		return "", "may"
	case t == reflect.TypeFor[time.Time]():
		return "string", "no"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean", "no"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer", "no"
	case reflect.Float32, reflect.Float64:
		return "number", "no"
	case reflect.String:
		return "string", "no"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string", "no" // []byte is base64
		}
		return "array", "no"
	case reflect.Array:
		return "array", "no"
	}
	return "object", "no"
}

// schemaTypes collects the "type" values a schema allows, following $ref,
// anyOf and oneOf. ok is false when the schema does not constrain the type.
func schemaTypes(doc map[string]any, schema any) (types map[string]bool, ok bool) {
	s, _ := resolveRef(doc, schema).(map[string]any)
	types = map[string]bool{}
	switch ty := s["type"].(type) {
	case string:
		types[ty] = true
		return types, true
	case []any:
		for _, x := range ty {
			types[x.(string)] = true
		}
		return types, true
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		alts, _ := s[key].([]any)
		for _, alt := range alts {
			sub, ok := schemaTypes(doc, alt)
			if !ok {
				return nil, false
			}
			for k := range sub {
				types[k] = true
			}
		}
		if len(alts) > 0 {
			return types, true
		}
	}
	return nil, false
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas, _ := lookupPointer(doc, "#/components/schemas").(map[string]any)
	for _, dt := range documentedTypes {
		t.Run(dt.schema, func(t *testing.T) {
			schema, _ := schemas[dt.schema].(map[string]any)
			if schema == nil {
				t.Fatalf("components/schemas/%s is missing (it documents %s)", dt.schema, dt.typ)
			}
			props, _ := schema["properties"].(map[string]any)
			fields := jsonFields(dt.typ)

			var undocumented, stale []string
			inGo := map[string]bool{}
			for _, f := range fields {
				inGo[f.name] = true
				if props[f.name] == nil {
					undocumented = append(undocumented, f.name)
				}
			}
			for name := range props {
				if !inGo[name] {
					stale = append(stale, name)
				}
			}
			sort.Strings(stale)
			if len(undocumented) > 0 {
				t.Errorf("%s has JSON fields that schema %s does not document: %s", dt.typ, dt.schema, strings.Join(undocumented, ", "))
			}
			if len(stale) > 0 {
				t.Errorf("schema %s documents properties that %s does not have: %s", dt.schema, dt.typ, strings.Join(stale, ", "))
			}

			// The types must agree too, nullability included.
			for _, f := range fields {
				prop := props[f.name]
				if prop == nil {
					continue
				}
				want, null := goJSONType(f.typ)
				if f.omitEmpty && null == "yes" {
					null = "no" // a nil pointer is left out, never written as null
				}
				if want == "" {
					continue
				}
				got, ok := schemaTypes(doc, prop)
				if !ok {
					t.Errorf("%s.%s: the schema gives no type; want %q", dt.schema, f.name, want)
					continue
				}
				if !got[want] || len(got) > 2 || (len(got) == 2 && !got["null"]) {
					t.Errorf("%s.%s: schema type %v, want %q (Go %s)", dt.schema, f.name, sortedTypeNames(got), want, f.typ)
				}
				if null == "yes" && !got["null"] {
					t.Errorf(`%s.%s: Go %s encodes nil as null; the type must include "null"`, dt.schema, f.name, f.typ)
				}
				if null == "no" && got["null"] {
					t.Errorf(`%s.%s: Go %s is never null; drop "null" from the type`, dt.schema, f.name, f.typ)
				}
			}

			if dt.input {
				if schema["additionalProperties"] != false {
					t.Errorf(`%s: bodies are decoded strictly, so say "additionalProperties": false`, dt.schema)
				}
				return
			}
			// Output fields without omitempty are always present: required.
			required := map[string]bool{}
			reqList, _ := schema["required"].([]any)
			for _, r := range reqList {
				required[r.(string)] = true
			}
			for _, f := range fields {
				if !f.omitEmpty && !required[f.name] {
					t.Errorf("%s.%s is always present in the JSON; list it in required", dt.schema, f.name)
				}
				if f.omitEmpty && required[f.name] {
					t.Errorf("%s.%s is omitted when empty; it cannot be required", dt.schema, f.name)
				}
			}
			// Cross-check the reflection against encoding/json itself.
			b, err := json.Marshal(reflect.New(dt.typ).Interface())
			if err != nil {
				t.Fatal(err)
			}
			var encoded map[string]any
			if err := json.Unmarshal(b, &encoded); err != nil {
				t.Fatal(err)
			}
			for name := range encoded {
				if !inGo[name] {
					t.Errorf("encoding/json writes %q for %s, which the reflection missed", name, dt.typ)
				}
			}
		})
	}
}

func sortedTypeNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIServed(t *testing.T) {
	mux := http.NewServeMux()
	New(nil, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// No Authorization header: the document is public.
	res, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the served document does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/users"] == nil {
		t.Errorf("the served document is not the API's: openapi=%q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
}
