package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// englishLeftovers are English words of the console that a German page
// must not show (each as it appears in the markup).
var englishLeftovers = []string{
	">Sign out<", "Skip to content", ">Invite users<", ">Audit log<", "Items per page", ">Save", ">Cancel<",
	">Delete<", ">Search<", "Previous", "Properties &amp; skills", ">My Team<", ">Roles<", ">Groups<",
	">never<", "Please correct", "Organisation settings", ">Coaching plans<", ">Users<", ">Edit<", ">Outbox<",
	"No items", ">Create ", ">Back", ">Email", ">Username<", ">Home group<", ">Language<", "Download CSV",
	">Active<", ">Invited<", ">Open<", ">In progress<", " ago<", "What will happen", ">Filters",
}

var textBetweenTags = regexp.MustCompile(`>([^<>]*[A-Za-z][^<>]*)<`)

// TestConsoleGerman renders every page for a user whose language is
// German, then Norwegian: the page says its lang, and none of a sample of
// the console's English strings is left.
func TestConsoleGerman(t *testing.T) {
	a, pages := everyPage(t)
	ctx := context.Background()
	if _, err := a.svc.UpdateTenant(ctx, a.sys, roster.TenantInput{Settings: roster.TenantSettingsInput{
		Languages: roster.Some([]string{"en", "de", "nb"})}}); err != nil {
		t.Fatal(err)
	}
	admin := mustUser(t, a, "admin")
	c := a.client()
	c.signIn("admin")
	for _, lang := range []struct{ code, signOut string }{{"nb", ">Logg ut<"}, {"de", ">Abmelden<"}} {
		if _, err := a.svc.UpdateUser(ctx, a.sys, admin.ID, roster.UserInput{Language: roster.Some(lang.code)}); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if strings.HasSuffix(p, ".csv") || strings.HasPrefix(p, "/agents/lookup") {
				continue // data, not a page
			}
			resp, body := c.get(p)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d", p, resp.StatusCode)
				continue
			}
			if !strings.Contains(body, `<html lang="`+lang.code+`">`) || !strings.Contains(body, lang.signOut) {
				t.Errorf("%s is not in %s", p, lang.code)
			}
			for _, en := range englishLeftovers {
				if strings.Contains(body, en) {
					t.Errorf("%s in %s shows the English %q", p, lang.code, en)
				}
			}
		}
	}
	// Dates, plurals and numbers follow the language.
	_, body := c.get("/users")
	if !strings.Contains(body, "3 Benutzer") {
		t.Errorf("the users list does not count in German:\n%s", textOf(body))
	}
	if _, body := c.get("/audit"); !regexp.MustCompile(`\d\d\.\d\d\.20\d\d, \d\d:\d\d UTC`).MatchString(body) {
		t.Errorf("the audit log does not write German dates:\n%s", textOf(body))
	}
	// A refusal of the core, said in German.
	resp, body := c.post("/groups", url.Values{"csrf": {c.csrf("/groups")}, "name": {""}, "parent_id": {""}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "ist erforderlich") || !strings.Contains(body, "Bitte korrigieren Sie") {
		t.Errorf("a refused form is not explained in German: %d\n%s", resp.StatusCode, textOf(body))
	}
}

// TestConsoleLanguageChoice: before sign-in the browser's Accept-Language
// decides, an invitation speaks the invited user's language, and English
// counts "1 user" but "2 users".
func TestConsoleLanguageChoice(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	for accept, want := range map[string][]string{
		"nb-NO,nb;q=0.9,en;q=0.5": {`lang="nb"`, ">Logg inn<"},
		"no":                      {`lang="nb"`, ">Logg inn<"},
		"de-CH,de;q=0.8":          {`lang="de"`, ">Anmelden<"},
		"fr-FR,fr;q=0.9":          {`lang="en"`, ">Sign in<"},
		"":                        {`lang="en"`, ">Sign in<"},
	} {
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/signin", nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("Accept-Language %q: no %s on the sign-in page", accept, w)
			}
		}
	}
	// A wrong password, refused in the browser's language.
	c := a.client()
	tok := c.csrf("/signin")
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/signin", strings.NewReader(url.Values{"csrf": {tok}, "tenant": {"acme"},
		"login": {"nobody"}, "password": {"wrong-wrong-wrong"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept-Language", "nb")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); !strings.Contains(body, "Brukernavnet, e-postadressen eller passordet er feil") {
		t.Errorf("a refused sign-in is not in Norwegian:\n%s", textOf(body))
	}

	// The invitation's language wins over the browser's.
	links, err := a.svc.InviteUsers(ctx, a.sys, []roster.UserInput{{Email: roster.Some("kari@acme.test"), Name: roster.Some("Kari"),
		Language: roster.Some("de"), GroupID: roster.Some(a.group)}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, links[0].URL[strings.Index(links[0].URL, "/invite/"):], nil)
	req.URL, _ = url.Parse(a.srv.URL + req.URL.String())
	req.Header.Set("Accept-Language", "en-GB")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); !strings.Contains(body, `lang="de"`) || !strings.Contains(body, "Hallo Kari") {
		t.Errorf("the invitation page is not in the invitation's language:\n%s", textOf(body))
	}

	// English plurals: one user, two users.
	a.user("admin", roster.RoleAdmin)
	c = a.client()
	c.signIn("admin")
	if _, body := c.get("/users"); !strings.Contains(body, ">2 users<") {
		t.Errorf("two users are not counted as such:\n%s", textOf(body))
	}
	if err := a.svc.DeleteUser(ctx, a.sys, mustUser(t, a, "kari@acme.test").ID); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get("/users"); !strings.Contains(body, ">1 user<") {
		t.Errorf("one user is not counted as such:\n%s", textOf(body))
	}
}

func mustUser(t *testing.T, a *app, username string) *roster.User {
	t.Helper()
	p, err := a.svc.ListUsers(context.Background(), a.sys, roster.UserQuery{Q: username})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Items {
		if p.Items[i].Username == username {
			return &p.Items[i]
		}
	}
	t.Fatalf("no user %s", username)
	return nil
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// textOf is a page's text, for failure messages.
func textOf(body string) string {
	var parts []string
	for _, m := range textBetweenTags.FindAllStringSubmatch(body, -1) {
		if s := strings.TrimSpace(m[1]); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " | ")
}
