package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

func TestImportAndCSVLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc, url := accessServer(t, db)
		ctx := t.Context()
		tn, err := svc.CreateTenant(ctx, "bulk", "Bulk")
		if err != nil {
			t.Fatal(err)
		}
		sys := roster.SystemActor(tn.ID)
		token := func(role string) string {
			_, secret, err := svc.CreateToken(ctx, sys, roster.TokenInput{Name: role, Role: role})
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
		admin, readOnly := token("admin"), token("read_only")
		call := func(tok, method, path, accept, ctype, body string) (int, string, string) {
			t.Helper()
			req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header.Get("Content-Type"), string(b)
		}
		total := func() int {
			_, _, body := call(admin, "GET", "/api/v1/users", "", "", "")
			var p struct{ Total int }
			json.Unmarshal([]byte(body), &p)
			return p.Total
		}
		var file strings.Builder
		file.WriteString("username,email,group,roles,agent_ids\n")
		for i := 1; i <= 150; i++ {
			fmt.Fprintf(&file, "u%d,u%d@example.com,Bulk,agent,voice:%d\n", i, i, i)
		}
		bad := strings.Replace(file.String(), "u2@example.com", "u2@", 1)
		status, ctype, body := call(admin, "POST", "/api/v1/users/import", "", "text/csv", bad)
		var prob struct {
			Errors []roster.ImportRowError `json:"errors"`
			Failed int                     `json:"failed"`
		}
		if status != 400 || ctype != "application/problem+json" || json.Unmarshal([]byte(body), &prob) != nil ||
			prob.Failed != 1 || len(prob.Errors) != 1 || prob.Errors[0].Row != 3 || prob.Errors[0].Field != "email" {
			t.Fatalf("bad row: %d %s %s", status, ctype, body)
		}
		if total() != 0 {
			t.Fatalf("a refused import wrote users")
		}
		status, _, body = call(admin, "POST", "/api/v1/users/import?dry_run=true", "", "text/csv", file.String())
		if status != 200 || !strings.Contains(body, `"created":150`) || total() != 0 {
			t.Fatalf("dry run: %d %s", status, body)
		}
		if status, _, _ = call(readOnly, "POST", "/api/v1/users/import", "", "text/csv", file.String()); status != 403 {
			t.Fatalf("read_only import: %d", status)
		}
		if status, _, body = call(admin, "POST", "/api/v1/users/import?mode=merge", "", "text/csv", file.String()); status != 400 {
			t.Fatalf("bad mode: %d %s", status, body)
		}
		status, _, body = call(admin, "POST", "/api/v1/users/import", "", "text/csv", file.String())
		if status != 200 || !strings.Contains(body, `"created":150`) || total() != 150 {
			t.Fatalf("import: %d %s", status, body)
		}
		// Every matching row, not one page.
		status, ctype, body = call(admin, "GET", "/api/v1/users?status=active", "text/csv", "", "")
		if status != 200 || !strings.HasPrefix(ctype, "text/csv") || strings.Count(body, "\n") != 151 ||
			!strings.HasPrefix(body, "username,name,email,") {
			t.Fatalf("users csv: %d %s %d lines", status, ctype, strings.Count(body, "\n"))
		}
		// The export imports back unchanged.
		status, _, imp := call(admin, "POST", "/api/v1/users/import?mode=upsert", "", "text/csv", body)
		if status != 200 || !strings.Contains(imp, `"unchanged":150`) {
			t.Fatalf("import of the export: %d %s", status, imp)
		}
		// Audit: 150 user.create, two token.create and the tenant's own two.
		for path, lines := range map[string]int{"/api/v1/audit": 155, "/api/v1/agents": 151, "/api/v1/groups": 2, "/api/v1/invitations": 1} {
			status, ctype, body = call(admin, "GET", path, "text/csv", "", "")
			if status != 200 || !strings.HasPrefix(ctype, "text/csv") || strings.Count(body, "\n") != lines {
				t.Errorf("%s csv: %d %s %d lines, want %d", path, status, ctype, strings.Count(body, "\n"), lines)
			}
			if status, _, _ = call(readOnly, "GET", path, "text/csv", "", ""); status != 403 {
				t.Errorf("%s csv as read_only (no export.csv): %d", path, status)
			}
		}
		if status, ctype, _ = call(admin, "GET", "/api/v1/users", "application/json, text/csv", "", ""); status != 200 || ctype != "application/json" {
			t.Fatalf("JSON first: %d %s", status, ctype)
		}
	})
}
