package e2e

// Helpers of the console's browser tests: Roster in
// process (console, REST API and outbox worker) over a real SQLite database,
// a real SMTP server catching its mail, and a real headless Chromium.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/console"
	"github.com/roster-dev/roster/internal/delivery"
	"github.com/roster-dev/roster/internal/mailtest"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// consoleEnv is one Roster with one tenant ("acme") and a browser to look at it.
type consoleEnv struct {
	t          *testing.T
	svc        *roster.Service
	url        string
	mail       *mailtest.Server
	tenant     *roster.Tenant
	sys        *roster.Actor
	groups     map[string]int64 // by name
	browserCtx context.Context  // the Chromium process; each browserTab is a fresh profile in it
}

// consolePassword is every prepared user's password.
const consolePassword = "correct horse battery staple"

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
	}
	env := &consoleEnv{t: t, groups: map[string]int64{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	mail, err := mailtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mail.Close)
	env.mail = mail

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.url = "http://" + ln.Addr().String()
	db := testdb.SQLite(t)
	env.svc = roster.NewService(db, roster.Options{Logger: log, SSOAllowLoopbackHTTP: true, Lifecycle: roster.LifecycleOptions{
		PublicURL: env.url,
		// Cheap hashing: these tests are about pages, not argon2's cost.
		Argon2: auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	}})
	sender, err := delivery.NewSMTP(env.mail.URL(), "roster@acme.test", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	worker := delivery.New(env.svc, delivery.Options{Email: sender, Log: log, Poll: 200 * time.Millisecond,
		BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second})
	env.svc.OnOutbox(worker.Kick)
	worker.Start()
	t.Cleanup(worker.Stop)

	mux := http.NewServeMux()
	api.New(env.svc, log).Register(mux)
	console.New(env.svc, log, console.Options{PublicURL: env.url}).Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	if env.tenant, err = env.svc.CreateTenant(ctx, "acme", "Acme Ltd"); err != nil {
		t.Fatal(err)
	}
	env.sys = roster.SystemActor(env.tenant.ID)
	groups, err := env.svc.ListGroups(ctx, env.sys)
	if err != nil {
		t.Fatal(err)
	}
	env.groups["Acme Ltd"] = groups[0].ID
	for _, g := range [][2]string{{"Acme Ltd", "Sales"}, {"Acme Ltd", "Support"}, {"Sales", "Sales North"}, {"Support", "Support Voice"}} {
		env.group(g[1], g[0])
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// Start the browser with its first tab; people get their own profiles in it.
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	// The first run starts the browser and ties its life to its context:
	// it must be root itself, not a context with a timeout.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	env.browserCtx = root
	return env
}

const chromiumPath = "/usr/bin/chromium"

// group creates a group under parent (by name).
func (env *consoleEnv) group(name, parent string) int64 {
	env.t.Helper()
	g, err := env.svc.CreateGroup(context.Background(), env.sys, roster.GroupInput{Name: roster.Some(name), ParentID: roster.Some(env.groups[parent])})
	if err != nil {
		env.t.Fatal(err)
	}
	env.groups[name] = g.ID
	return g.ID
}

// user makes an active user with a password, through an invitation
// accepted in the core (the browser scenario does it through the pages).
func (env *consoleEnv) user(username, group string, roles []string, teams ...string) *roster.User {
	env.t.Helper()
	ctx := context.Background()
	in := roster.UserInput{Username: roster.Some(username), Name: roster.Some(displayName(username)),
		Email: roster.Some(username + "@acme.test"), Language: roster.Some("en"), GroupID: roster.Some(env.groups[group]),
		Roles: roster.Some(roles)}
	var access []int64
	for _, tm := range teams {
		access = append(access, env.groups[tm])
	}
	in.GroupAccess = roster.Some(access)
	links, err := env.svc.InviteUsers(ctx, env.sys, []roster.UserInput{in})
	if err != nil {
		env.t.Fatal(err)
	}
	u, err := env.svc.AcceptInvitation(ctx, tokenOf(links[0].URL), consolePassword, "127.0.0.1", "e2e")
	if err != nil {
		env.t.Fatal(err)
	}
	return u
}

// plainUser creates an active user without a password (seed 003).
func (env *consoleEnv) plainUser(username, group string, roles ...string) *roster.User {
	env.t.Helper()
	u, err := env.svc.CreateUser(context.Background(), env.sys, roster.UserInput{Username: roster.Some(username),
		Name: roster.Some(displayName(username)), Email: roster.Some(username + "@acme.test"), Language: roster.Some("en"),
		GroupID: roster.Some(env.groups[group]), Roles: roster.Some(roles)})
	if err != nil {
		env.t.Fatal(err)
	}
	return u
}

// displayName turns "anna.k" into "Anna K".
func displayName(username string) string {
	parts := strings.FieldsFunc(username, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, " ")
}

// interactions ingests n calls of an agent ID in group (by name), so the
// agent ID exists, as it would after the telephony system reported them.
func (env *consoleEnv) interactions(source, agentExternalID, agentName, group string, n int) {
	env.t.Helper()
	var rows []json.RawMessage
	gid := env.groups[group]
	for i := range n {
		row, _ := json.Marshal(roster.InteractionInput{Source: source, ExternalID: fmt.Sprintf("%s-%s-%d", source, agentExternalID, i),
			AgentExternalID: agentExternalID, AgentName: agentName, GroupID: &gid, Channel: source,
			StartedAt: time.Now().Add(-time.Duration(i+1) * time.Hour).UTC(), DurationS: 120})
		rows = append(rows, row)
	}
	res, err := env.svc.IngestInteractions(context.Background(), env.sys, rows)
	if err != nil {
		env.t.Fatal(err)
	}
	if res.Rejected > 0 {
		env.t.Fatalf("interactions rejected: %+v", res.Errors)
	}
}

func tokenOf(link string) string { return link[strings.LastIndex(link, "/")+1:] }

// browserTab is one person at one browser: a fresh profile (own cookies).
type browserTab struct {
	t     *testing.T
	env   *consoleEnv
	ctx   context.Context
	width int64
}

func (env *consoleEnv) browser() *browserTab {
	env.t.Helper()
	ctx, cancel := chromedp.NewContext(env.browserCtx, chromedp.WithNewBrowserContext())
	env.t.Cleanup(cancel)
	// As with the browser, the first run opens the tab for the life of ctx.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		env.t.Fatalf("open a browser tab: %v", err)
	}
	// Every page records what the Content-Security-Policy blocked and the
	// script errors, so look() can insist there were none.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__problems = [];
		document.addEventListener("securitypolicyviolation", e => window.__problems.push("CSP blocked " + e.violatedDirective + " " + e.blockedURI));
		window.addEventListener("error", e => window.__problems.push("script error: " + e.message));`}); err != nil {
		env.t.Fatal(err)
	}
	return &browserTab{t: env.t, env: env, ctx: ctx, width: 1280}
}

// step bounds every browser action, so a missing element fails the test
// with its name instead of hanging until the test timeout.
const step = 15 * time.Second

func (b *browserTab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser at %s: %v", b.location(), err)
	}
}

func run[T any](b *browserTab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser at %s: %v", b.location(), err)
	}
	return v
}

func (b *browserTab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return loc
}

// open loads a page of the console and waits for it.
func (b *browserTab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.env.url+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// click clicks the element and, when that loads a page, waits for it.
func (b *browserTab) click(css string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(css)), chromedp.Click(chromedp.CSS(css)))
	b.settle()
}

// follow clicks a link and waits until the page it leads to has loaded: a
// plain click's wait can see the old page still "complete".
func (b *browserTab) follow(css string) {
	b.t.Helper()
	b.submit(css)
}

// submit clicks a submit button and waits for the next page to load.
func (b *browserTab) submit(css string) {
	b.t.Helper()
	before := b.eval(`performance.timeOrigin`)
	b.do(chromedp.WaitVisible(chromedp.CSS(css)), chromedp.Click(chromedp.CSS(css)))
	b.waitFor(`performance.timeOrigin !== ` + before + ` && document.readyState === "complete"`)
}

// settle waits until the document is loaded after an action.
func (b *browserTab) settle() {
	b.t.Helper()
	b.waitFor(`document.readyState === "complete"`)
}

// waitFor polls a JavaScript condition until it holds.
func (b *browserTab) waitFor(cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("browser at %s: waited in vain for %s (last error: %v)", b.location(), cond, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fill replaces the value of a field as a user typing it would.
func (b *browserTab) fill(css, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(css)))
	// Empty the field the way a user selecting all and deleting would.
	b.evalOK(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (e.value === "") return true;
		e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, css), css)
	if value == "" {
		return
	}
	b.do(chromedp.SendKeys(chromedp.CSS(css), value))
}

// choose selects an option of a select by its visible text.
func (b *browserTab) choose(css, label string) {
	b.t.Helper()
	b.evalOK(fmt.Sprintf(`(() => {
		const s = document.querySelector(%q);
		const o = [...s.options].find(o => o.textContent.trim() === %q);
		if (!o) return false;
		s.value = o.value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, css, label), "option "+label+" of "+css)
}

func (b *browserTab) text(css string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, chromedp.Text(chromedp.CSS(css))))
}

// pickAgent types into an agent-ID typeahead and picks the option whose
// label contains label.
func (b *browserTab) pickAgent(box, typed, label string) {
	b.t.Helper()
	b.fill(box+" input[type=search]", typed)
	opt := fmt.Sprintf(`[...document.querySelectorAll(%q)].find(li => li.textContent.includes(%q))`, box+" .typeahead-list li", label)
	b.waitFor(opt)
	b.evalOK(`(() => { const li = `+opt+`; li.dispatchEvent(new MouseEvent("mousedown", {bubbles: true})); return true; })()`, "agent option "+label)
	b.waitFor(fmt.Sprintf(`[...document.querySelectorAll(%q)].some(li => li.textContent.includes(%q))`, box+" .picked li", label))
}

// download clicks a download link and returns the file the browser saved.
func (b *browserTab) download(css string) []byte {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID, DownloadPath: dir})
	if err != nil {
		b.t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.CSS(css)))
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					b.t.Fatal(err)
				}
				return data
			}
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("no download from %s", css)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// texts returns the text of every element css matches.
func (b *browserTab) texts(css string) []string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.textContent.trim())`, css)))
}

func (b *browserTab) count(css string) int {
	b.t.Helper()
	return run(b, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
}

// eval runs JavaScript and returns the result as a JSON string.
func (b *browserTab) eval(js string) string {
	b.t.Helper()
	return string(run(b, chromedp.Evaluate[[]byte](js)))
}

func (b *browserTab) evalOK(js, what string) {
	b.t.Helper()
	if !run(b, chromedp.Evaluate[bool](js)) {
		b.t.Fatalf("browser at %s: %s not found", b.location(), what)
	}
}

func (b *browserTab) path() string {
	loc := b.location()
	return strings.TrimPrefix(loc, b.env.url)
}

// signIn fills the sign-in form.
func (b *browserTab) signIn(login, password string) {
	b.t.Helper()
	b.open("/signin")
	b.fill("#f-tenant", "acme")
	b.fill("#f-login", login)
	b.fill("#f-password", password)
	b.submit("main button[type=submit]")
}

// phone runs fn with the tab at a phone's width.
func (b *browserTab) phone(fn func()) {
	b.t.Helper()
	b.width = 390
	b.do(chromedp.EmulateViewport(b.width, 844, chromedp.EmulateScale(2)))
	defer func() {
		b.width = 1280
		b.do(chromedp.EmulateViewport(b.width, 900))
	}()
	fn()
}

// look checks that the page ran without a script error or anything the
// Content-Security-Policy blocked, and saves it as docs/screenshots/NAME.png
// when ROSTER_SCREENSHOTS=1 (so normal runs never rewrite the pictures); an
// empty name only checks.
func (b *browserTab) look(name string) {
	b.t.Helper()
	if problems := run(b, chromedp.Evaluate[[]string](`window.__problems || []`)); len(problems) > 0 {
		b.t.Errorf("%s (%s): %v", name, b.path(), problems)
	}
	if !run(b, chromedp.Evaluate[bool](`!!document.querySelector("main h1") && !document.title.startsWith("Something went wrong")`)) {
		b.t.Errorf("%s (%s) is not a console page: %s", name, b.path(), run(b, chromedp.Evaluate[string](`document.body.innerText.slice(0, 300)`)))
	}
	if name == "" || os.Getenv("ROSTER_SCREENSHOTS") != "1" {
		return
	}
	// A viewport as tall as the page, so sticky bars stay where they belong.
	height := run(b, chromedp.Evaluate[int64](`Math.max(document.documentElement.scrollHeight, 600)`))
	b.do(chromedp.EmulateViewport(b.width, min(height, 4000)))
	png := run(b, chromedp.CaptureScreenshot())
	b.do(chromedp.EmulateViewport(b.width, 900))
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// mailTo waits for the first message to rcpt and returns its subject and text.
func (env *consoleEnv) mailTo(rcpt string) (subject, text string) {
	env.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := env.mail.Messages()
		for _, m := range msgs {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					return m.Subject, m.Text
				}
			}
		}
		if _, err := env.mail.WaitFor(len(msgs)+1, time.Until(deadline)); err != nil {
			env.t.Fatalf("no mail to %s arrived", rcpt)
		}
	}
}

var inviteLinkPattern = regexp.MustCompile(`https?://\S+/invite/inv_[A-Za-z0-9_-]+`)
