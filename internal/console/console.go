// Package console is the admin console: server-rendered HTML pages over the
// same core as the REST API. Handlers parse the request, call the core
// (*roster.Service) and render a template; no rule or permission check lives
// here. The console only hides navigation the actor cannot use (Actor.Can),
// and the core refuses anything the actor may not do whichever page asked.
package console

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/i18n"
	"github.com/roster-dev/roster/internal/roster"
)

// Options configure the console.
type Options struct {
	// PublicURL is the base of links shown to admins (invitation links); an
	// https URL also marks every cookie Secure.
	PublicURL string
	// SecureCookies forces the Secure flag on cookies (behind a TLS proxy).
	SecureCookies bool
	// Proxies are the reverse proxies whose X-Forwarded-For, Forwarded and
	// X-Forwarded-Proto are believed; nil trusts nobody.
	Proxies *clientip.Proxies
	// Catalogue holds the console's words in every shipped language; nil
	// loads the embedded one.
	Catalogue *i18n.Catalogue
}

// Server serves the console's pages and static assets.
type Server struct {
	svc    *roster.Service
	log    *slog.Logger
	opts   Options
	views  *views
	static *staticFiles
	cop    *http.CrossOriginProtection
	cat    *i18n.Catalogue
	// imports are the console's imports running in the background.
	imports importRuns
}

// New returns the console over svc.
func New(svc *roster.Service, log *slog.Logger, opts Options) *Server {
	if log == nil {
		log = slog.Default()
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if strings.HasPrefix(opts.PublicURL, "https://") {
		opts.SecureCookies = true
	}
	if opts.Catalogue == nil {
		opts.Catalogue = i18n.MustLoad()
	}
	s := &Server{svc: svc, log: log, opts: opts, static: loadStatic(), cop: newCrossOriginProtection(opts.PublicURL), cat: opts.Catalogue}
	s.views = loadViews(s.static, s.cat)
	return s
}

// Register adds the console's pages at / and its assets at /static/ to mux.
// The REST API owns /api/ and is registered separately.
func (s *Server) Register(mux *http.ServeMux) {
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	mux.Handle("GET /static/", s.secure(http.HandlerFunc(s.static.serve)))
	// Everything else is the console's own "not found" page.
	mux.Handle("/", s.wrap(route{pattern: "/", access: public, h: func(w http.ResponseWriter, r *http.Request, p *page) error {
		return roster.Errorf(roster.ENotFound, "there is no page at %s", r.URL.Path)
	}}))
}

// wrap turns a route into an http.Handler: security headers, cross-origin
// protection, the session, the CSRF token of POST forms, then the page.
func (s *Server) wrap(rt route) http.Handler {
	limit := formLimit(rt.pattern)
	return s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := limitForm(w, r, limit); err != nil {
			s.fail(w, r, nil, err)
			return
		}
		p, err := s.newPage(w, r)
		if err != nil {
			s.fail(w, r, p, err)
			return
		}
		if rt.access == signedIn && p.Actor == nil {
			s.toSignIn(w, r)
			return
		}
		if r.Method == http.MethodPost && !s.validCSRF(r, p) {
			s.fail(w, r, p, roster.Errorf(roster.EForbidden, "the form has expired or did not come from this site; reload the page and try again")) // console.* in the catalogue
			return
		}
		if err := rt.h(w, r, p); err != nil {
			s.fail(w, r, p, err)
		}
	}))
}

// toSignIn sends an anonymous visitor to the sign-in page, remembering where
// they wanted to go.
func (s *Server) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + urlQueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// setRetryAfter tells the browser when trying again helps (429, 503).
func setRetryAfter(w http.ResponseWriter, err error) {
	if d := roster.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)))
	}
}

// fail renders err as an error page. Internal errors are logged and shown
// only as "something went wrong"; an outage is logged and the page says to
// try again in a minute.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	code := roster.ErrorCode(err)
	status := door.StatusOf(code)
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		s.clearSession(w, r)
		s.toSignIn(w, r)
		return
	}
	switch status {
	case http.StatusInternalServerError:
		s.log.ErrorContext(r.Context(), "console: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case http.StatusServiceUnavailable:
		s.log.WarnContext(r.Context(), "console: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	setRetryAfter(w, err)
	if p == nil {
		p = &page{}
	}
	if p.L == nil {
		p.L = s.localizerFor(r, "")
	}
	title := map[int]string{
		http.StatusBadRequest:            msg("That did not work"),
		http.StatusRequestEntityTooLarge: msg("Too much at once"),
		http.StatusNotFound:              msg("Not found"),
		http.StatusConflict:              msg("That is not possible right now"),
		http.StatusUnauthorized:          msg("Please sign in"),
		http.StatusForbidden:             msg("Not allowed"),
		http.StatusGone:                  msg("No longer available"),
		http.StatusTooManyRequests:       msg("Too many attempts"),
		http.StatusServiceUnavailable:    msg("Roster cannot reach its database"),
	}[status]
	if title == "" {
		title = msg("Something went wrong")
	}
	p.Title = p.T(title)
	p.Data = errorData{Status: status, Message: errorMessage(p.L, err), Fields: errorFields(p.L, err), Back: safeBack(r)}
	s.render(w, r, status, "error", p)
}

type errorData struct {
	Status  int
	Message string
	Fields  []roster.FieldError // Message in the reader's language
	Back    string
}

// errorFields are the core's field complaints, said in l's language.
func errorFields(l *i18n.Localizer, err error) []roster.FieldError {
	fields := roster.ErrorFields(err)
	out := make([]roster.FieldError, len(fields))
	for i, f := range fields {
		out[i] = roster.FieldError{Field: f.Field, Message: fieldMessage(l, f)}
	}
	return out
}

// safeBack is where the error page's "back" link leads: the form's own page
// after a POST (most forms are shown by a GET of the same path), else home.
func safeBack(r *http.Request) string {
	if r.Method == http.MethodPost {
		return r.URL.Path
	}
	return "/"
}
