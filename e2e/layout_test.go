package e2e

// The console's lists at a laptop's and a phone's size: every list shows its
// row actions without scrolling sideways, and at phone width a list's rows
// become cards.

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/roster"
)

// listPages are the console's pages with a list; each is measured.
var listPages = []struct{ name, path string }{
	{"dashboard", "/"},
	{"users", "/users"},
	{"users-invited", "/users?tab=invited"},
	{"users-inactive", "/users?tab=inactive"},
	{"my-team", "/my-team"},
	{"groups", "/groups"},
	{"roles", "/roles"},
	{"agents", "/agents"},
	{"audit", "/audit"},
	{"outbox", "/outbox"},
	{"properties", "/properties"},
	{"tokens", "/tokens"},
	{"webhooks", "/webhooks"},
	{"coaching", "/coaching"},
}

// layoutShots names the screenshots (docs/screenshots) the layout test takes.
var layoutShots = map[string]string{"laptop users": "users", "laptop users-invited": "users-invited",
	"laptop my-team": "my-team", "laptop dashboard": "dashboard", "phone users": "users-phone",
	"phone dashboard": "dashboard-phone", "phone my-team": "my-team-phone"}

// layoutEnv is a tenant with enough people in every state that each list
// has rows with all their actions: active, invited, deactivated, a team
// leader's team with agents and coaching plans, and an API token.
func layoutEnv(t *testing.T) (*consoleEnv, map[string]*roster.User) {
	env := newConsoleEnv(t)
	ctx := context.Background()
	people := map[string]*roster.User{}
	people["alice.administrator"] = env.user("alice.administrator", "Acme Ltd", []string{roster.RoleAdmin, roster.RoleTeamLeader}, "Sales")
	people["tara.teamleader"] = env.user("tara.teamleader", "Sales", []string{roster.RoleTeamLeader}, "Sales")
	for i, name := range []string{"anna.agent-with-a-long-name", "bert.agent", "carla.agent"} {
		u := env.user(name, "Sales North", []string{roster.RoleAgent})
		people[name] = u
		ext := fmt.Sprintf("47%02d", i)
		env.interactions("voice", ext, displayName(name), "Sales North", 2)
		agents, err := env.svc.ListAgents(ctx, env.sys, roster.AgentQuery{Q: ext})
		if err != nil || len(agents.Items) != 1 {
			t.Fatalf("agent ID %s: %v %v", ext, err, agents)
		}
		if _, err := env.svc.SetUserAgents(ctx, env.sys, u.ID, roster.AgentIDRefs(agents.Items[0].ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := env.svc.CreateCoachingPlan(ctx, env.sys, roster.CoachingPlanInput{AgentUserID: roster.Some(u.ID),
			Title: roster.Some("Shorter wrap-up after long calls"), Goals: roster.Some("Wrap up calls within 45 s")}); err != nil {
			t.Fatal(err)
		}
	}
	gone := env.user("dora.departed", "Support Voice", []string{roster.RoleUser})
	if _, err := env.svc.DeactivateUser(ctx, env.sys, gone.ID); err != nil {
		t.Fatal(err)
	}
	var invites []roster.UserInput
	for _, name := range []string{"ivan.invited-with-a-long-address", "ines.invited"} {
		invites = append(invites, roster.UserInput{Username: roster.Some(name), Name: roster.Some(displayName(name)),
			Email: roster.Some(name + "@customer-service.acme-holdings.test"), Language: roster.Some("en"),
			GroupID: roster.Some(env.groups["Support Voice"]), Roles: roster.Some([]string{roster.RoleUser})})
	}
	if _, err := env.svc.InviteUsers(ctx, env.sys, invites); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.svc.CreateToken(ctx, env.sys, roster.TokenInput{Name: "Nightly HR import", Role: roster.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return env, people
}

// layoutProblems measures the page: what sticks out sideways (the document
// or a list's scroll box), and which row actions lie outside the viewport.
// At phone width it also wants each list row laid out as a card.
const layoutProblems = `(() => {
	const out = [];
	const vw = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > vw) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + vw);
	for (const w of document.querySelectorAll(".table-wrap")) {
		if (w.scrollWidth > w.clientWidth + 1) out.push("a list scrolls sideways: " + (w.querySelector("table")?.id || w.querySelector("caption")?.textContent || "table") + " " + w.scrollWidth + " > " + w.clientWidth);
	}
	for (const e of document.querySelectorAll("main table :is(a.btn, button.btn), main .row-actions :is(a, button), .stats li")) {
		const r = e.getBoundingClientRect();
		if (r.width === 0) continue;
		if (r.left < 0 || r.right > vw + 0.5) out.push("outside the viewport: " + (e.textContent.trim() || e.outerHTML.slice(0, 60)) + " at " + Math.round(r.left) + ".." + Math.round(r.right));
	}
	if (vw < 640) {
		for (const tr of document.querySelectorAll("main table.table tbody tr")) {
			if (tr.querySelector("td.empty")) continue;
			if (getComputedStyle(tr).display === "table-row") { out.push("a list row is not a card: " + tr.textContent.trim().slice(0, 40)); break; }
		}
	}
	return out;
})()`

// TestConsoleLayout measures every list page at 1366×768 and at 390×844.
func TestConsoleLayout(t *testing.T) {
	env, _ := layoutEnv(t)
	admin := env.browser()
	admin.signIn("alice.administrator", consolePassword)
	for _, size := range []struct {
		name          string
		width, height int64
		scale         float64
	}{{"laptop", 1366, 768, 1}, {"laptop-1280", 1280, 800, 1}, {"phone", 390, 844, 2}} {
		admin.width = size.width
		admin.do(chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateScale(size.scale)))
		for _, pg := range listPages {
			admin.open(pg.path)
			admin.look(layoutShots[size.name+" "+pg.name])
			var problems []string
			raw := admin.eval(layoutProblems)
			if err := json.Unmarshal([]byte(raw), &problems); err != nil {
				t.Fatalf("%s: %s", pg.path, raw)
			}
			for _, p := range problems {
				t.Errorf("%s at %dx%d: %s", pg.path, size.width, size.height, p)
			}
		}
	}
	admin.width = 1280
	admin.do(chromedp.EmulateViewport(1280, 900))
}
