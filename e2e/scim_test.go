package e2e

// Black-box test of the binary's SCIM door: the commands that prepare a
// tenant for an identity provider, then /scim/v2 over HTTP on both databases.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/testdb"
)

func TestBinarySCIM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := lcBuild(t)
	t.Run("sqlite", func(t *testing.T) {
		binarySCIM(t, bin, []string{"ROSTER_DATA=" + filepath.Join(t.TempDir(), "data"), "ROSTER_LOG_LEVEL=warn"})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, drop := testdb.NewSchema(t)
		t.Cleanup(drop)
		binarySCIM(t, bin, []string{"ROSTER_DB=" + dsn, "ROSTER_LOG_LEVEL=warn"})
	})
}

func binarySCIM(t *testing.T, bin string, env []string) {
	lcRun(t, bin, env, "tenant", "create", "--slug", "acme", "--name", "Acme")
	lcRun(t, bin, env, "tenant", "create", "--slug", "globex", "--name", "Globex")
	if out := lcRun(t, bin, env, "scim", "defaults", "--tenant", "acme", "--role", "agent"); !strings.Contains(out[len(out)-1], "role agent") {
		t.Fatalf("scim defaults printed %q", out)
	}
	if msg := runFail(t, bin, env, "scim", "defaults", "--tenant", "acme", "--role", "wizard"); !strings.Contains(msg, "scim_default_role") {
		t.Fatalf("an unknown default role failed with %q", msg)
	}
	tok := func(tenant, role string) string {
		out := lcRun(t, bin, env, "token", "create", "--tenant", tenant, "--name", "scim "+role, "--role", role)
		return out[len(out)-1]
	}
	admin, readOnly, other := tok("acme", "admin"), tok("acme", "read_only"), tok("globex", "admin")
	srv := lcServe(t, bin, env)

	call := func(token, method, path string, body any) (int, string, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, srv.url+"/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, res.Header.Get("Content-Type"), m
	}
	if st, ct, m := call(admin, "GET", "/ServiceProviderConfig", nil); st != 200 || ct != "application/scim+json" || m["patch"] == nil {
		t.Fatalf("ServiceProviderConfig: %d %s %v", st, ct, m)
	}
	if st, _, m := call(readOnly, "GET", "/Users", nil); st != 403 || m["status"] != "403" {
		t.Fatalf("read_only token: %d %v", st, m)
	}
	st, _, u := call(admin, "POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "okta.user", "externalId": "00u1", "emails": []any{map[string]any{"value": "okta.user@acme.example", "type": "work"}}})
	if st != 201 {
		t.Fatalf("create: %d %v", st, u)
	}
	id := u["id"].(string)
	ext := u["urn:roster:params:scim:schemas:extension:roster:2.0:User"].(map[string]any)
	if roles := ext["roles"].([]any); len(roles) != 1 || roles[0] != "agent" {
		t.Errorf("the default role was not applied: %v", ext)
	}
	if st, _, l := call(admin, "GET", "/Users?filter="+url.QueryEscape(`externalId eq "00u1"`), nil); st != 200 || l["totalResults"] != float64(1) {
		t.Errorf("lookup: %d %v", st, l)
	}
	if st, _, m := call(admin, "PATCH", "/Users/"+id, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": false}}}}); st != 200 || m["active"] != false {
		t.Errorf("deactivate: %d %v", st, m)
	}
	if st, _, _ := call(other, "GET", "/Users/"+id, nil); st != 404 {
		t.Errorf("another tenant's token read the user: %d", st)
	}
	// The REST API sees the same user, deactivated.
	var got apiUser
	srv.want(t, 200, admin, "GET", "/api/v1/users/"+id, nil, &got)
	if got.Username != "okta.user" || got.Status != "deactivated" {
		t.Errorf("over the API: %+v", got)
	}
}
