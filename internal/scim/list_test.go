package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
)

// seedUsers makes users u00 ... u(n-1) with emails uNN@example.com (every
// third one at example.org), external ids ext-NN on the even ones.
func seedUsers(t testing.TB, e *env, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		body := userBody(fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d@example.%s", i, map[bool]string{true: "org", false: "com"}[i%3 == 0]))
		if i%2 == 0 {
			body["externalId"] = fmt.Sprintf("ext-%02d", i)
		}
		body["name"] = map[string]any{"formatted": fmt.Sprintf("Person %02d", n-i)}
		ids = append(ids, e.call("POST", "/Users", body).want(t, http.StatusCreated).str("id"))
	}
	return ids
}

func TestFilters(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ids := seedUsers(t, e, 12)
		e.call("PATCH", "/Users/"+ids[5], patchBody(op("replace", "active", false))).want(t, http.StatusOK)
		e.call("PATCH", "/Users/"+ids[7], patchBody(op("replace", scim.SchemaRoster+":roles", []any{"agent", "scorer"}),
			op("replace", scim.SchemaRoster+":agentNumber", 77))).want(t, http.StatusOK)
		pick := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, ids[i])
			}
			return out
		}
		all := make([]int, 12)
		for i := range all {
			all[i] = i
		}
		except := func(drop ...int) []string {
			return pick(slices.DeleteFunc(slices.Clone(all), func(i int) bool { return slices.Contains(drop, i) })...)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		cases := []struct {
			filter string
			want   []string
		}{
			{`userName eq "U03"`, pick(3)},
			{`USERNAME Eq "u03"`, pick(3)},
			{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "u03"`, pick(3)},
			{`userName ne "u03"`, except(3)},
			{`userName sw "u1"`, pick(10, 11)},
			{`userName co "1"`, pick(1, 10, 11)},
			{`emails.value ew "@example.org"`, pick(0, 3, 6, 9)},
			{`emails co "02@exa"`, pick(2)},
			{`emails[type eq "work" and value co "example.org"]`, pick(0, 3, 6, 9)},
			{`emails[type eq "home"]`, nil},
			{`emails[value sw "u0"] and userName ew "4"`, pick(4)},
			{`externalId eq "ext-04"`, pick(4)},
			{`externalId eq "EXT-04"`, nil},
			{`externalId pr`, pick(0, 2, 4, 6, 8, 10)},
			{`not (externalId pr)`, pick(1, 3, 5, 7, 9, 11)},
			{`externalId pr and not (userName eq "u00" or userName eq "u02")`, pick(4, 6, 8, 10)},
			{`(userName eq "u01" or userName eq "u02") and active eq true`, pick(1, 2)},
			{`active eq false`, pick(5)},
			{`active ne true`, pick(5)},
			{`displayName eq "person 12"`, pick(0)},
			{`name.formatted sw "Person 0"`, pick(3, 4, 5, 6, 7, 8, 9, 10, 11)},
			{`meta.created lt "` + future + `"`, pick(all...)},
			{`meta.created gt "` + future + `"`, nil},
			{`meta.lastModified ge "2000-01-01T00:00:00Z" and userName eq "u01"`, pick(1)},
			{`id eq "` + ids[2] + `"`, pick(2)},
			{`id eq "not-a-number"`, nil},
			{`urn:roster:params:scim:schemas:extension:roster:2.0:User:roles eq "scorer"`, pick(7)},
			{`urn:roster:params:scim:schemas:extension:roster:2.0:User:agentNumber eq 77`, pick(7)},
			{`urn:roster:params:scim:schemas:extension:roster:2.0:User:agentNumber pr`, pick(7)},
			{`phoneNumbers pr`, nil},
			{`userName co "%"`, nil},
			{`userName co "_"`, nil},
			{`userName eq "u0'1"`, nil},
		}
		for _, c := range cases {
			r := e.call("GET", "/Users?count=50&filter="+escape(c.filter), nil)
			if r.status != http.StatusOK {
				t.Errorf("%s: %d %s", c.filter, r.status, r.raw)
				continue
			}
			got := r.ids()
			if !slices.Equal(got, c.want) || r.total() != len(c.want) {
				t.Errorf("%s: %v (total %d), want %v", c.filter, got, r.total(), c.want)
			}
		}
		// The same query as a POST .search.
		r := e.call("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": `emails.value ew "@example.org"`, "startIndex": 2, "count": 2, "attributes": []string{"userName"}}).want(t, http.StatusOK)
		if got := r.ids(); !slices.Equal(got, pick(3, 6)) || r.total() != 4 {
			t.Errorf(".search: %s", r.raw)
		}
		first := r.body["Resources"].([]any)[0].(map[string]any)
		if _, ok := first["emails"]; ok || first["userName"] != "u03" {
			t.Errorf("attributes=userName: %v", first)
		}
		e.call("POST", "/Users/.search", map[string]any{"filter": "x"}).wantError(t, http.StatusBadRequest, "invalidSyntax")
	})
}

func TestPagingAndSorting(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ids := seedUsers(t, e, 9)
		// count=0: the total only.
		r := e.call("GET", "/Users?count=0", nil).want(t, http.StatusOK)
		if r.total() != 9 || len(r.ids()) != 0 {
			t.Errorf("count=0: %s", r.raw)
		}
		// Pages of 4 in id order cover every user once.
		var seen []string
		for start := 1; start <= 9; start += 4 {
			p := e.call("GET", "/Users?startIndex="+strconv.Itoa(start)+"&count=4", nil).want(t, http.StatusOK)
			if p.total() != 9 || p.body["startIndex"] != float64(start) || p.body["itemsPerPage"] != float64(len(p.ids())) {
				t.Errorf("page %d: %s", start, p.raw)
			}
			seen = append(seen, p.ids()...)
		}
		if !slices.Equal(seen, ids) {
			t.Errorf("pages %v, want %v", seen, ids)
		}
		if p := e.call("GET", "/Users?startIndex=50", nil).want(t, http.StatusOK); len(p.ids()) != 0 || p.total() != 9 {
			t.Errorf("past the end: %s", p.raw)
		}
		// displayName ascending is the reverse of creation here.
		byName := e.call("GET", "/Users?sortBy=displayName", nil).want(t, http.StatusOK).ids()
		rev := slices.Clone(ids)
		slices.Reverse(rev)
		if !slices.Equal(byName, rev) {
			t.Errorf("sortBy=displayName %v", byName)
		}
		desc := e.call("GET", "/Users?sortBy=userName&sortOrder=descending", nil).want(t, http.StatusOK).ids()
		if !slices.Equal(desc, rev) {
			t.Errorf("userName descending %v", desc)
		}
		// Pages of 2, from both ends, in every order add up to the whole list.
		for _, order := range []string{"", "sortBy=userName&sortOrder=descending&", "sortBy=displayName&", "sortBy=emails.value&", "sortBy=externalId&"} {
			whole := e.call("GET", "/Users?"+order+"count=100", nil).want(t, http.StatusOK).ids()
			var paged []string
			for start := 1; start <= 9; start += 2 {
				paged = append(paged, e.call("GET", "/Users?"+order+"startIndex="+strconv.Itoa(start)+"&count=2", nil).want(t, http.StatusOK).ids()...)
			}
			if !slices.Equal(paged, whole) || len(whole) != 9 {
				t.Errorf("%q: pages %v, whole %v", order, paged, whole)
			}
		}
		// excludedAttributes drops what it names; id and schemas stay.
		one := e.call("GET", "/Users/"+ids[0]+"?excludedAttributes=emails,name.givenName,"+scim.SchemaRoster+":roles,id", nil).want(t, http.StatusOK)
		if _, ok := one.body["emails"]; ok || one.str("name.givenName") != "" || one.str("name.formatted") == "" || one.str("id") != ids[0] {
			t.Errorf("excludedAttributes: %s", one.raw)
		}
		if _, ok := one.ext()["roles"]; ok {
			t.Error("roles not excluded")
		}
		some := e.call("GET", "/Users/"+ids[0]+"?attributes=emails.value,"+scim.SchemaRoster+":homeGroup", nil).want(t, http.StatusOK)
		if some.str("userName") != "" || some.ext()["homeGroup"] == nil || len(some.body) != 4 {
			t.Errorf("attributes: %s", some.raw)
		}
	})
}

// TestTenantIsolation: another tenant's users and groups answer 404 to
// every method, and never show up in lists.
func TestTenantIsolation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		other := tenantEnv(t, e.svc, e.url, "other")
		theirs := other.createUser("stranger", "stranger@other.example")
		theirGroup := other.call("POST", "/Groups", map[string]any{"displayName": "Theirs"}).want(t, http.StatusCreated).str("id")
		mine := e.createUser("mine", "mine@acme.example")
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			var body any
			switch m {
			case "PUT":
				body = userBody("stranger", "x@acme.example")
			case "PATCH":
				body = patchBody(op("replace", "active", false))
			}
			e.call(m, "/Users/"+theirs, body).wantError(t, http.StatusNotFound, "")
			if m == "PUT" {
				body = map[string]any{"displayName": "Mine now"}
			}
			e.call(m, "/Groups/"+theirGroup, body).wantError(t, http.StatusNotFound, "")
		}
		if r := e.call("GET", "/Users?filter="+escape(`userName eq "stranger"`), nil); r.total() != 0 {
			t.Errorf("another tenant's user listed: %s", r.raw)
		}
		if r := e.call("GET", "/Users", nil); !slices.Equal(r.ids(), []string{mine}) {
			t.Errorf("users %v", r.ids())
		}
		// Nor can a group of ours take in their user.
		ours := e.call("POST", "/Groups", map[string]any{"displayName": "Ours"}).want(t, http.StatusCreated).str("id")
		e.call("PATCH", "/Groups/"+ours, patchBody(op("add", "members", []any{map[string]any{"value": theirs}}))).wantError(t, http.StatusBadRequest, "invalidValue")
		if r := other.call("GET", "/Users/"+theirs, nil).want(t, http.StatusOK); r.str("userName") != "stranger" {
			t.Errorf("their user changed: %s", r.raw)
		}
	})
}

// TestGrantRule: SCIM creates and changes users through the core's normal
// calls, so a token whose role may not grant Admin cannot make an Admin.
func TestGrantRule(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		sys := roster.SystemActor(e.tenant.ID)
		_, err := e.svc.CreateRole(context.Background(), sys, roster.RoleInput{Key: roster.Some("provisioner"), Name: roster.Some("Provisioner"),
			Permissions:     roster.Some([]string{roster.PermUsersView, roster.PermUsersManage, roster.PermGroupsManage}),
			AssignableRoles: roster.Some([]string{roster.RoleUser, roster.RoleAgent})})
		if err != nil {
			t.Fatal(err)
		}
		e.token = e.makeToken("provisioner")
		admin := userBody("would.be.admin", "wba@acme.example")
		admin[scim.SchemaRoster] = map[string]any{"roles": []string{"admin"}}
		e.call("POST", "/Users", admin).wantError(t, http.StatusForbidden, "")
		if r := e.call("GET", "/Users?filter="+escape(`userName eq "would.be.admin"`), nil); r.total() != 0 {
			t.Errorf("refused create left a user: %s", r.raw)
		}
		id := e.createUser("plain", "plain@acme.example")
		e.call("PATCH", "/Users/"+id, patchBody(op("add", scim.SchemaRoster+":roles", []any{"admin"}))).wantError(t, http.StatusForbidden, "")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", scim.SchemaRoster+":roles", []any{"agent"}))).want(t, http.StatusOK)
	})
}

// TestDefaults: a create without home group, role or language takes the
// tenant's provisioning defaults.
func TestDefaults(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		sys := roster.SystemActor(e.tenant.ID)
		root := e.call("GET", "/Groups", nil).want(t, http.StatusOK).ids()[0]
		rootID, _ := strconv.ParseInt(root, 10, 64)
		team, err := e.svc.CreateGroup(ctx, sys, roster.GroupInput{Name: roster.Some("Team A"), ParentID: roster.Some(rootID)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetSCIMSettings(ctx, sys, roster.SCIMSettings{DefaultGroup: team.ID, DefaultRole: "agent", Language: "de", GroupParent: team.ID}); err != nil {
			t.Fatal(err)
		}
		r := e.call("POST", "/Users", userBody("newbie", "newbie@acme.example")).want(t, http.StatusCreated)
		if ext := r.ext(); ext["homeGroup"] != strconv.FormatInt(team.ID, 10) || !slices.Equal(ext["roles"].([]any), []any{"agent"}) || r.str("preferredLanguage") != "de" {
			t.Errorf("defaults not applied: %s", r.raw)
		}
		g := e.call("POST", "/Groups", map[string]any{"displayName": "Pushed"}).want(t, http.StatusCreated).str("id")
		gid, _ := strconv.ParseInt(g, 10, 64)
		if pushed, err := e.svc.Group(ctx, sys, gid); err != nil || pushed.ParentID == nil || *pushed.ParentID != team.ID {
			t.Errorf("pushed group's parent: %+v %v", pushed, err)
		}
		if err := e.svc.SetSCIMSettings(ctx, sys, roster.SCIMSettings{DefaultGroup: 99999, DefaultRole: "nope", Language: "xx"}); roster.ErrorCode(err) != roster.EInvalid || len(roster.ErrorFields(err)) != 3 {
			t.Errorf("bad settings: %v", err)
		}
		// The tenant's other settings are untouched.
		if ten, _ := e.svc.Tenant(ctx, sys); len(ten.Settings.Languages) != 2 {
			t.Errorf("settings %+v", ten.Settings)
		}
	})
}
