package e2e

// Browser tests of the admin console: real headless Chromium driving the
// pages of an in-process Roster. A few scenario tests,
// each walking one flow of the seed articles end to end.

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleInviteAndAccept: an admin signs in, invites a team leader and an
// agent on one page, the agent accepts the emailed invitation in their own
// browser and sees only the agent's pages.
func TestConsoleInviteAndAccept(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	// The same agent in the voice and the chat system (seed 000).
	env.interactions("voice", "4711", "Anna K", "Sales North", 3)
	env.interactions("chat", "anna.k", "Anna K", "Sales North", 2)
	env.interactions("voice", "4712", "Bert B", "Sales North", 1)

	admin := env.browser()
	admin.open("/signin")
	admin.look("signin")
	admin.signIn("alice.admin", consolePassword)
	if got := admin.path(); got != "/" {
		t.Fatalf("after sign-in: at %s, want the dashboard", got)
	}
	if got := admin.text("#stat-active"); got != "1" {
		t.Errorf("dashboard: %s active users, want 1", got)
	}
	admin.look("dashboard")

	// Invite two users on one page.
	admin.open("/invite")
	admin.fill("#f-inv-0-name", "Tara Lead")
	admin.fill("#f-inv-0-email", "tara@acme.test")
	admin.choose("#f-inv-0-group_id", "Sales")
	admin.click(`#invite-rows .invite-row:nth-of-type(1) input[value="user"]`) // untick the default role
	admin.click(`#invite-rows .invite-row:nth-of-type(1) input[value="team_leader"]`)
	// Ticking Team Leader has opened the row's Teams.
	admin.click(fmt.Sprintf(`input[name="invitations[0].group_access"][value="%d"]`, env.groups["Sales"]))
	admin.click("#add-row")
	admin.fill("#f-inv-1-name", "Anna Agent")
	admin.fill("#f-inv-1-email", "anna@acme.test")
	admin.fill("#f-inv-1-username", "anna.agent")
	admin.choose("#f-inv-1-group_id", "Sales North")
	admin.click(`#invite-rows .invite-row:nth-of-type(2) input[value="user"]`)
	if admin.count(`#invite-rows .invite-row:nth-of-type(2) .agent-picker:not([hidden])`) != 0 {
		t.Error("the agent picker shows before the Agent role is chosen")
	}
	admin.click(`#invite-rows .invite-row:nth-of-type(2) input[value="agent"]`)
	admin.pickAgent("#f-inv-1-agents", "4711", "voice:4711")
	admin.pickAgent("#f-inv-1-agents", "anna", "chat:anna.k")
	admin.look("invite")
	admin.submit("#send-invitations")
	if got := admin.texts("#sent-table tbody td:nth-child(2)"); strings.Join(got, ",") != "tara@acme.test,anna@acme.test" {
		t.Fatalf("confirmation lists %v", got)
	}
	admin.look("invitations-sent")

	// The agent reads the email and accepts in their own browser.
	subject, body := env.mailTo("anna@acme.test")
	if !strings.Contains(subject, "Acme Ltd") {
		t.Errorf("invitation subject %q", subject)
	}
	link := inviteLinkPattern.FindString(body)
	if link == "" {
		t.Fatalf("no invitation link in the email:\n%s", body)
	}
	agent := env.browser()
	agent.do(chromedp.Navigate(link), chromedp.WaitReady(chromedp.CSS("body")))
	if got := agent.text("#invite-username"); got != "anna.agent" {
		t.Fatalf("invitation page names %q", got)
	}
	agent.look("accept-invitation")
	agent.fill("#f-password", consolePassword)
	agent.fill("#f-password2", consolePassword)
	agent.submit("#accept")
	nav := agent.texts("nav.sidenav a")
	for _, item := range nav {
		if item == "Users" || item == "Dashboard" || item == "Invite users" {
			t.Errorf("the agent's navigation offers %q: %v", item, nav)
		}
	}
	agent.open("/users")
	if got := agent.text("h1"); got != "Not allowed" {
		t.Errorf("the agent opening /users sees %q", got)
	}

	// The admin sees the two agent IDs on the agent's page.
	admin.open("/users?q=anna")
	admin.follow(`#users-table a.cell-main`)
	if got := admin.texts("#user-agents td code"); strings.Join(got, ",") != "chat:anna.k,voice:4711" {
		t.Errorf("the agent holds %v", got)
	}
	admin.look("user")
	admin.follow("#edit-user")
	admin.look("user-edit")

	// The team leader's invitation is still open: the admin sees it under Invited.
	admin.open("/users?tab=invited")
	if got := admin.texts("#users-table tbody td:nth-child(2)"); strings.Join(got, ",") != "Tara Lead" {
		t.Errorf("invited tab lists %v", got)
	}
	admin.look("users-invited")

	// Copy link puts a fresh, working invitation link on the clipboard.
	admin.click(`#users-table form[data-copy-form] button`)
	admin.waitFor(`document.querySelector("#users-table form[data-copy-form] button").hasAttribute("data-copied")`)
	copied := run(admin, chromedp.Evaluate[string](`document.querySelector("#users-table form[data-copy-form] button").getAttribute("data-copied")`))
	if !strings.HasPrefix(copied, env.url+"/invite/inv_") {
		t.Fatalf("copied %q", copied)
	}
	if info, err := env.svc.InspectInvitation(context.Background(), tokenOf(copied)); err != nil || info.Name != "Tara Lead" {
		t.Errorf("the copied link: %v %v", info, err)
	}
}

// TestConsoleUserList: as admin, search as you type, filter, sort, page and
// download exactly the list shown as CSV; save the filter, see it restored,
// reset it.
func TestConsoleUserList(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	ctx := context.Background()
	for i := 1; i <= 12; i++ {
		env.plainUser(fmt.Sprintf("agent.%02d", i), "Sales North", roster.RoleAgent)
	}
	for i := 1; i <= 20; i++ {
		env.plainUser(fmt.Sprintf("staff.%02d", i), "Support", roster.RoleUser)
	}
	// A name a spreadsheet would run as a formula.
	env.plainUser("agent.99", "Sales", roster.RoleAgent)
	u, err := env.svc.ListUsers(ctx, env.sys, roster.UserQuery{Q: "agent.99"})
	if err != nil || len(u.Items) != 1 {
		t.Fatal(err)
	}
	if _, err := env.svc.UpdateUser(ctx, env.sys, u.Items[0].ID, roster.UserInput{Name: roster.Some("=HYPERLINK(1)")}); err != nil {
		t.Fatal(err)
	}

	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/users")
	if got := admin.text("#results .pager-info"); got != "1–25 of 34" {
		t.Errorf("all users: %q", got)
	}

	// Search as you type: the list follows the search box without a reload.
	admin.do(chromedp.SendKeys(chromedp.CSS("#user-search"), "staff.1"))
	admin.waitFor(`document.querySelector("#results .pager-info").textContent.trim() === "1–10 of 10"`)
	if got := admin.path(); !strings.Contains(got, "q=staff.1") {
		t.Errorf("the address does not follow the search: %s", got)
	}
	admin.fill("#user-search", "")
	admin.waitFor(`document.querySelector("#results .pager-info").textContent.trim() === "1–25 of 34"`)

	// Filter by role (the select applies itself), sort by username descending.
	admin.open("/users")
	admin.evalOK(`document.querySelector("details.filter-box").open = true`, "filters")
	before := admin.eval(`performance.timeOrigin`)
	admin.choose("#filter-role", "Agent")
	admin.waitFor(`performance.timeOrigin !== ` + before + ` && document.readyState === "complete"`)
	if got := admin.text("#results .pager-info"); got != "1–13 of 13" {
		t.Errorf("agents: %q", got)
	}
	admin.follow(`#users-table th:nth-child(3) a`)
	admin.follow(`#users-table th:nth-child(3) a`)
	if got := admin.text("#users-table tbody tr:first-child td:nth-child(3)"); got != "agent.99" {
		t.Errorf("sorted by username descending, the first is %q", got)
	}

	// 10 per page, next, last, first.
	before = admin.eval(`performance.timeOrigin`)
	admin.choose("#per-page", "10")
	admin.waitFor(`performance.timeOrigin !== ` + before + ` && document.readyState === "complete"`)
	if got := admin.text("#results .pager-info"); got != "1–10 of 13" {
		t.Errorf("10 per page: %q", got)
	}
	admin.follow(`a[aria-label="Next page"]`)
	if got := admin.texts("#users-table tbody td:nth-child(3)"); strings.Join(got, ",") != "agent.03,agent.02,agent.01" {
		t.Errorf("page 2: %v", got)
	}
	admin.follow(`a[aria-label="First page"]`)
	page1 := admin.texts("#users-table tbody td:nth-child(3)")
	admin.look("users")
	admin.phone(func() { admin.look("users-phone") })

	// The CSV is the whole filtered, sorted list, not just this page.
	rows, err := csv.NewReader(bytes.NewReader(admin.download("#download-csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 14 || rows[0][1] != "username" {
		t.Fatalf("CSV has %d rows: %v", len(rows), rows)
	}
	for i, name := range page1 {
		if rows[i+1][1] != name {
			t.Errorf("CSV row %d is %s, the list shows %s", i+1, rows[i+1][1], name)
		}
	}
	if rows[1][2] != "'=HYPERLINK(1)" {
		t.Errorf("a formula-like name is exported as %q", rows[1][2])
	}

	// Save the filter: a plain visit restores it; reset to default forgets it.
	admin.evalOK(`document.querySelector("details.filter-box").open = true`, "filters")
	admin.submit("#save-filters")
	admin.open("/users")
	if got := admin.text("#results .pager-info"); got != "1–10 of 13" {
		t.Errorf("saved filter not restored: %q", got)
	}
	admin.submit("#reset-filters")
	admin.open("/users")
	if got := admin.text("#results .pager-info"); got != "1–25 of 34" {
		t.Errorf("after reset to default: %q", got)
	}

	// A user created without a password sets one with a one-time code (seed 003).
	staff := env.browser()
	staff.open("/signin")
	staff.follow(`a[href^="/forgot"]`)
	staff.fill("#f-tenant", "acme")
	staff.fill("#f-login", "staff.01")
	staff.submit("main button[type=submit]")
	_, body := env.mailTo("staff.01@acme.test")
	code := regexp.MustCompile(`\b\d{8}\b`).FindString(body)
	if code == "" {
		t.Fatalf("no code in the email:\n%s", body)
	}
	if got := staff.eval(`document.querySelector("#f-login").value`); got != `"staff.01"` {
		t.Errorf("the reset form does not carry the login: %s", got)
	}
	staff.fill("#f-code", code)
	staff.fill("#f-password", "a new and long password")
	staff.submit("main button[type=submit]")
	staff.fill("#f-password", "a new and long password")
	staff.submit("main button[type=submit]")
	if got := staff.text("h1"); !strings.HasPrefix(got, "Welcome") {
		t.Errorf("after setting a password and signing in: %q at %s", got, staff.path())
	}
}

// TestConsoleViewAsAndDeactivate: an admin views the console as a team
// leader and finds every control disabled, ends it with one click; a user
// logged on to a queue cannot be deleted and the page says why; deactivating
// a user ends their session at once.
func TestConsoleViewAsAndDeactivate(t *testing.T) {
	env := newConsoleEnv(t)
	ctx := context.Background()
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	tara := env.user("tara.lead", "Sales", []string{roster.RoleTeamLeader}, "Sales")
	anna := env.user("anna.agent", "Sales North", []string{roster.RoleAgent})
	env.interactions("voice", "4711", "Anna K", "Sales North", 4)
	agents, err := env.svc.ListAgents(ctx, env.sys, roster.AgentQuery{Q: "4711"})
	if err != nil || len(agents.Items) != 1 {
		t.Fatalf("agent ID: %v %v", err, agents)
	}
	if _, err := env.svc.SetUserAgents(ctx, env.sys, anna.ID, roster.AgentIDRefs(agents.Items[0].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.CreateCoachingPlan(ctx, env.sys, roster.CoachingPlanInput{AgentUserID: roster.Some(anna.ID),
		Title: roster.Some("Shorter wrap-up"), Goals: roster.Some("Wrap up calls within 45 s")}); err != nil {
		t.Fatal(err)
	}

	// The agent is signed in and sees their own page.
	agent := env.browser()
	agent.signIn("anna.agent", consolePassword)
	if got := agent.path(); got != "/me" {
		t.Fatalf("the agent lands on %s, want /me", got)
	}
	if got := agent.text("#interaction-total"); got != "4" {
		t.Errorf("the agent sees %s interactions, want 4", got)
	}
	agent.look("agent-page")

	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)

	// View as the team leader: a banner, My Team, every control disabled.
	admin.open(fmt.Sprintf("/users/%d", tara.ID))
	admin.submit("#view-as")
	banner := admin.text(".viewas-banner")
	if !strings.Contains(banner, "Viewing as Tara Lead") || !strings.Contains(banner, "Alice Admin") {
		t.Errorf("banner: %q", banner)
	}
	if got := admin.path(); got != "/my-team" {
		t.Errorf("viewing as the team leader lands on %s, want /my-team", got)
	}
	if got := admin.texts("#team-table tbody td.cell-main"); len(got) != 1 || !strings.HasPrefix(got[0], "Anna Agent") {
		t.Errorf("My Team as the team leader: %v", got)
	}
	admin.look("view-as-my-team")
	enabled := `[...document.querySelectorAll("main :is(input, select, textarea, button)")].filter(e => e.type !== "hidden" && !e.matches(":disabled")).map(e => e.name || e.id || e.textContent.trim())`
	for _, path := range []string{"/my-team", "/coaching"} {
		admin.open(path)
		if on := run(admin, chromedp.Evaluate[[]string](enabled)); len(on) != 0 {
			t.Errorf("viewing as: controls enabled on %s: %v", path, on)
		}
	}
	admin.open("/my-team")
	admin.follow(`#team-table a[href^="/coaching/"]`)
	if on := run(admin, chromedp.Evaluate[[]string](enabled)); len(on) != 0 {
		t.Errorf("viewing as: controls enabled on %s: %v", admin.path(), on)
	}
	if admin.count("main form[method=post]") == 0 {
		t.Errorf("the coaching plan page has no form to check")
	}
	// Forcing the form anyway: the core refuses.
	admin.evalOK(`(() => { document.querySelectorAll("main fieldset").forEach(f => f.disabled = false); return true; })()`, "fieldsets")
	admin.fill("#f-note", "sneaky")
	admin.submit("#save-plan")
	if got := admin.text("main .lead"); !strings.Contains(got, "read-only") {
		t.Errorf("a forced change while viewing as: %q", got)
	}
	admin.open("/my-team")
	admin.submit(".viewas-banner button")
	if admin.count(".viewas-banner") != 0 {
		t.Error("the banner stays after ending the view-as")
	}
	if got := admin.path(); got != fmt.Sprintf("/users/%d", tara.ID) {
		t.Errorf("after view-as: at %s", got)
	}
	for _, pg := range []struct{ path, name string }{{"/groups", "groups"}, {"/roles/new", "role-editor"},
		{"/agents", "agents"}, {"/properties", "properties"}, {"/outbox", "outbox"}} {
		admin.open(pg.path)
		admin.look(pg.name)
	}
	admin.open("/audit?action=impersonation.")
	admin.look("audit")
	if got := admin.texts("#audit-table tbody td:nth-child(3)"); strings.Join(got, ",") != "impersonation.stop,impersonation.start" {
		t.Errorf("audit of the view-as: %v", got)
	}

	// A user logged on to a queue cannot be deleted; the page says why.
	on := true
	if _, err := env.svc.SetQueue(ctx, env.sys, anna.ID, &on); err != nil {
		t.Fatal(err)
	}
	admin.open(fmt.Sprintf("/users/%d/delete", anna.ID))
	admin.submit("#confirm")
	if got := admin.text("#form-error"); !strings.Contains(got, "logged on to a queue") {
		t.Errorf("deleting a user on a queue: %q", got)
	}
	admin.look("delete-refused")

	// Deactivate: the confirmation says what happens, the agent's session ends.
	admin.open("/users?q=anna")
	admin.follow(`#users-table a[href$="/deactivate"]`)
	if got := admin.text(".what-happens"); !strings.Contains(got, "can no longer sign in") {
		t.Errorf("the confirmation says %q", got)
	}
	admin.look("deactivate-confirm")
	admin.submit("#confirm")
	if got := admin.texts("#users-table tbody td:nth-child(3)"); strings.Join(got, ",") != "anna.agent" {
		t.Errorf("the Inactive tab lists %v", got)
	}
	agent.open("/me")
	if got := agent.path(); !strings.HasPrefix(got, "/signin") {
		t.Errorf("the deactivated agent is still in, at %s", got)
	}
}

// TestConsoleSkillProfiles: an admin changes a skill level of a group
// profile on the profile editor, deletes a personal profile through its
// confirmation page, and the user's page shows the result.
func TestConsoleSkillProfiles(t *testing.T) {
	env := newConsoleEnv(t)
	ctx := context.Background()
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	anna := env.user("anna.agent", "Sales North", []string{roster.RoleAgent})
	chat, err := env.svc.CreateSkill(ctx, env.sys, roster.SkillInput{Name: roster.Some("Chat")})
	if err != nil {
		t.Fatal(err)
	}
	frontline, err := env.svc.CreateGroupProfile(ctx, env.sys, env.groups["Sales"], roster.ProfileInput{Name: roster.Some("Frontline"),
		Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: chat.ID, Level: 40}})})
	if err != nil {
		t.Fatal(err)
	}
	evenings, err := env.svc.CreateUserProfile(ctx, env.sys, anna.ID, roster.ProfileInput{Name: roster.Some("Evenings"),
		Skills: roster.Some([]roster.ProfileSkillInput{{SkillID: chat.ID, Level: 90}})})
	if err != nil {
		t.Fatal(err)
	}

	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)

	// The group profile: a level out of range is refused next to its field,
	// then a good one is saved.
	admin.open(fmt.Sprintf("/groups/%d", env.groups["Sales"]))
	admin.follow(fmt.Sprintf(`a[href="/profiles/%d/edit"]`, frontline.ID))
	admin.look("profile-edit")
	admin.fill("#f-level-0", "101")
	admin.submit("#save-profile")
	if got := admin.text("#f-level-0-error"); !strings.Contains(got, "1 to 100") {
		t.Errorf("level 101: %q", got)
	}
	admin.fill("#f-level-0", "75")
	admin.submit("#save-profile")
	if got := admin.path(); got != fmt.Sprintf("/groups/%d#profiles-h", env.groups["Sales"]) {
		t.Errorf("after saving the profile: at %s", got)
	}
	if got := admin.texts(".profile-list li .chips"); strings.Join(got, "|") != "Chat · 75" {
		t.Errorf("the group page shows the profile's skills as %q", got)
	}

	// The personal profile: the confirmation names the user, then it is gone.
	admin.open(fmt.Sprintf("/users/%d/edit", anna.ID))
	admin.follow(fmt.Sprintf(`a[href="/profiles/%d/delete"]`, evenings.ID))
	if got := admin.text(".what-happens"); !strings.Contains(got, "Anna Agent (anna.agent) loses it") {
		t.Errorf("the confirmation says %q", got)
	}
	admin.look("profile-delete")
	admin.submit("#confirm")
	if got := admin.text(".flash"); !strings.Contains(got, "Evenings deleted") {
		t.Errorf("after the delete: %q", got)
	}
	admin.open(fmt.Sprintf("/users/%d", anna.ID))
	got := admin.text("#user-profiles")
	if strings.Contains(got, "Evenings") || !strings.Contains(got, "Frontline") || !strings.Contains(got, "Chat · 75") {
		t.Errorf("the user page lists the profiles as %q", got)
	}
}
