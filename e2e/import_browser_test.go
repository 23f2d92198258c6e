package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleImportPreview, in Chromium: the admin uploads a file with a bad
// row, sees the problem at its row and column in the preview with nothing
// written, uploads the fixed file, imports it, and finds the new users.
func TestConsoleImportPreview(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(bad, []byte("username;email;group;roles\nimp.one;one@example.com;Acme Ltd/Sales;agent\nimp.two;two@;Acme Ltd/Nowhere;agent\n"), 0o600)
	os.WriteFile(good, []byte("username;email;group;roles\nimp.one;one@example.com;Acme Ltd/Sales;agent\nimp.two;two@example.com;Acme Ltd/Sales;team_leader\n"), 0o600)

	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/users")
	admin.follow("#import-users")
	admin.look("import page")
	admin.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{bad}))
	admin.submit("#preview-import")
	admin.look("import preview with errors")
	errs := strings.Join(admin.texts("#import-errors tbody tr"), "\n")
	if !strings.Contains(errs, "3emailis not a valid email address") || !strings.Contains(errs, "3groupno group") {
		t.Fatalf("the preview's problems: %q", errs)
	}
	if n := admin.count("#import-preview td.has-error"); n != 2 {
		t.Errorf("%d cells marked in the preview, want the email and the group of row 3", n)
	}
	if got, _ := env.svc.ListUsers(t.Context(), env.sys, roster.UserQuery{Q: "imp."}); got.Total != 0 {
		t.Fatalf("the preview wrote users")
	}
	admin.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{good}))
	admin.submit("#preview-import")
	if got := admin.text("#import-summary"); !strings.Contains(got, "create 2, update 0") {
		t.Fatalf("summary of the good file: %q", got)
	}
	admin.submit("#run-import")
	// The import runs in the background: its page polls the progress and
	// leads to the list when it is done.
	admin.waitFor(`location.pathname === "/users"`)
	admin.settle()
	admin.look("users after the import")
	if got := admin.text(".flash"); !strings.Contains(got, "created 2, updated 0") {
		t.Errorf("the list after the import says %q", got)
	}
	if admin.path() != "/users" {
		t.Fatalf("after the import the browser is at %s", admin.path())
	}
	if got, _ := env.svc.ListUsers(t.Context(), env.sys, roster.UserQuery{Q: "imp."}); got.Total != 2 {
		t.Fatalf("%d imported users, want 2", got.Total)
	}
}
