package e2e

// Accessibility of the console: every page checked by axe-core (the npm
// package, injected into real Chromium) and walked by keyboard.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/roster-dev/roster/internal/roster"
)

// axeDir holds the pinned axe-core (package.json, package-lock.json);
// .ci/run installs it, and axeSource does when it is missing.
const axeDir = "testdata/axe"

// axeSource returns axe.min.js, installing the pinned package with npm
// first when it is not there yet.
func axeSource(t *testing.T) string {
	t.Helper()
	file := filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", axeDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the accessibility tests need axe-core (npm ci --prefix e2e/%s): %v\n%s", axeDir, err, out)
		}
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// axeViolation is one rule a page breaks, as axe reports it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// axeCheck runs axe-core on the page in the tab (WCAG 2.1 A and AA and
// axe's best practices), logs what it found and fails the test on any
// serious or critical violation.
func (b *browserTab) axeCheck(src, name string) {
	b.t.Helper()
	if !run(b, chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		run(b, chromedp.Evaluate[bool](src+"\n;true"))
	}
	raw := run(b, chromedp.Evaluate[[]byte](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target}))}))))`,
		chromedp.EvalAwaitPromise))
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		b.t.Fatalf("axe on %s: %s", name, raw)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(text), &violations); err != nil {
		b.t.Fatalf("axe on %s: %s", name, text)
	}
	var serious, other []string
	for _, v := range violations {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, strings.Join(n.Target, " "))
		}
		line := fmt.Sprintf("%s (%s, %d×: %s)", v.ID, v.Impact, len(v.Nodes), strings.Join(targets[:min(3, len(targets))], ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			serious = append(serious, line+": "+v.Help)
		} else {
			other = append(other, line)
		}
	}
	b.t.Logf("axe %-28s %-40s serious or critical: %d, moderate or minor: %d %s", name, b.path(), len(serious), len(other), strings.Join(other, "; "))
	for _, s := range serious {
		b.t.Errorf("axe %s (%s): %s", name, b.path(), s)
	}
}

// TestConsoleAccessible runs axe-core on every page of the console, as an
// admin, as an agent and signed out, at laptop and phone width.
func TestConsoleAccessible(t *testing.T) {
	src := axeSource(t)
	env, people := layoutEnv(t)
	anna := people["anna.agent-with-a-long-name"]
	plans, err := env.svc.ListCoachingPlans(t.Context(), env.sys, roster.CoachingPlanQuery{AgentUserID: fmt.Sprint(anna.ID)})
	if err != nil || len(plans.Items) == 0 {
		t.Fatalf("coaching plans: %v %v", err, plans)
	}

	signedOut := env.browser()
	for _, pg := range []string{"/signin", "/forgot"} {
		signedOut.open(pg)
		signedOut.look("")
		signedOut.axeCheck(src, "signed out")
	}

	b := env.browser()
	b.signIn("alice.administrator", consolePassword)
	pages := []string{fmt.Sprintf("/users/%d", anna.ID), fmt.Sprintf("/users/%d/edit", anna.ID), "/users/new", "/invite",
		"/users/import", fmt.Sprintf("/groups/%d", env.groups["Sales"]), "/roles/new", "/settings", "/account",
		"/settings/sso", "/provisioning", fmt.Sprintf("/coaching/%d", plans.Items[0].ID), fmt.Sprintf("/users/%d/deactivate", anna.ID)}
	for _, pg := range listPages {
		pages = append(pages, pg.path)
	}
	for _, size := range []struct {
		name          string
		width, height int64
		scale         float64
	}{{"laptop", 1366, 768, 1}, {"phone", 390, 844, 2}} {
		b.width = size.width
		b.do(chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateScale(size.scale)))
		for _, pg := range pages {
			b.open(pg)
			b.look("")
			b.axeCheck(src, "admin "+size.name)
		}
	}

	agent := env.browser()
	agent.signIn("anna.agent-with-a-long-name", consolePassword)
	for _, pg := range []string{"/me", "/coaching", "/account"} {
		agent.open(pg)
		agent.look("")
		agent.axeCheck(src, "agent")
	}
}

// TestConsoleKeyboard: the first Tab shows the skip link, which moves focus
// to the page's content; focus is always visible.
func TestConsoleKeyboard(t *testing.T) {
	env := newConsoleEnv(t)
	env.user("alice.admin", "Acme Ltd", []string{roster.RoleAdmin})
	b := env.browser()
	b.signIn("alice.admin", consolePassword)
	for _, pg := range []string{"/", "/users", "/invite"} {
		b.open(pg)
		b.do(chromedp.KeyEvent(kb.Tab))
		if got := b.eval(`(() => { const e = document.activeElement; const r = e.getBoundingClientRect();
			return e.classList.contains("skip-link") && r.top >= 0 && getComputedStyle(e).outlineStyle !== "none"; })()`); got != "true" {
			t.Errorf("%s: the first Tab does not show the skip link with a visible focus", pg)
		}
		b.do(chromedp.KeyEvent(kb.Enter))
		b.waitFor(`document.activeElement && document.activeElement.id === "main"`)
		// The next Tab lands inside the content, not back in the navigation.
		b.do(chromedp.KeyEvent(kb.Tab))
		if got := b.eval(`(() => { const e = document.activeElement;
			return !!e.closest("main") && getComputedStyle(e).outlineStyle !== "none"; })()`); got != "true" {
			t.Errorf("%s: after the skip link, Tab goes to %s", pg, b.eval(`document.activeElement.outerHTML.slice(0, 80)`))
		}
	}
}
