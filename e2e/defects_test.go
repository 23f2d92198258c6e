package e2e

// Defects an admin met in the console (issue 19), each walked in real
// Chromium as the admin met it.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/roster"
)

// TestConsoleCSVFollowsLiveSearch: "Download CSV" after a search as you
// type exports what the list shows, not the list before the search.
func TestConsoleCSVFollowsLiveSearch(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	for i := 1; i <= 3; i++ {
		env.plainUser(fmt.Sprintf("staff.%02d", i), "Support", roster.RoleUser)
	}
	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/users")
	admin.do(chromedp.SendKeys(chromedp.CSS("#user-search"), "staff.02"))
	admin.waitFor(`document.querySelector("#results .pager-info").textContent.trim() === "1–1 of 1"`)
	rows, err := csv.NewReader(bytes.NewReader(admin.download("#download-csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows[1:] {
		names = append(names, strings.Join(r, " "))
	}
	if len(rows) != 2 || !strings.Contains(strings.Join(rows[1], ","), "staff.02") {
		t.Errorf("the CSV after searching staff.02 has %d rows: %v", len(rows)-1, names)
	}
}

// TestConsoleInviteRowsAndLinks: a lone invite row shows no Remove button
// (it could not remove anything), and Copy link says that the emailed link
// stops working.
func TestConsoleInviteRowsAndLinks(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/invite")
	visibleRemove := `[...document.querySelectorAll("#invite-rows [data-remove-row]")].filter(b => b.getBoundingClientRect().width > 0).length`
	if got := admin.eval(visibleRemove); got != "0" {
		t.Errorf("one invite row: %s Remove buttons show", got)
	}
	admin.click("#add-row")
	if got := admin.eval(visibleRemove); got != "2" {
		t.Errorf("two invite rows: %s Remove buttons show, want 2", got)
	}
	admin.click("#invite-rows .invite-row:nth-of-type(2) [data-remove-row]")
	if got := admin.eval(visibleRemove); got != "0" {
		t.Errorf("back to one invite row: %s Remove buttons show", got)
	}

	if _, err := env.svc.InviteUsers(t.Context(), env.sys, []roster.UserInput{{Username: roster.Some("ines.invited"),
		Name: roster.Some("Ines Invited"), Email: roster.Some("ines@acme.test"), Language: roster.Some("en"),
		GroupID: roster.Some(env.groups["Support"]), Roles: roster.Some([]string{roster.RoleUser})}}); err != nil {
		t.Fatal(err)
	}
	admin.open("/users?tab=invited")
	if got := admin.text("#copy-link-note"); !strings.Contains(got, "emailed link stops working") {
		t.Errorf("the invited list does not say what Copy link does to the emailed link: %q", got)
	}
	admin.click(`form[data-copy-form] button`)
	admin.waitFor(`(document.querySelector("#live-region")?.textContent || "").includes("emailed link stops working")`)
}

// TestConsoleNewProfileDuplicateSkill: a skill listed twice in a new
// personal profile is refused at its row, with what was typed kept.
func TestConsoleNewProfileDuplicateSkill(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	anna := env.user("anna.agent", "Sales North", []string{roster.RoleAgent})
	for _, name := range []string{"Chat", "Voice"} {
		if _, err := env.svc.CreateSkill(t.Context(), env.sys, roster.SkillInput{Name: roster.Some(name)}); err != nil {
			t.Fatal(err)
		}
	}
	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open(fmt.Sprintf("/users/%d/edit", anna.ID))
	admin.fill("#pp-name", "Evenings")
	admin.choose("#pp-skill-0", "Chat")
	admin.fill("#pp-level-0", "60")
	admin.choose("#pp-skill-1", "Chat")
	admin.fill("#pp-level-1", "70")
	admin.submit(`form[action$="/profiles"] button[type=submit]`)
	if admin.count("#f-skill-1-error") == 0 {
		t.Fatalf("no error at the duplicate skill's row; the page says %s", admin.eval(`document.querySelector("main").innerText.slice(0, 200)`))
	}
	if got := admin.text("#f-skill-1-error"); got == "" || strings.Contains(got, "skills[") {
		t.Errorf("the duplicate skill's error at its row: %q", got)
	}
	if got := admin.eval(`document.activeElement === document.body || !!document.querySelector("#f-skill-1-error").closest("form")`); got != "true" {
		t.Errorf("the error is not in the form")
	}
	if strings.Contains(admin.text("main"), "skills[") {
		t.Errorf("the page shows a developer's field name: %q", admin.text("main"))
	}
	got := admin.eval(`[document.querySelector("#f-name").value, document.querySelector("#f-skill-0").selectedOptions[0].textContent, document.querySelector("#f-level-0").value, document.querySelector("#f-skill-1").selectedOptions[0].textContent, document.querySelector("#f-level-1").value].join("|")`)
	if got != `"Evenings|Chat|60|Chat|70"` {
		t.Errorf("the values typed are not kept: %s", got)
	}
	if got := admin.eval(`document.querySelector("#f-skill-1").getAttribute("aria-describedby")`); got != `"f-skill-1-error"` {
		t.Errorf("the error is not tied to its field: %s", got)
	}
	admin.choose("#f-skill-1", "Voice")
	admin.submit("#save-profile")
	if got := admin.text(".flash"); !strings.Contains(got, "Evenings created") {
		t.Errorf("after fixing the row: %q", got)
	}
}

// TestConsoleInviteProblemsAtOnce: ticking Team Leader opens the row's
// Teams; a Team Leader without a team and an email twice in the batch are
// reported together, each at its own field and tied to it.
func TestConsoleInviteProblemsAtOnce(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	admin.open("/invite")
	admin.fill("#f-inv-0-name", "Tara Lead")
	admin.fill("#f-inv-0-email", "tara@acme.test")
	admin.choose("#f-inv-0-group_id", "Sales")
	admin.click(`#invite-rows .invite-row:nth-of-type(1) input[value="user"]`)
	admin.click(`#invite-rows .invite-row:nth-of-type(1) input[value="team_leader"]`)
	if got := admin.eval(`document.querySelector("#invite-rows .invite-row:nth-of-type(1) details.teams").open`); got != "true" {
		t.Errorf("ticking Team Leader leaves Teams closed")
	}
	admin.click("#add-row")
	admin.fill("#f-inv-1-name", "Tara Again")
	admin.fill("#f-inv-1-email", "TARA@acme.test")
	admin.choose("#f-inv-1-group_id", "Support")
	admin.submit("#send-invitations")
	for id, want := range map[string]string{"#f-inv-0-group_access-error": "at least one team", "#f-inv-1-email-error": "invitation 1 of this batch"} {
		if admin.count(id) == 0 {
			t.Errorf("no error %s; the page says %s", id, admin.eval(`document.querySelector("main").innerText.slice(0, 400)`))
			continue
		}
		if got := admin.text(id); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if admin.count("#f-inv-1-username-error") != 0 {
		t.Errorf("the duplicate email is also reported on the username: %q", admin.text("#f-inv-1-username-error"))
	}
	errorsTied(t, admin)
	if got := admin.eval(`document.querySelector("#f-inv-1-email").value`); got != `"TARA@acme.test"` {
		t.Errorf("the second row's email is not kept: %s", got)
	}
}

// errorsTied checks that every field error on the page is named by the
// aria-describedby of a field or group, so a screen reader reads it there.
func errorsTied(t *testing.T, b *browserTab) {
	t.Helper()
	loose := run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".field-error")].filter(e => !e.id ||
		!document.querySelector("[aria-describedby~='" + e.id + "']")).map(e => (e.id || "(no id)") + ": " + e.textContent.trim())`))
	for _, l := range loose {
		t.Errorf("%s: a field error tied to no field: %s", b.path(), l)
	}
}

// TestConsoleMyTeamListsAgents: a fellow team leader of the same team is
// not listed on My Team as one of its agents.
func TestConsoleMyTeamListsAgents(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("tara.lead", "Sales", []string{roster.RoleTeamLeader}, "Sales")
	env.user("tom.lead", "Sales", []string{roster.RoleTeamLeader}, "Sales")
	env.user("anna.agent", "Sales North", []string{roster.RoleAgent})
	lead := env.browser()
	lead.signIn("tara.lead", consolePassword)
	lead.open("/my-team")
	if got := lead.texts("#team-table tbody td.cell-main"); len(got) != 1 || !strings.HasPrefix(got[0], "Anna Agent") {
		t.Errorf("My Team of a team leader: %v, want Anna Agent only", got)
	}
}

// TestConsoleWordsNotKeys: statuses, languages and permissions in words a
// person uses, not the keys the core keeps.
func TestConsoleWordsNotKeys(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	anna := env.user("anna.agent", "Sales North", []string{roster.RoleAgent})
	plan, err := env.svc.CreateCoachingPlan(t.Context(), env.sys, roster.CoachingPlanInput{AgentUserID: roster.Some(anna.ID),
		Title: roster.Some("Shorter wrap-up"), Status: roster.Some(roster.PlanInProgress)})
	if err != nil {
		t.Fatal(err)
	}
	admin := env.browser()
	admin.signIn("alice.admin", consolePassword)
	for _, c := range []struct {
		path      string
		want      []string
		forbidden []string
	}{
		{fmt.Sprintf("/coaching/%d", plan.ID), []string{"In progress"}, []string{"in_progress"}},
		{fmt.Sprintf("/users/%d", anna.ID), []string{"English", "Active"}, []string{"user:"}},
		{"/roles/new", nil, []string{"users.view", "coaching.manage"}},
		{"/my-team", []string{"In progress"}, []string{"in_progress"}},
	} {
		admin.open(c.path)
		text := run(admin, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not say %q", c.path, w)
			}
		}
		for _, f := range c.forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s shows %q", c.path, f)
			}
		}
	}
	if got := admin.eval(`(() => { const e = [...document.querySelectorAll("main dt")].find(d => d.textContent.trim() === "Language"); return e ? e.nextElementSibling.textContent.trim() : ""; })()`); got == `"en"` {
		t.Errorf("the language shows as its code")
	}
}
