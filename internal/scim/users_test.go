package scim_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
)

func TestDiscovery(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		sp := e.call("GET", "/ServiceProviderConfig", nil).want(t, http.StatusOK)
		for key, want := range map[string]bool{"patch": true, "bulk": false, "filter": true, "changePassword": false, "sort": true, "etag": true} {
			m, _ := sp.body[key].(map[string]any)
			if m["supported"] != want {
				t.Errorf("%s.supported = %v, want %v", key, m["supported"], want)
			}
		}
		rt := e.call("GET", "/ResourceTypes", nil).want(t, http.StatusOK)
		if got := rt.ids(); !slices.Equal(got, []string{"User", "Group"}) || rt.total() != 2 {
			t.Errorf("resource types %v", got)
		}
		e.call("GET", "/ResourceTypes/User", nil).want(t, http.StatusOK)
		e.call("GET", "/ResourceTypes/Nope", nil).wantError(t, http.StatusNotFound, "")

		sc := e.call("GET", "/Schemas", nil).want(t, http.StatusOK)
		if got := sc.ids(); len(got) != 4 || !slices.Contains(got, scim.SchemaRoster) || !slices.Contains(got, scim.SchemaEnterprise) {
			t.Errorf("schemas %v", got)
		}
		ext := e.call("GET", "/Schemas/"+scim.SchemaRoster, nil).want(t, http.StatusOK)
		attrs, _ := ext.body["attributes"].([]any)
		var roles map[string]any
		for _, a := range attrs {
			if m := a.(map[string]any); m["name"] == "roles" {
				roles = m
			}
		}
		canon, _ := roles["canonicalValues"].([]any)
		if !slices.Contains(canon, any("admin")) || !slices.Contains(canon, any("agent")) || roles["multiValued"] != true {
			t.Errorf("roles attribute %v", roles)
		}
		user := e.call("GET", "/Schemas/"+scim.SchemaUser, nil).want(t, http.StatusOK)
		for _, a := range user.body["attributes"].([]any) {
			m := a.(map[string]any)
			if m["name"] == "userName" && (m["uniqueness"] != "server" || m["required"] != true || m["caseExact"] != false) {
				t.Errorf("userName declared %v", m)
			}
			if m["name"] == "preferredLanguage" && len(m["canonicalValues"].([]any)) != 2 {
				t.Errorf("preferredLanguage declared %v", m)
			}
		}
		e.call("GET", "/Schemas/urn:nope", nil).wantError(t, http.StatusNotFound, "")
		e.call("POST", "/Bulk", map[string]any{}).wantError(t, http.StatusNotImplemented, "")
		e.call("GET", "/Nope", nil).wantError(t, http.StatusNotFound, "")
		r := e.call("PUT", "/Users", map[string]any{})
		r.wantError(t, http.StatusMethodNotAllowed, "")
		if r.header.Get("Allow") != "GET, POST" {
			t.Errorf("Allow %q", r.header.Get("Allow"))
		}
	})
}

func TestAuthentication(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.call("GET", "/Users", nil, "Authorization: ").wantError(t, http.StatusUnauthorized, "")
		e.call("GET", "/Users", nil, "Authorization: Bearer rst_wrong").wantError(t, http.StatusUnauthorized, "")
		e.call("GET", "/Users", nil, "Authorization: bearer "+e.token).want(t, http.StatusOK)
		// read_only may view users but not manage them: no provisioning.
		e.call("GET", "/Users", nil, "Authorization: Bearer "+e.makeToken("read_only")).wantError(t, http.StatusForbidden, "")
		e.call("GET", "/ServiceProviderConfig", nil, "Authorization: Bearer "+e.makeToken("agent")).wantError(t, http.StatusForbidden, "")
		// The console's cookie is not a SCIM credential.
		e.call("GET", "/Users", nil, "Authorization: ", "Cookie: roster_session=x").wantError(t, http.StatusUnauthorized, "")
	})
}

func TestUserLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		body := userBody("ann.lee", "Ann.Lee@Example.com")
		body["externalId"] = "00u1abc"
		body["phoneNumbers"] = []any{map[string]any{"value": "+49 151 23456789", "type": "mobile"}}
		body["preferredLanguage"] = "de-DE"
		body["password"] = "never-returned-123"
		body[scim.SchemaRoster] = map[string]any{"roles": []string{"agent"}, "agentNumber": 42, "nicknames": []string{"Annie"}, "scoringEnabled": "True"}
		created := e.call("POST", "/Users", body).want(t, http.StatusCreated)
		id := created.str("id")
		if loc := created.header.Get("Location"); loc != e.url+"/scim/v2/Users/"+id {
			t.Errorf("Location %q", loc)
		}
		if created.header.Get("ETag") == "" || created.header.Get("ETag") != created.str("meta.version") {
			t.Errorf("ETag %q, meta.version %q", created.header.Get("ETag"), created.str("meta.version"))
		}
		for path, want := range map[string]string{"userName": "ann.lee", "externalId": "00u1abc", "name.formatted": "Ann Ann.lee",
			"preferredLanguage": "de", "meta.resourceType": "User"} {
			if got := created.str(path); got != want {
				t.Errorf("%s = %q, want %q", path, got, want)
			}
		}
		if _, ok := created.body["password"]; ok {
			t.Error("password returned")
		}
		emails := created.body["emails"].([]any)
		if emails[0].(map[string]any)["value"] != "ann.lee@example.com" {
			t.Errorf("emails %v", emails)
		}
		if phones := created.body["phoneNumbers"].([]any); phones[0].(map[string]any)["value"] != "+4915123456789" {
			t.Errorf("phoneNumbers %v", phones)
		}
		ext := created.ext()
		if !slices.Equal(ext["roles"].([]any), []any{"agent"}) || ext["agentNumber"] != float64(42) || ext["scoringEnabled"] != true || ext["status"] != "active" {
			t.Errorf("roster extension %v", ext)
		}
		if created.body["active"] != true {
			t.Error("not active")
		}
		// Created over SCIM: active, no invitation.
		invs, err := e.svc.ListInvitations(context.Background(), roster.SystemActor(e.tenant.ID), roster.InvitationQuery{})
		if err != nil || invs.Total != 0 {
			t.Errorf("invitations %v %v", invs, err)
		}

		got := e.call("GET", "/Users/"+id, nil).want(t, http.StatusOK)
		etag := got.header.Get("ETag")
		if etag != created.header.Get("ETag") {
			t.Errorf("GET ETag %q, POST's %q", etag, created.header.Get("ETag"))
		}
		e.call("GET", "/Users/"+id, nil, "If-None-Match: "+etag).want(t, http.StatusNotModified)

		// PUT replaces what it names; the Roster extension it leaves out stays.
		put := userBody("ann.lee", "ann@example.org")
		put["name"] = map[string]any{"formatted": "Ann Lee"}
		put["id"] = "999" // read-only: ignored
		updated := e.call("PUT", "/Users/"+id, put, "If-Match: "+etag).want(t, http.StatusOK)
		if updated.str("name.formatted") != "Ann Lee" || updated.str("id") != id || updated.ext()["agentNumber"] != float64(42) {
			t.Errorf("after PUT %s", updated.raw)
		}
		if updated.header.Get("ETag") == etag {
			t.Error("the version did not change")
		}
		e.call("PUT", "/Users/"+id, put, "If-Match: "+etag).wantError(t, http.StatusPreconditionFailed, "")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "active", false)), "If-Match: "+etag).wantError(t, http.StatusPreconditionFailed, "")
		e.call("DELETE", "/Users/"+id, nil, "If-Match: "+etag).wantError(t, http.StatusPreconditionFailed, "")

		// Deactivate and reactivate.
		off := e.call("PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{"active": false}))).want(t, http.StatusOK)
		if off.body["active"] != false || off.ext()["status"] != "deactivated" {
			t.Errorf("after active=false: %s", off.raw)
		}
		uid, _ := strconv.ParseInt(id, 10, 64)
		if u, _ := e.svc.User(context.Background(), roster.SystemActor(e.tenant.ID), uid); u.Status != roster.StatusDeactivated {
			t.Errorf("core status %q", u.Status)
		}
		on := e.call("PATCH", "/Users/"+id, patchBody(op("Replace", "active", "True"))).want(t, http.StatusOK)
		if on.body["active"] != true {
			t.Errorf("after active=True: %s", on.raw)
		}

		e.call("DELETE", "/Users/"+id, nil).want(t, http.StatusNoContent)
		e.call("GET", "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
		e.call("DELETE", "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
		e.call("GET", "/Users/abc", nil).wantError(t, http.StatusNotFound, "")
	})
}

func TestUserErrors(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		id := e.createUser("bob", "bob@example.com")
		e.call("POST", "/Users", userBody("BOB", "other@example.com")).wantError(t, http.StatusConflict, "uniqueness")
		e.call("POST", "/Users", userBody("bob2", "Bob@example.com")).wantError(t, http.StatusConflict, "uniqueness")
		e.call("POST", "/Users", map[string]any{"schemas": []string{scim.SchemaUser}}).wantError(t, http.StatusBadRequest, "invalidValue")
		e.call("POST", "/Users", "{not json").wantError(t, http.StatusBadRequest, "invalidSyntax")
		e.call("POST", "/Users", userBody("x y", "x@example.com")).wantError(t, http.StatusBadRequest, "invalidValue")
		bad := userBody("carol", "carol@example.com")
		bad[scim.SchemaRoster] = map[string]any{"roles": []string{"nope"}}
		r := e.call("POST", "/Users", bad)
		r.wantError(t, http.StatusBadRequest, "invalidValue")
		if d := r.str("detail"); !contains(d, scim.SchemaRoster+":roles") {
			t.Errorf("detail does not name the attribute: %q", d)
		}
		e.call("POST", "/Users", map[string]any{"userName": "dave", "urn:unknown:ext": map[string]any{}}).wantError(t, http.StatusBadRequest, "invalidValue")

		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "id", "5"))).wantError(t, http.StatusBadRequest, "mutability")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", scim.SchemaRoster+":status", "deactivated"))).wantError(t, http.StatusBadRequest, "mutability")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "emails[type eq", "x"))).wantError(t, http.StatusBadRequest, "invalidPath")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", scim.SchemaRoster+":nope", "x"))).wantError(t, http.StatusBadRequest, "invalidPath")
		e.call("PATCH", "/Users/"+id, patchBody(op("remove", "", nil))).wantError(t, http.StatusBadRequest, "noTarget")
		e.call("PATCH", "/Users/"+id, patchBody(op("move", "userName", "x"))).wantError(t, http.StatusBadRequest, "invalidValue")
		e.call("PATCH", "/Users/"+id, map[string]any{"Operations": []any{}}).wantError(t, http.StatusBadRequest, "invalidSyntax")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "active", "maybe"))).wantError(t, http.StatusBadRequest, "invalidValue")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "emails[type eq \"work\" or primary eq true].value", "a@b.c"),
			op("remove", "emails", nil), op("add", "emails[value co \"x\"].type", "work"))).wantError(t, http.StatusBadRequest, "noTarget")

		deep := `userName eq "a"`
		for range 25 {
			deep = "not (" + deep + ")"
		}
		for _, f := range []string{deep, `userName eq "` + strings.Repeat("x", 300) + `"`, `userName eq`, `userName xx "a"`, `title eq "x"`, `meta.created gt "yesterday"`, `active co "t"`, `name.givenName eq "a"`} {
			e.call("GET", "/Users?filter="+escape(f), nil).wantError(t, http.StatusBadRequest, "invalidFilter")
		}
		e.call("GET", "/Users?sortBy=title", nil).wantError(t, http.StatusBadRequest, "invalidValue")
		e.call("GET", "/Users?sortOrder=up", nil).wantError(t, http.StatusBadRequest, "invalidValue")
	})
}

// TestPatchForms: every PATCH form RFC 7644 §3.5.2 allows, answered 200
// with the resource.
func TestPatchForms(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		id := e.createUser("pat", "pat@example.com")
		r := e.call("PATCH", "/Users/"+id, patchBody(
			op("replace", "emails[type eq \"work\"].value", "pat.new@example.com"),
			op("Replace", "name.familyName", "Smith"),
			op("replace", "", map[string]any{"name.givenName": "Patricia", "preferredLanguage": "de"}),
			op("add", "phoneNumbers", []any{map[string]any{"value": "+4917612345678", "type": "mobile"}}),
			op("add", scim.SchemaRoster+":nicknames", []any{"P"}),
			op("replace", "", map[string]any{scim.SchemaRoster: map[string]any{"roaming": "True", "ringTo": "+4930999888"}}),
			op("replace", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "E-1"), // not kept: ignored
			op("add", "title", "Boss"), // not kept: ignored
		)).want(t, http.StatusOK)
		if r.str("name.formatted") != "Patricia Smith" {
			t.Errorf("name %q", r.str("name.formatted"))
		}
		if r.body["emails"].([]any)[0].(map[string]any)["value"] != "pat.new@example.com" || r.str("preferredLanguage") != "de" {
			t.Errorf("after patch %s", r.raw)
		}
		ext := r.ext()
		if ext["roaming"] != true || ext["ringTo"] != "+4930999888" || !slices.Equal(ext["nicknames"].([]any), []any{"P"}) {
			t.Errorf("extension %v", ext)
		}
		if phones := r.body["phoneNumbers"].([]any); len(phones) != 1 {
			t.Errorf("phones %v", phones)
		}
		r = e.call("PATCH", "/Users/"+id, patchBody(op("remove", "phoneNumbers[type eq \"mobile\"]", nil),
			op("remove", scim.SchemaRoster+":nicknames", nil))).want(t, http.StatusOK)
		if len(r.body["phoneNumbers"].([]any)) != 0 || len(r.ext()["nicknames"].([]any)) != 0 {
			t.Errorf("after remove %s", r.raw)
		}
		// Removing the only contact is refused by the core's rule, naming the attribute.
		r = e.call("PATCH", "/Users/"+id, patchBody(op("remove", "emails", nil)))
		r.wantError(t, http.StatusBadRequest, "invalidValue")
		if !contains(r.str("detail"), "emails") {
			t.Errorf("detail %q", r.str("detail"))
		}
		// Nothing changed by the refused request.
		if g := e.call("GET", "/Users/"+id, nil); len(g.body["emails"].([]any)) != 1 {
			t.Errorf("refused PATCH changed the user: %s", g.raw)
		}
		// A mobile that is not a phone number.
		e.call("PATCH", "/Users/"+id, patchBody(op("add", "phoneNumbers[type eq \"mobile\"].value", "call me"))).wantError(t, http.StatusBadRequest, "invalidValue")
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func escape(s string) string { return url.QueryEscape(s) }
