package i18n

import (
	"testing"
	"testing/fstest"
	"time"
)

func TestMatch(t *testing.T) {
	c := MustLoad()
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{nil, "en"},
		{[]string{""}, "en"},
		{[]string{"de"}, "de"},
		{[]string{"nb"}, "nb"},
		{[]string{"no"}, "nb"},                      // Norwegian means Bokmål
		{[]string{"nb-NO,nb;q=0.9,en;q=0.8"}, "nb"}, // a browser's header
		{[]string{"de-AT"}, "de"},                   // a region of a shipped language
		{[]string{"fr-FR,fr;q=0.9"}, "en"},          // nothing close: English
		{[]string{"fr", "de-DE,de;q=0.9"}, "de"},    // the user's language is not shipped: the browser's
		{[]string{"de", "nb"}, "de"},                // the first preference that matches wins
		{[]string{"not a language tag!!"}, "en"},    // garbage is ignored
		{[]string{"sv", "fr"}, "en"},                // neither is shipped
		{[]string{"en-US,en;q=0.9,de;q=0.5"}, "en"}, // English first
		{[]string{"da,nb;q=0.9"}, "nb"},             // Danish is not shipped; Bokmål is asked for next
		{[]string{"*"}, "en"},                       // anything
		{[]string{"zh-Hant-TW,en-GB;q=0.8"}, "en"},  // the second choice
		{[]string{"de-CH,fr-CH;q=0.9"}, "de"},       // Swiss German
		{[]string{"nb", "de-DE,de;q=0.9"}, "nb"},    // a user's own language beats the browser
		{[]string{"en", "nb-NO,nb;q=0.9"}, "en"},    // ... also when it is English
		{[]string{"", "nb-NO"}, "nb"},               // no user language: the browser
		{[]string{"xx", "yy"}, "en"},                // unknown codes
		{[]string{"pt-BR", ""}, "en"},               // an unshipped language only
		{[]string{"de;q=0"}, "en"},                  // explicitly not German
		{[]string{"nn"}, "nb"},                      // Nynorsk readers read Bokmål better than English
		{[]string{"se"}, "en"},                      // Northern Sami: not close to any
		{[]string{"de-DE-u-co-phonebk"}, "de"},      // extensions do not matter
		{[]string{"EN"}, "en"},                      // case does not matter
	} {
		if got := c.Match(tc.prefs...); got != tc.want {
			t.Errorf("Match(%q) = %s, want %s", tc.prefs, got, tc.want)
		}
	}
}

func TestLocalizer(t *testing.T) {
	c := MustLoad()
	en, de, nb := c.For("en"), c.For("de"), c.For("nb")
	if got := c.For("xx").Lang(); got != "en" {
		t.Errorf("an unshipped language gets %s", got)
	}
	for _, tc := range []struct {
		l    *Localizer
		n    int
		want string
	}{
		{en, 0, "0 users"}, {en, 1, "1 user"}, {en, 2, "2 users"}, {en, 1234, "1,234 users"},
		{de, 1, "1 Benutzer"}, {de, 1234, "1.234 Benutzer"},
		{nb, 1, "1 bruker"}, {nb, 2, "2 brukere"}, {nb, 0, "0 brukere"}, {nb, 1234, "1\u00a0234 brukere"},
	} {
		if got := tc.l.N("{{.Count}} users", tc.n); got != tc.want {
			t.Errorf("%s: %d users = %q, want %q", tc.l.Lang(), tc.n, got, tc.want)
		}
	}
	at := time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		l              *Localizer
		date, datetime string
	}{
		{en, "3 Dec 2026", "3 Dec 2026, 14:05 UTC"},
		{de, "03.12.2026", "03.12.2026, 14:05 UTC"},
		{nb, "03.12.2026", "03.12.2026 kl. 14.05 UTC"},
	} {
		if got := tc.l.Date(at); got != tc.date {
			t.Errorf("%s date %q, want %q", tc.l.Lang(), got, tc.date)
		}
		if got := tc.l.DateTime(at); got != tc.datetime {
			t.Errorf("%s datetime %q, want %q", tc.l.Lang(), got, tc.datetime)
		}
	}
	if got := de.Ago(at.Add(-3*time.Hour), at); got != "vor 3 Stunden" {
		t.Errorf("German ago: %q", got)
	}
	if got := nb.Ago(at.Add(-time.Minute), at); got != "for 1 minutt siden" {
		t.Errorf("Norwegian ago: %q", got)
	}
	if got := en.Ago(at.Add(-90*24*time.Hour), at); got != "4 Sep 2026" {
		t.Errorf("long ago: %q", got)
	}
	if got := de.T("Sign in with {{.Name}}", "Name", "Okta"); got != "Anmelden mit Okta" {
		t.Errorf("placeholder: %q", got)
	}
	if got := de.T("a message nobody wrote"); got != "a message nobody wrote" {
		t.Errorf("a missing message shows its ID: %q", got)
	}
	if got := string(de.HTML("Provisioned by your identity provider (external id <code>{{.ID}}</code>): changes made here may be overwritten.", "ID", "<b>x</b>")); got != "Von Ihrem Identitätsanbieter bereitgestellt (externe ID <code>&lt;b&gt;x&lt;/b&gt;</code>): Änderungen hier können überschrieben werden." {
		t.Errorf("HTML escapes its arguments: %q", got)
	}
	if got := nb.Printf("must be at most %d characters", 64); got != "kan være høyst 64 tegn" {
		t.Errorf("a core message: %q", got)
	}
	if got := nb.Printf("a core message with %d nobody translated", 3); got != "a core message with 3 nobody translated" {
		t.Errorf("an untranslated core message: %q", got)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no English":  {"l/de.json": {Data: []byte(`{"Yes": "Ja"}`)}},
		"broken JSON": {"l/en.json": {Data: []byte(`{"Yes": `)}},
	} {
		if _, err := load(fsys, "l"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	c, err := load(fstest.MapFS{"l/en.json": {Data: []byte(`{"Yes": "Yes"}`)}, "l/nl.json": {Data: []byte(`{"Yes": "Ja"}`)}}, "l")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Languages(); len(got) != 2 || got[0] != "en" || got[1] != "nl" {
		t.Errorf("languages %v", got)
	}
	if got := c.For(c.Match("nl-BE")).T("Yes"); got != "Ja" {
		t.Errorf("a new language is a new file: %q", got)
	}
}
