package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/ssotest"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// samlWorld is a tenant served over HTTP with a real SAML IdP beside it
// (crewjam/saml's samlidp) and a clock the test can move.
type samlWorld struct {
	t      *testing.T
	db     *store.DB
	svc    *roster.Service
	url    string
	idp    *ssotest.SAMLIdP
	tenant *roster.Tenant
	root   int64
	shift  *atomic.Int64
}

func newSAMLWorld(t *testing.T, db *store.DB) *samlWorld {
	t.Helper()
	w := &samlWorld{t: t, db: db, idp: ssotest.StartSAML(t), shift: &atomic.Int64{}}
	w.svc, w.url = w.serve()
	ctx := context.Background()
	tn, err := w.svc.CreateTenant(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := w.svc.ListGroups(ctx, roster.SystemActor(tn.ID))
	if err != nil {
		t.Fatal(err)
	}
	w.tenant, w.root = tn, groups[0].ID
	return w
}

// serve starts a service (a replica, or the process after a restart) on
// the world's database.
func (w *samlWorld) serve() (*roster.Service, string) {
	svc := roster.NewService(w.db, roster.Options{Logger: slog.New(slog.DiscardHandler), SSOAllowLoopbackHTTP: true,
		SecretKey: []byte(strings.Repeat("k", roster.SecretKeySize)),
		Clock:     func() time.Time { return time.Now().Add(time.Duration(w.shift.Load())) }})
	mux := http.NewServeMux()
	New(svc, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	w.t.Cleanup(srv.Close)
	svc.SetPublicURL(srv.URL)
	return svc, srv.URL
}

// provider configures a SAML provider by the IdP's metadata address and
// registers its SP metadata at the IdP.
func (w *samlWorld) provider(a *roster.Actor, name string, in roster.SSOProviderInput) *roster.SSOProvider {
	w.t.Helper()
	return w.addProvider(a, name, in, false)
}

// addProvider configures a provider; inTheClear: the IdP does not encrypt
// its assertions (so a test can change them).
func (w *samlWorld) addProvider(a *roster.Actor, name string, in roster.SSOProviderInput, inTheClear bool) *roster.SSOProvider {
	w.t.Helper()
	in.Kind, in.Name, in.MetadataURL = roster.Some("saml"), roster.Some(name), roster.Some(w.idp.MetadataURL)
	p, err := w.svc.CreateSSOProvider(context.Background(), a, in)
	if err != nil {
		w.t.Fatal(err)
	}
	if inTheClear {
		w.idp.AddSPInTheClear(w.t, strings.ToLower(name), p.SPMetadataURL)
	} else {
		w.idp.AddSP(w.t, strings.ToLower(name), p.SPMetadataURL)
	}
	return p
}

func (w *samlWorld) user(name string, roles ...string) *roster.User {
	w.t.Helper()
	u, err := w.svc.CreateUser(context.Background(), roster.SystemActor(w.tenant.ID), roster.UserInput{Username: roster.Some(name),
		Name: roster.Some(name), Email: roster.Some(name + "@acme.example"), Language: roster.Some("en"),
		GroupID: roster.Some(w.root), Roles: roster.Some(roles)})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func (w *samlWorld) idpUser(name string) {
	w.idp.AddUser(w.t, name, "pw-"+name, name+"@acme.example", "IdP", name)
}

func (w *samlWorld) start(p *roster.SSOProvider) string {
	return w.url + "/sso/" + strconv.FormatInt(p.ID, 10) + "/start"
}

func (w *samlWorld) whoami(c *http.Client) string {
	w.t.Helper()
	resp, err := c.Get(w.url + "/api/v1/sessions/current")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var info SessionInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&info) != nil {
		return ""
	}
	return info.User.Username
}

// signIn runs an SP-initiated sign-in in a fresh browser.
func (w *samlWorld) signIn(p *roster.SSOProvider, name string) (*http.Response, string, string) {
	w.t.Helper()
	c := ssotest.Browser(w.t, w.url)
	resp, body := w.idp.SignIn(w.t, c, w.start(p), name, "pw-"+name)
	return resp, body, w.whoami(c)
}

// post posts an answer in a fresh browser.
func (w *samlWorld) post(a ssotest.Answer) (*http.Response, string, string) {
	w.t.Helper()
	c := ssotest.Browser(w.t, w.url)
	resp, body := ssotest.Post(w.t, c, a)
	return resp, body, w.whoami(c)
}

func signedIn(t *testing.T, what string, resp *http.Response, body, who, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || who != want {
		t.Errorf("%s: %d %s as %q, want signed in as %q", what, resp.StatusCode, body, who, want)
	}
}

func TestSAMLSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSAMLWorld(t, db)
		ctx := context.Background()
		sys := roster.SystemActor(w.tenant.ID)
		p := w.provider(sys, "Okta", roster.SSOProviderInput{})
		if p.Issuer != w.idp.MetadataURL || p.SPEntityID != w.url+"/sso/"+strconv.FormatInt(p.ID, 10)+"/saml/metadata" ||
			p.RedirectURI != w.url+"/sso/"+strconv.FormatInt(p.ID, 10)+"/saml/acs" || !strings.Contains(p.SPCertificate, "BEGIN CERTIFICATE") ||
			!p.TrustEmail {
			t.Errorf("the provider as configured: %+v", p)
		}

		// Linking by email, then by the NameID linked.
		w.user("anna", "agent")
		w.idpUser("anna")
		resp, body, who := w.signIn(p, "anna")
		signedIn(t, "SP-initiated, linked by email", resp, body, who, "anna")
		resp, body, who = w.signIn(p, "anna")
		signedIn(t, "SP-initiated, by the linked NameID", resp, body, who, "anna")
		if audit, err := w.svc.ListAudit(ctx, sys, roster.AuditFilter{Action: "sso.link"}); err != nil || audit.Total != 1 {
			t.Errorf("sso.link audited %v times (%v), want once", audit, err)
		}

		// Nobody of that email.
		w.idpUser("zed")
		resp, body, who = w.signIn(p, "zed")
		wantRefused(t, "unknown user", resp, body, who, http.StatusForbidden, "no account of Acme matches")

		// Deactivated users never get in.
		dora := w.user("dora", "agent")
		w.idpUser("dora")
		if _, err := w.svc.DeactivateUser(ctx, sys, dora.ID); err != nil {
			t.Fatal(err)
		}
		resp, body, who = w.signIn(p, "dora")
		wantRefused(t, "deactivated user", resp, body, who, http.StatusForbidden, "deactivated")

		// Just-in-time creation with the provider's role and group.
		jit := w.provider(sys, "Entra", roster.SSOProviderInput{JIT: roster.Some(true), DefaultRole: roster.Some("agent"),
			DefaultGroupID: roster.Some(w.root)})
		w.idpUser("jill")
		resp, body, who = w.signIn(jit, "jill")
		signedIn(t, "just-in-time creation", resp, body, who, "jill@acme.example")

		// The grant rule bounds just-in-time creation: an Environment
		// Manager cannot set up a provider that makes Admins.
		emma := w.user("emma", "environment_manager")
		em, err := w.svc.ActorForUser(ctx, w.tenant.ID, emma.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.CreateSSOProvider(ctx, em, roster.SSOProviderInput{Kind: roster.Some("saml"), Name: roster.Some("Escalate"),
			MetadataURL: roster.Some(w.idp.MetadataURL), JIT: roster.Some(true), DefaultRole: roster.Some("admin"), DefaultGroupID: roster.Some(w.root)})
		if roster.ErrorCode(err) != roster.EForbidden {
			t.Errorf("an Environment Manager's SAML provider making Admins: %v", err)
		}

		// An IdP that asserts a second factor: the session records it.
		w.idp.AuthnContext = "urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor"
		resp, body, who = w.signIn(p, "anna")
		signedIn(t, "with a second factor", resp, body, who, "anna")
		w.idp.AuthnContext = ""
		ev, err := w.svc.ListAudit(ctx, sys, roster.AuditFilter{Action: "session.create"})
		if err != nil || len(ev.Items) == 0 || !strings.Contains(string(ev.Items[0].After), `"mfa_asserted":true`) {
			t.Errorf("the last session.create: %v %v, want mfa_asserted", ev, err)
		}

		// A disabled provider sends nobody anywhere.
		if _, err := w.svc.UpdateSSOProvider(ctx, sys, p.ID, roster.SSOProviderInput{Enabled: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		resp, body, who = w.signIn(p, "anna")
		wantRefused(t, "disabled provider", resp, body, who, http.StatusNotFound, "does not exist")
	})
}

var signatures = regexp.MustCompile(`(?s)<ds:Signature.*?</ds:Signature>`)

// rewrite changes the XML of an answer.
func rewrite(t *testing.T, a ssotest.Answer, change func(string) string) ssotest.Answer {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(a.Fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	changed := change(string(raw))
	if changed == string(raw) {
		t.Fatalf("the change changed nothing in %s", raw)
	}
	f := url.Values{}
	for k, v := range a.Fields {
		f[k] = v
	}
	f.Set("SAMLResponse", base64.StdEncoding.EncodeToString([]byte(changed)))
	return ssotest.Answer{ACS: a.ACS, Fields: f}
}

func TestSAMLRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newSAMLWorld(t, db)
		sys := roster.SystemActor(w.tenant.ID)
		p := w.addProvider(sys, "Okta", roster.SSOProviderInput{IdPInitiated: roster.Some(true)}, true)
		w.user("anna", "agent")
		w.user("boss", "admin")
		w.idpUser("anna")

		// IdP-initiated, once.
		a := w.idp.IdPInitiated(t, p.SPEntityID, "anna", "pw-anna")
		resp, body, who := w.post(a)
		signedIn(t, "IdP-initiated", resp, body, who, "anna")
		resp, body, who = w.post(a)
		wantRefused(t, "a replayed assertion", resp, body, who, http.StatusUnauthorized, "was used already")
		// Remembered in the database: another replica (or the process
		// after a restart) refuses it too.
		other, otherURL := w.serve()
		other.SetPublicURL(w.url) // the same public address behind a load balancer
		c := ssotest.Browser(t, otherURL)
		a2 := ssotest.Answer{ACS: otherURL + strings.TrimPrefix(a.ACS, w.url), Fields: a.Fields}
		resp, body = ssotest.Post(t, c, a2)
		wantRefused(t, "a replayed assertion at another replica", resp, body, "", http.StatusUnauthorized, "was used already")

		// Changed on the way: another person's email in a signed assertion.
		fresh := w.idp.IdPInitiated(t, p.SPEntityID, "anna", "pw-anna")
		tampered := rewrite(t, fresh, func(x string) string { return strings.ReplaceAll(x, "anna@acme.example", "boss@acme.example") })
		resp, body, who = w.post(tampered)
		wantRefused(t, "a tampered assertion", resp, body, who, http.StatusUnauthorized, "not signed by it, or was changed")

		// Unsigned: the signatures taken off.
		unsigned := rewrite(t, fresh, func(x string) string { return signatures.ReplaceAllString(x, "") })
		resp, body, who = w.post(unsigned)
		wantRefused(t, "an unsigned assertion", resp, body, who, http.StatusUnauthorized, "not signed by it")

		// Expired: posted an hour later.
		w.shift.Store(int64(time.Hour))
		resp, body, who = w.post(fresh)
		wantRefused(t, "an expired assertion", resp, body, who, http.StatusUnauthorized, "has expired")
		w.shift.Store(0)

		// Wrong audience: an answer the IdP made for another service
		// provider, posted here.
		md, err := http.Get(p.SPMetadataURL)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(md.Body)
		md.Body.Close()
		w.idp.AddSPMetadata(t, "other", []byte(strings.Replace(string(raw), `entityID="`+p.SPEntityID+`"`, `entityID="https://other.example/sp"`, 1)))
		foreign := w.idp.IdPInitiated(t, "https://other.example/sp", "anna", "pw-anna")
		resp, body, who = w.post(foreign)
		wantRefused(t, "an assertion for another audience", resp, body, who, http.StatusUnauthorized, "wrong audience")

		// Wrong recipient: an answer for this provider posted to another's ACS.
		q := w.provider(sys, "Second", roster.SSOProviderInput{IdPInitiated: roster.Some(true)})
		misdirected := w.idp.IdPInitiated(t, p.SPEntityID, "anna", "pw-anna")
		misdirected.ACS = q.RedirectURI
		resp, body, who = w.post(misdirected)
		wantRefused(t, "an answer for another provider's address", resp, body, who, http.StatusUnauthorized, "")

		// SP-initiated: the answer must come back to the browser that asked.
		b := ssotest.Browser(t, w.url)
		ans, _, _, ok := w.idp.Answer(t, b, w.start(p), "anna", "pw-anna")
		if !ok {
			t.Fatal("no answer")
		}
		resp, body, who = w.post(ans)
		wantRefused(t, "an answer posted by another browser", resp, body, who, http.StatusUnauthorized, "not started in this browser")

		// Unsolicited answers only when the provider allows them.
		if _, err := w.svc.UpdateSSOProvider(context.Background(), sys, p.ID, roster.SSOProviderInput{IdPInitiated: roster.Some(false)}); err != nil {
			t.Fatal(err)
		}
		resp, body, who = w.post(w.idp.IdPInitiated(t, p.SPEntityID, "anna", "pw-anna"))
		wantRefused(t, "IdP-initiated when not allowed", resp, body, who, http.StatusUnauthorized, "are not accepted")
	})
}
