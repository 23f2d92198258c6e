package roster

import (
	"strings"
	"testing"
	"time"
)

// TestMessagesInEveryLanguage renders every email and SMS in every message
// language: each is its own text (not English as a fallback), and the HTML
// says its language.
func TestMessagesInEveryLanguage(t *testing.T) {
	tpl := mustParseTemplates()
	d := messageData{Tenant: "Acme", Name: "Kari", Username: "kari", Link: "https://x/invite/t", Code: "123456",
		Expires: formatTime(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), "nb"), Minutes: 15}
	greeting := map[string]string{"en": "Hello Kari", "de": "Hallo Kari", "nb": "Hei Kari"}
	for _, lang := range messageLanguages {
		for _, kind := range []string{"invitation", "code"} {
			subject, text, html, err := tpl.render(kind, lang, ChannelEmail, d)
			if err != nil {
				t.Fatalf("%s.%s: %v", kind, lang, err)
			}
			if subject == "" || !strings.Contains(text, greeting[lang]) || !strings.Contains(html, `lang="`+lang+`"`) {
				t.Errorf("%s.%s: subject %q, text %q, html lang missing", kind, lang, subject, text)
			}
		}
		_, sms, _, err := tpl.render("code", lang, ChannelSMS, d)
		if err != nil || !strings.HasPrefix(sms, "123456 ") {
			t.Errorf("code SMS in %s: %q, %v", lang, sms, err)
		}
	}
	if got := formatTime(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), "nb"); got != "01.03.2026 kl. 09.30 UTC" {
		t.Errorf("Norwegian time: %q", got)
	}
	u := &User{Name: "Kari", Username: "kari", Language: "nb"}
	subject, text := contactChangedMessage(u, &Tenant{Name: "Acme"}, "email", "kari@new.example", ChannelEmail)
	if subject != "E-postadressen din hos Acme er endret" || !strings.Contains(text, "Hei Kari") || !strings.Contains(text, "k…@new.example") {
		t.Errorf("Norwegian notice: %q\n%s", subject, text)
	}
}
