package scim_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
)

// TestOktaSequence replays the requests Okta's SCIM 2.0 integration sends
// (Okta's "SCIM 2.0 protocol reference"): a userName lookup before the
// create, the create, a PUT, deactivation by PATCH, and group push.
func TestOktaSequence(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		lookup := e.call("GET", "/Users?filter="+escape(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", nil).want(t, http.StatusOK)
		if lookup.total() != 0 || len(lookup.ids()) != 0 {
			t.Fatalf("lookup before create: %s", lookup.raw)
		}
		created := e.call("POST", "/Users", map[string]any{
			"schemas":     []string{scim.SchemaUser},
			"userName":    "test.user@okta.local",
			"name":        map[string]any{"givenName": "Test", "familyName": "User"},
			"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
			"displayName": "Test User",
			"locale":      "en-US",
			"externalId":  "00ujl29u0le5T6Aj10h7",
			"groups":      []any{},
			"password":    "1mz050nq-Long-Enough",
			"active":      true,
		}).want(t, http.StatusCreated)
		id := created.str("id")
		if created.str("name.formatted") != "Test User" || created.str("preferredLanguage") != "en" {
			t.Errorf("created %s", created.raw)
		}
		// The lookup finds them now, in any case of the userName.
		again := e.call("GET", "/Users?filter="+escape(`userName eq "TEST.user@okta.local"`)+"&startIndex=1&count=100", nil).want(t, http.StatusOK)
		if !slices.Equal(again.ids(), []string{id}) || again.total() != 1 {
			t.Errorf("lookup after create: %s", again.raw)
		}
		e.call("GET", "/Users/"+id, nil).want(t, http.StatusOK)

		// Okta's PUT sends the whole profile back, id and meta included.
		put := cloneMap(created.body)
		put["name"] = map[string]any{"givenName": "Another", "familyName": "User"}
		put["displayName"] = "Another User"
		put["emails"] = []any{map[string]any{"primary": true, "value": "another@okta.local", "type": "work"}}
		updated := e.call("PUT", "/Users/"+id, put).want(t, http.StatusOK)
		if updated.str("name.formatted") != "Another User" || updated.body["emails"].([]any)[0].(map[string]any)["value"] != "another@okta.local" {
			t.Errorf("after PUT: %s", updated.raw)
		}

		off := e.call("PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{"active": false}))).want(t, http.StatusOK)
		if off.body["active"] != false {
			t.Errorf("after deactivation: %s", off.raw)
		}
		on := e.call("PATCH", "/Users/"+id, patchBody(op("replace", "", map[string]any{"active": true}))).want(t, http.StatusOK)
		if on.body["active"] != true {
			t.Errorf("after reactivation: %s", on.raw)
		}

		// Group push: create, rename (with the id in the value), members in and out.
		other := e.createUser("second", "second@okta.local")
		g := e.call("POST", "/Groups", map[string]any{"schemas": []string{scim.SchemaGroup}, "displayName": "Test SCIMv2", "members": []any{}}).
			want(t, http.StatusCreated)
		gid := g.str("id")
		if g.header.Get("Location") != e.url+"/scim/v2/Groups/"+gid {
			t.Errorf("group Location %q", g.header.Get("Location"))
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("replace", "", map[string]any{"id": gid, "displayName": "Tier 2"}))).want(t, http.StatusOK)
		added := e.call("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{
			map[string]any{"value": id, "display": "test.user@okta.local"},
			map[string]any{"value": other, "display": "second@okta.local"},
		}))).want(t, http.StatusOK)
		if added.str("displayName") != "Tier 2" || len(memberValues(added)) != 2 {
			t.Errorf("after add: %s", added.raw)
		}
		user := e.call("GET", "/Users/"+id, nil).want(t, http.StatusOK)
		if user.ext()["homeGroup"] != gid || user.body["groups"].([]any)[0].(map[string]any)["display"] != "Tier 2" {
			t.Errorf("member's home group: %s", user.raw)
		}
		removed := e.call("PATCH", "/Groups/"+gid, patchBody(op("remove", `members[value eq "`+id+`"]`, nil))).want(t, http.StatusOK)
		if got := memberValues(removed); !slices.Equal(got, []string{other}) {
			t.Errorf("members after remove %v", got)
		}
		d, _ := e.svc.SCIMDefaults(context.Background(), roster.SystemActor(e.tenant.ID))
		if user := e.call("GET", "/Users/"+id, nil); user.ext()["homeGroup"] != strconv.FormatInt(d.DefaultGroup, 10) {
			t.Errorf("a removed member goes to the default group: %s", user.raw)
		}
		// Okta's import reads groups page by page.
		list := e.call("GET", "/Groups?startIndex=1&count=100", nil).want(t, http.StatusOK)
		if list.total() != 2 || !slices.Contains(list.ids(), gid) {
			t.Errorf("groups %s", list.raw)
		}
		e.call("DELETE", "/Groups/"+gid, nil).wantError(t, http.StatusConflict, "") // a member left
		e.call("PATCH", "/Groups/"+gid, patchBody(op("replace", "members", []any{}))).want(t, http.StatusOK)
		e.call("DELETE", "/Groups/"+gid, nil).want(t, http.StatusNoContent)
		e.call("GET", "/Groups/"+gid, nil).wantError(t, http.StatusNotFound, "")
	})
}

// TestEntraSequence replays what Microsoft Entra ID's provisioning service
// sends (Entra's "Tutorial: Develop and plan provisioning for a SCIM
// endpoint" request examples).
func TestEntraSequence(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.call("GET", "/Users?filter="+escape(`userName eq "Test_User_dfeef4c5@contoso.com"`), nil).want(t, http.StatusOK)
		e.call("GET", "/Users?filter="+escape(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil).want(t, http.StatusOK)
		created := e.call("POST", "/Users", map[string]any{
			"schemas":     []string{scim.SchemaUser, scim.SchemaEnterprise},
			"externalId":  "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
			"userName":    "Test_User_dfeef4c5@contoso.com",
			"active":      true,
			"displayName": "Test User",
			"emails":      []any{map[string]any{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}},
			"meta":        map[string]any{"resourceType": "User"},
			"name":        map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
			"roles":       []any{},
			"title":       "scim tester",
			scim.SchemaEnterprise: map[string]any{"employeeNumber": "99887766", "department": "Sales",
				"manager": map[string]any{"value": "x"}},
		}).want(t, http.StatusCreated)
		id := created.str("id")
		byExt := e.call("GET", "/Users?filter="+escape(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil).want(t, http.StatusOK)
		if !slices.Equal(byExt.ids(), []string{id}) {
			t.Errorf("by externalId: %s", byExt.raw)
		}
		// externalId is case-exact.
		if r := e.call("GET", "/Users?filter="+escape(`externalId eq "0A21F0F2-8d2a-4f8e-bf98-7363c4aed4ef"`), nil); r.total() != 0 {
			t.Errorf("externalId matched in another case: %s", r.raw)
		}
		byMail := e.call("GET", "/Users?filter="+escape(`emails[type eq "work"].value eq "test_user_fd0ea19b@contoso.com"`), nil).want(t, http.StatusOK)
		if !slices.Equal(byMail.ids(), []string{id}) {
			t.Errorf("by work email: %s", byMail.raw)
		}

		r := e.call("PATCH", "/Users/"+id, patchBody(
			op("Replace", `emails[type eq "work"].value`, "updatedEmail@contoso.com"),
			op("Replace", "name.familyName", "updatedFamilyName"),
			op("Add", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "someone"),
			op("Replace", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "Support"),
			op("Replace", scim.SchemaRoster+":roles", []any{"agent"}),
			op("Replace", scim.SchemaRoster+":scoringEnabled", "True"),
		)).want(t, http.StatusOK)
		if r.body["emails"].([]any)[0].(map[string]any)["value"] != "updatedemail@contoso.com" || r.str("name.formatted") != "givenName updatedFamilyName" {
			t.Errorf("after Entra PATCH: %s", r.raw)
		}
		if ext := r.ext(); !slices.Equal(ext["roles"].([]any), []any{"agent"}) || ext["scoringEnabled"] != true {
			t.Errorf("extension after PATCH %v", ext)
		}
		r = e.call("PATCH", "/Users/"+id, patchBody(op("Replace", "userName", "5b50642d@contoso.com"))).want(t, http.StatusOK)
		if r.str("userName") != "5b50642d@contoso.com" {
			t.Errorf("userName %q", r.str("userName"))
		}
		r = e.call("PATCH", "/Users/"+id, patchBody(op("Replace", "active", "False"))).want(t, http.StatusOK)
		if r.body["active"] != false {
			t.Errorf("active after \"False\": %v", r.body["active"])
		}

		// Groups.
		g := e.call("POST", "/Groups", map[string]any{"schemas": []string{scim.SchemaGroup}, "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
			"displayName": "Team Blue", "meta": map[string]any{"resourceType": "Group"}}).want(t, http.StatusCreated)
		gid := g.str("id")
		found := e.call("GET", "/Groups?excludedAttributes=members&filter="+escape(`displayName eq "team blue"`), nil).want(t, http.StatusOK)
		if !slices.Equal(found.ids(), []string{gid}) {
			t.Fatalf("group by displayName: %s", found.raw)
		}
		if _, ok := found.body["Resources"].([]any)[0].(map[string]any)["members"]; ok {
			t.Error("members returned despite excludedAttributes=members")
		}
		one := e.call("GET", "/Groups/"+gid+"?excludedAttributes=members", nil).want(t, http.StatusOK)
		if _, ok := one.body["members"]; ok || one.str("displayName") != "Team Blue" {
			t.Errorf("group without members: %s", one.raw)
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("Replace", "displayName", "Team Green"))).want(t, http.StatusOK)
		two := e.createUser("member2", "member2@contoso.com")
		added := e.call("PATCH", "/Groups/"+gid, patchBody(op("Add", "members", []any{
			map[string]any{"$ref": nil, "value": id}, map[string]any{"$ref": nil, "value": two}}))).want(t, http.StatusOK)
		if got := memberValues(added); len(got) != 2 || added.str("displayName") != "Team Green" {
			t.Errorf("after Add members: %s", added.raw)
		}
		left := e.call("PATCH", "/Groups/"+gid, patchBody(op("Remove", "members", []any{map[string]any{"$ref": nil, "value": id}}))).want(t, http.StatusOK)
		if got := memberValues(left); !slices.Equal(got, []string{two}) {
			t.Errorf("after Remove members: %v", got)
		}
		if r := e.call("GET", "/Groups?filter="+escape(`members[value eq "`+two+`"]`), nil); !slices.Equal(r.ids(), []string{gid}) {
			t.Errorf("groups of a member: %s", r.raw)
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("Add", "members", []any{map[string]any{"value": "999999"}}))).wantError(t, http.StatusBadRequest, "invalidValue")
		e.call("POST", "/Groups", map[string]any{"displayName": "team green"}).wantError(t, http.StatusConflict, "uniqueness")

		e.call("DELETE", "/Users/"+id, nil).want(t, http.StatusNoContent)
		e.call("GET", "/Users/"+id, nil).wantError(t, http.StatusNotFound, "")
	})
}

func memberValues(r reply) []string {
	var out []string
	list, _ := r.body["members"].([]any)
	for _, el := range list {
		out = append(out, el.(map[string]any)["value"].(string))
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestDeactivationEndsSessions: a password sent with the create works, a
// weak one creates nothing, and active=false ends the user's sessions at once.
func TestDeactivationEndsSessions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		weak := userBody("weak.pw", "weak@acme.example")
		weak["password"] = "short"
		r := e.call("POST", "/Users", weak)
		r.wantError(t, http.StatusBadRequest, "invalidValue")
		if !contains(r.str("detail"), "password") {
			t.Errorf("detail %q", r.str("detail"))
		}
		if l := e.call("GET", "/Users?filter="+escape(`userName eq "weak.pw"`), nil); l.total() != 0 {
			t.Error("a refused password left a user behind")
		}
		body := userBody("signs.in", "signs.in@acme.example")
		body["password"] = "Correct-Horse-Battery-9"
		id := e.call("POST", "/Users", body).want(t, http.StatusCreated).str("id")
		in, err := e.svc.SignIn(ctx, roster.SignInInput{Tenant: e.tenant.Slug, Login: "signs.in", Password: "Correct-Horse-Battery-9", IP: "192.0.2.7"})
		if err != nil {
			t.Fatalf("sign-in with the SCIM password: %v", err)
		}
		if _, _, err := e.svc.AuthenticateSession(ctx, in.Token); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "active", false))).want(t, http.StatusOK)
		if _, _, err := e.svc.AuthenticateSession(ctx, in.Token); roster.ErrorCode(err) != roster.EUnauthorized {
			t.Errorf("the session outlived active=false: %v", err)
		}
	})
}

// TestGroupReplaceAndETags: PUT of a group sets its name and members; its
// version changes with its members.
func TestGroupReplaceAndETags(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.createUser("ga", "ga@acme.example"), e.createUser("gb", "gb@acme.example")
		g := e.call("POST", "/Groups", map[string]any{"displayName": "Night shift", "members": []any{map[string]any{"value": a}}}).want(t, http.StatusCreated)
		gid, v1 := g.str("id"), g.header.Get("ETag")
		if got := memberValues(g); !slices.Equal(got, []string{a}) {
			t.Errorf("members on create %v", got)
		}
		e.call("GET", "/Groups/"+gid, nil, "If-None-Match: "+v1).want(t, http.StatusNotModified)
		put := e.call("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.SchemaGroup}, "displayName": "Late shift",
			"members": []any{map[string]any{"value": b}}}, "If-Match: "+v1).want(t, http.StatusOK)
		if put.str("displayName") != "Late shift" || !slices.Equal(memberValues(put), []string{b}) || put.header.Get("ETag") == v1 {
			t.Errorf("after PUT: %s", put.raw)
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": a}})), "If-Match: "+v1).
			wantError(t, http.StatusPreconditionFailed, "")
		// A member moved elsewhere changes the group's version too.
		v2 := put.header.Get("ETag")
		e.call("PATCH", "/Users/"+b, patchBody(op("replace", scim.SchemaRoster+":homeGroup", "1"))).want(t, http.StatusOK)
		if now := e.call("GET", "/Groups/"+gid, nil).header.Get("ETag"); now == v2 {
			t.Error("the version did not change with the members")
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("replace", "id", "77"))).wantError(t, http.StatusBadRequest, "mutability")
		created := put.str("meta.created")
		for f, want := range map[string]int{
			`meta.created ge "2000-01-01T00:00:00Z" and displayName eq "LATE SHIFT"`: 1,
			`meta.created gt "` + created + `"`:                                      0,
			`meta.created ge "` + strings.TrimSuffix(created, "Z") + `+00:00"`:       1, // the same instant, written otherwise
			`displayName co "shift" or displayName sw "acme"`:                        2,
			`not (displayName pr)`:                                                   0,
		} {
			if r := e.call("GET", "/Groups?filter="+escape(f), nil).want(t, http.StatusOK); r.total() != want {
				t.Errorf("groups %s: %d, want %d", f, r.total(), want)
			}
		}
		big := e.call("GET", "/Users?count=5000", nil).want(t, http.StatusOK)
		if n := big.body["itemsPerPage"].(float64); n != 2 {
			t.Errorf("itemsPerPage %v", n)
		}
	})
}
