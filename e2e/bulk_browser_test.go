package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleBulkEscalation, in Chromium: an Environment Manager ticks
// every user on a page that holds an Admin among Operators and deactivates
// them. The confirmation says how many the action reaches and names the
// Admin as protected, in words; nothing changes until they confirm; then
// the Operators are deactivated and the Admin is not.
func TestConsoleBulkEscalation(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("emma.env", "Acme Ltd", []string{roster.RoleEnvironmentManager})
	ada := env.plainUser("ada.admin", "Sales", roster.RoleAdmin)
	otto := env.plainUser("otto.op", "Sales", roster.RoleOperator)
	olga := env.plainUser("olga.op", "Sales North", roster.RoleOperator)

	emma := env.browser()
	emma.signIn("emma.env", consolePassword)
	emma.open(fmt.Sprintf("/users?f=1&group=%d", env.groups["Sales"]))
	if n := emma.count("#users-table tbody tr[data-user]"); n != 3 {
		t.Fatalf("the Sales view lists %d users, want 3", n)
	}
	emma.click("#bulk-select-page")
	if n := emma.count(`input[form="bulk-form"]:checked`); n != 3 {
		t.Fatalf("ticking the page's box ticked %d rows, want 3", n)
	}
	emma.choose("#bulk-action", "Deactivate")
	emma.submit("#bulk-go")
	emma.look("bulk deactivate confirmation")
	if got := emma.text("#bulk-count"); !strings.Contains(got, "You selected 3 users. This applies to 2 of them. 1 will be left as they are") {
		t.Fatalf("the confirmation says %q", got)
	}
	refused := strings.Join(emma.texts("#bulk-refused tbody tr"), "\n")
	if !strings.Contains(refused, "Ada Admin") || !strings.Contains(refused, "They hold rights you do not have") || strings.Contains(refused, "Otto") {
		t.Fatalf("the protected users listed: %q", refused)
	}
	if strings.Contains(refused, "target_more_powerful") || strings.Contains(refused, "user:") {
		t.Errorf("the reason is not in a person's words: %q", refused)
	}
	for _, u := range []*roster.User{ada, otto, olga} {
		if got, _ := env.svc.User(context.Background(), env.sys, u.ID); got.Status != roster.StatusActive {
			t.Fatalf("the confirmation page changed %s to %s", u.Username, got.Status)
		}
	}
	if got := emma.text("#bulk-confirm"); got != "Deactivate 2 users" {
		t.Errorf("the confirm button says %q", got)
	}
	emma.submit("#bulk-confirm")
	emma.look("bulk deactivate done")
	if got := emma.text("#bulk-done-count"); !strings.Contains(got, "Done for 2 of 3 users. 1 was left as they were.") {
		t.Fatalf("the result says %q", got)
	}
	want := map[int64]string{ada.ID: roster.StatusActive, otto.ID: roster.StatusDeactivated, olga.ID: roster.StatusDeactivated}
	for id, status := range want {
		if got, _ := env.svc.User(context.Background(), env.sys, id); got.Status != status {
			t.Errorf("user %s is %s, want %s", got.Username, got.Status, status)
		}
	}
	events, err := env.svc.ListAudit(context.Background(), env.sys, roster.AuditFilter{Action: "user.deactivate", PerPage: 10})
	if err != nil || events.Total != 2 {
		t.Errorf("%v deactivation events (%v), want 2", events, err)
	}
}

// TestConsoleBulkMoveAllInView, in Chromium: an admin filters the list to
// the Operators, takes "all users in this view" (more than the page shows
// is the point of it), moves them to another group after choosing it, and
// the one logged on to a queue is refused with the reason.
func TestConsoleBulkMoveAllInView(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	var ops []*roster.User
	for i := range 12 {
		ops = append(ops, env.plainUser(fmt.Sprintf("op%02d", i), "Sales", roster.RoleOperator))
	}
	env.plainUser("dev.one", "Sales", roster.RoleDeveloper)
	on := true
	if _, err := env.svc.SetQueue(context.Background(), env.sys, ops[3].ID, &on); err != nil {
		t.Fatal(err)
	}

	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/users?f=1&role=operator&per_page=10")
	if n := admin.count("#users-table tbody tr[data-user]"); n != 10 {
		t.Fatalf("the page lists %d operators, want 10", n)
	}
	admin.click("#bulk-scope-all")
	admin.choose("#bulk-action", "Move to group")
	admin.submit("#bulk-go")
	admin.choose("#f-group_id", "Support")
	admin.submit("#bulk-review")
	admin.look("bulk move confirmation")
	if got := admin.text("#bulk-count"); !strings.Contains(got, "You selected 12 users. This applies to 11 of them.") {
		t.Fatalf("the confirmation says %q", got)
	}
	if got := admin.text("#bulk-refused tbody"); !strings.Contains(got, "Op03") || !strings.Contains(got, "logged on to a queue") {
		t.Fatalf("the refusal: %q", got)
	}
	admin.submit("#bulk-confirm")
	if got := admin.text("#bulk-done-count"); !strings.Contains(got, "Done for 11 of 12 users.") {
		t.Fatalf("the result says %q", got)
	}
	moved, err := env.svc.ListUsers(context.Background(), env.sys, roster.UserQuery{Group: fmt.Sprint(env.groups["Support"])})
	if err != nil || moved.Total != 11 {
		t.Fatalf("%d users in Support after the move (%v), want 11", moved.Total, err)
	}
	if got, _ := env.svc.User(context.Background(), env.sys, ops[3].ID); got.GroupID != env.groups["Sales"] {
		t.Errorf("the user on a queue moved")
	}
	admin.submit("#bulk-back")
	if !strings.HasPrefix(admin.path(), "/users?") {
		t.Errorf("back leads to %s", admin.path())
	}
}
