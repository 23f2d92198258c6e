package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
)

// auditTotal is the number of events in the tenant's audit log.
func (e *env) auditTotal() int {
	e.t.Helper()
	p, err := e.svc.ListAudit(context.Background(), roster.SystemActor(e.tenant.ID), roster.AuditFilter{PerPage: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Total
}

// unchanged checks that a failed request left the resource at path and the
// audit log as they were.
func (e *env) unchanged(t *testing.T, path string, before reply, audit int) {
	t.Helper()
	after := e.call("GET", path, nil).want(t, http.StatusOK)
	if after.raw != before.raw {
		t.Errorf("%s changed by a failed request:\nbefore %s\nafter  %s", path, before.raw, after.raw)
	}
	if n := e.auditTotal(); n != audit {
		t.Errorf("audit log: %d events, was %d: a failed request wrote some", n, audit)
	}
}

// TestPatchAllOrNothing: a PUT or PATCH that needs several of the core's
// changes makes all of them or none; one that fails on its last operation
// changes nothing, audit log included.
func TestPatchAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		other := e.createUser("taken", "taken@acme.example")
		e.call("PATCH", "/Users/"+other, patchBody(op("replace", scim.SchemaRoster+":agentNumber", 7))).want(t, http.StatusOK)
		id := e.createUser("ann", "ann@acme.example")
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "active", false))).want(t, http.StatusOK)
		path := "/Users/" + id
		gid := e.call("POST", "/Groups", map[string]any{"displayName": "Day shift"}).want(t, http.StatusCreated).str("id")

		for name, tc := range map[string]struct {
			path   string
			method string
			body   any
			status int
		}{
			// The reactivation and the rename would succeed; the agent
			// number is taken, found in the update's transaction.
			"user: reactivate, rename, taken agent number": {path, "PATCH", patchBody(
				op("replace", "active", "True"),
				op("Replace", "displayName", "Ann Other"),
				op("replace", scim.SchemaRoster+":agentNumber", 7)), http.StatusConflict},
			"user: rename, deactivate, external id too long": {path, "PATCH", patchBody(
				op("replace", "name.givenName", "Anna"),
				op("replace", "active", true),
				op("replace", "externalId", strings.Repeat("x", 300))), http.StatusBadRequest},
			"user: PUT reactivating with a taken agent number": {path, "PUT", map[string]any{"schemas": []string{scim.SchemaUser},
				"userName": "ann", "active": true, scim.SchemaRoster: map[string]any{"agentNumber": 7}}, http.StatusConflict},
			"group: rename, add a member, add nobody": {"/Groups/" + gid, "PATCH", patchBody(
				op("replace", "displayName", "Night shift"),
				op("add", "members", []any{map[string]any{"value": other}}),
				op("add", "members", []any{map[string]any{"value": "999999"}})), http.StatusBadRequest},
		} {
			t.Run(name, func(t *testing.T) {
				before := e.call("GET", tc.path, nil).want(t, http.StatusOK)
				audit := e.auditTotal()
				r := e.call(tc.method, tc.path, tc.body)
				r.want(t, tc.status)
				e.unchanged(t, tc.path, before, audit)
				e.unchanged(t, "/Users/"+other, e.call("GET", "/Users/"+other, nil), audit)
			})
		}
	})
}

// TestConcurrentIfMatch: PATCHes sent at once with the same If-Match, to a
// user and to a group: exactly one wins, the others answer 412.
func TestConcurrentIfMatch(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		const racers = 4
		gid := e.call("POST", "/Groups", map[string]any{"displayName": "Race"}).want(t, http.StatusCreated).str("id")
		uid := e.createUser("target", "target@acme.example")
		for round := range 5 {
			var users []string // new ones each round: adding a member twice changes nothing
			for i := range racers {
				name := fmt.Sprintf("racer%d.%d", round, i)
				users = append(users, e.createUser(name, name+"@acme.example"))
			}
			for _, target := range []struct {
				path string
				body func(i int) any
			}{
				{"/Groups/" + gid, func(i int) any {
					return patchBody(op("add", "members", []any{map[string]any{"value": users[i]}}))
				}},
				{"/Users/" + uid, func(i int) any {
					return patchBody(op("replace", "displayName", fmt.Sprintf("Racer %d.%d", round, i)))
				}},
			} {
				etag := e.call("GET", target.path, nil).want(t, http.StatusOK).header.Get("ETag")
				statuses := make([]int, racers)
				var start, done sync.WaitGroup
				start.Add(1)
				for i := range racers {
					done.Add(1)
					go func() {
						defer done.Done()
						start.Wait()
						statuses[i] = e.call("PATCH", target.path, target.body(i), "If-Match: "+etag).status
					}()
				}
				start.Done()
				done.Wait()
				won := 0
				for _, st := range statuses {
					switch st {
					case http.StatusOK:
						won++
					case http.StatusPreconditionFailed:
					default:
						t.Errorf("round %d %s: status %d", round, target.path, st)
					}
				}
				if won != 1 {
					t.Fatalf("round %d %s: %d of %d PATCHes with the same If-Match won (%v), want exactly 1", round, target.path, won, racers, statuses)
				}
			}
		}
	})
}

// TestAttributesOnWrites: attributes and excludedAttributes shape the
// answers of POST, PUT and PATCH too (RFC 7644 §3.9); the ETag and Location
// stay those of the whole resource.
func TestAttributesOnWrites(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.call("POST", "/Users?attributes=userName", userBody("attr.one", "attr.one@acme.example")).want(t, http.StatusCreated)
		if r.str("userName") != "attr.one" || r.str("id") == "" || r.body["emails"] != nil || r.body["name"] != nil {
			t.Errorf("POST ?attributes=userName: %s", r.raw)
		}
		if r.header.Get("ETag") == "" || r.header.Get("Location") == "" {
			t.Errorf("POST ?attributes: ETag %q, Location %q", r.header.Get("ETag"), r.header.Get("Location"))
		}
		id := r.str("id")
		p := e.call("PATCH", "/Users/"+id+"?excludedAttributes=emails", patchBody(op("replace", "displayName", "Attr One"))).want(t, http.StatusOK)
		if p.body["emails"] != nil || p.str("displayName") != "Attr One" || p.header.Get("ETag") == "" {
			t.Errorf("PATCH ?excludedAttributes=emails: %s", p.raw)
		}
		g := e.call("POST", "/Groups?excludedAttributes=members", map[string]any{"displayName": "Attr", "members": []any{map[string]any{"value": id}}}).want(t, http.StatusCreated)
		if _, ok := g.body["members"]; ok || g.str("displayName") != "Attr" {
			t.Errorf("POST /Groups ?excludedAttributes=members: %s", g.raw)
		}
	})
}

// TestListAndGetVersion: a user's version is the same in a list and in a
// GET, so an If-Match taken from a list page is good for a PATCH.
func TestListAndGetVersion(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		id := e.createUser("same.version", "same.version@acme.example")
		list := e.call("GET", "/Users?filter="+escape(`userName eq "same.version"`), nil).want(t, http.StatusOK)
		res, _ := list.body["Resources"].([]any)
		if len(res) != 1 {
			t.Fatalf("list: %s", list.raw)
		}
		listed := res[0].(map[string]any)["meta"].(map[string]any)["version"]
		got := e.call("GET", "/Users/"+id, nil).want(t, http.StatusOK)
		if listed != got.str("meta.version") || got.header.Get("ETag") != listed {
			t.Errorf("version in the list %v, in GET %q (ETag %q)", listed, got.str("meta.version"), got.header.Get("ETag"))
		}
		e.call("PATCH", "/Users/"+id, patchBody(op("replace", "displayName", "Same Version")), "If-Match: "+listed.(string)).want(t, http.StatusOK)
	})
}

// TestGroupGrantRule: moving members through a group's PATCH is acting on
// them: a provisioner may not move an Admin (someone more powerful), and a
// PATCH that also moves someone it may is refused whole.
func TestGroupGrantRule(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		sys := roster.SystemActor(e.tenant.ID)
		_, err := e.svc.CreateRole(context.Background(), sys, roster.RoleInput{Key: roster.Some("provisioner"), Name: roster.Some("Provisioner"),
			Permissions:     roster.Some([]string{roster.PermUsersView, roster.PermUsersManage, roster.PermGroupsManage}),
			AssignableRoles: roster.Some([]string{roster.RoleUser, roster.RoleAgent})})
		if err != nil {
			t.Fatal(err)
		}
		admin := userBody("real.admin", "real.admin@acme.example")
		admin[scim.SchemaRoster] = map[string]any{"roles": []string{"admin"}}
		adminID := e.call("POST", "/Users", admin).want(t, http.StatusCreated).str("id")
		plain := e.createUser("plain.member", "plain.member@acme.example")
		e.token = e.makeToken("provisioner")
		gid := e.call("POST", "/Groups", map[string]any{"displayName": "Escalation"}).want(t, http.StatusCreated).str("id")
		before := e.call("GET", "/Groups/"+gid, nil).want(t, http.StatusOK)
		audit := e.auditTotal()
		e.call("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": plain}, map[string]any{"value": adminID}}))).
			wantError(t, http.StatusForbidden, "")
		e.unchanged(t, "/Groups/"+gid, before, audit)
		e.call("POST", "/Groups", map[string]any{"displayName": "Escalation 2", "members": []any{map[string]any{"value": adminID}}}).
			wantError(t, http.StatusForbidden, "")
		if r := e.call("GET", "/Groups?filter="+escape(`displayName eq "Escalation 2"`), nil).want(t, http.StatusOK); r.total() != 0 {
			t.Errorf("a refused create left its group: %s", r.raw)
		}
		e.call("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": plain}}))).want(t, http.StatusOK)
	})
}
