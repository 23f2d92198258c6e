package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Cookie names. The session cookie is shared with the REST API, which accepts
// it as well as bearer tokens.
const (
	sessionCookie = "roster_session"
	preCookie     = "roster_csrf"  // an anonymous visitor's CSRF secret (sign-in, invitation forms)
	flashCookie   = "roster_flash" // a one-shot message shown after a redirect
	orgCookie     = "roster_org"   // the organisation last signed in to, to fill in the sign-in form
)

// contentSecurityPolicy allows scripts, styles and images from /static only:
// no inline script or style, no other origin, no framing, forms post here only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure adds the security headers to every console response and refuses
// cross-origin form posts (net/http.CrossOriginProtection: Sec-Fetch-Site,
// then Origin against Host).
func (s *Server) secure(h http.Handler) http.Handler {
	protected := s.cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w, s.secureRequest(r))
		protected.ServeHTTP(w, r)
	})
}

// newCrossOriginProtection refuses cross-origin form posts. The public URL's
// origin is trusted too, for a proxy that passes on another Host header.
func newCrossOriginProtection(publicURL string) *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w, false)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("Cross-origin form posts are refused. Open the page on this site and submit it from there.\n"))
	}))
	return cop
}

func setSecurityHeaders(w http.ResponseWriter, tls bool) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Invitation links carry their token in the path: never send it on.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// secureRequest reports whether cookies must carry the Secure flag: the
// public URL is https, the connection is TLS, or a trusted proxy says the
// client came over https.
func (s *Server) secureRequest(r *http.Request) bool {
	return s.opts.SecureCookies || s.opts.Proxies.Secure(r)
}

// setCookie writes an HttpOnly, SameSite=Lax cookie for the whole site;
// maxAge 0 makes it a browser-session cookie, a negative one deletes it.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken derives the form token from a secret only the browser holds in
// an HttpOnly cookie (the session token, or the anonymous CSRF secret), so a
// page on another site can neither read nor compute it. Nothing is stored.
func csrfToken(secret string) string {
	if secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte("roster-console-csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:24])
}

// anonymousCSRF returns the CSRF token of a visitor without a session,
// creating their secret on first sight.
func (s *Server) anonymousCSRF(w http.ResponseWriter, r *http.Request) string {
	secret := cookieValue(r, preCookie)
	if len(secret) < 32 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		s.setCookie(w, r, preCookie, secret, 0)
	}
	return csrfToken(secret)
}

// validCSRF checks the token of a posted form against the page's.
func (s *Server) validCSRF(r *http.Request, p *page) bool {
	got := r.PostFormValue("csrf")
	return p.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) == 1
}

// flash remembers a message for the next page (after a redirect).
func (s *Server) flash(w http.ResponseWriter, r *http.Request, kind, msg string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + msg))
	s.setCookie(w, r, flashCookie, v, 120)
}

// takeFlash reads and clears the pending message.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) (kind, msg string) {
	v := cookieValue(r, flashCookie)
	if v == "" {
		return "", ""
	}
	s.setCookie(w, r, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return "", ""
	}
	kind, msg, _ = strings.Cut(string(b), "\n")
	if kind != "success" && kind != "error" && kind != "info" {
		kind = "info"
	}
	return kind, msg
}

// redirect answers a successful POST: 303 to a local page, with a message.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, msg string) error {
	if msg != "" {
		s.flash(w, r, "success", msg)
	}
	http.Redirect(w, r, localPath(to, "/"), http.StatusSeeOther)
	return nil
}

// localPath returns to when it is a path on this site, else def. It keeps
// "next" parameters from becoming open redirects.
func localPath(to, def string) string {
	if to == "" || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.HasPrefix(to, "/\\") {
		return def
	}
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return def
	}
	return to
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
