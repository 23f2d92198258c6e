package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// POST /api/v1/users/bulk with an Environment Manager's token: the Admin
// among the selection is refused with the reason, the Operator is done; a
// dry run changes nothing; a filter selects; bad input is a 400 naming the
// field and does nothing.
func TestBulkUsersEndpoint(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		ctx := t.Context()
		tn, err := svc.CreateTenant(ctx, "bulkapi", "Bulk API")
		if err != nil {
			t.Fatal(err)
		}
		sys := roster.SystemActor(tn.ID)
		_, em, err := svc.CreateToken(ctx, sys, roster.TokenInput{Name: "em", Role: roster.RoleEnvironmentManager})
		if err != nil {
			t.Fatal(err)
		}
		groups, _ := svc.ListGroups(ctx, sys)
		mk := func(username, role string) *roster.User {
			u, err := svc.CreateUser(ctx, sys, roster.UserInput{Username: roster.Some(username), Name: roster.Some(username),
				Email: roster.Some(username + "@example.com"), Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID),
				Roles: roster.Some([]string{role})})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		ada, otto, oona := mk("ada", "admin"), mk("otto", "operator"), mk("oona", "operator")
		call := func(body any) (int, roster.BulkResult, []byte) {
			t.Helper()
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", url+"/api/v1/users/bulk", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+em)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			var out roster.BulkResult
			json.Unmarshal(raw, &out)
			return res.StatusCode, out, raw
		}
		status := func(u *roster.User) string {
			got, err := svc.User(ctx, sys, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}

		for _, dry := range []bool{true, false} {
			code, res, raw := call(map[string]any{"action": "deactivate", "ids": []int64{ada.ID, otto.ID}, "dry_run": dry})
			if code != 200 || len(res.Done) != 1 || res.Done[0].ID != otto.ID || len(res.Refused) != 1 ||
				res.Refused[0].ID != ada.ID || res.Refused[0].Reason != roster.ReasonTargetMorePowerful || res.DryRun != dry {
				t.Fatalf("dry run %v: %d %s", dry, code, raw)
			}
			if want := map[bool]string{true: "active", false: "deactivated"}[dry]; status(otto) != want {
				t.Fatalf("after dry run %v otto is %s", dry, status(otto))
			}
		}
		if status(ada) != "active" {
			t.Fatalf("the refused admin is %s", status(ada))
		}

		code, res, raw := call(map[string]any{"action": "deactivate", "filter": map[string]string{"role": "operator", "status": "active"}})
		if code != 200 || res.Total != 1 || len(res.Done) != 1 || res.Done[0].ID != oona.ID {
			t.Fatalf("by filter: %d %s", code, raw)
		}

		code, _, raw = call(map[string]any{"action": "promote", "ids": []int64{ada.ID}})
		var p struct {
			Errors []struct{ Field string }
		}
		json.Unmarshal(raw, &p)
		if code != 400 || len(p.Errors) == 0 || p.Errors[0].Field != "action" {
			t.Fatalf("an unknown action: %d %s", code, raw)
		}
		if code, _, raw := call(map[string]any{"action": "set_role", "role": "admin", "ids": []int64{otto.ID}}); code != 403 {
			t.Fatalf("an environment manager giving Admin in bulk: %d %s", code, raw)
		}
	})
}
