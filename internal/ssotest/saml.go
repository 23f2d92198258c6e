package ssotest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/crewjam/saml/samlidp"
)

// SAMLIdP is a real SAML 2.0 identity provider running in-process:
// crewjam/saml's samlidp with its memory store, on httptest. Its login form
// posts "user" and "password"; its answers are signed with its own key.
type SAMLIdP struct {
	URL         string
	MetadataURL string
	Server      *samlidp.Server
	srv         *httptest.Server
	// AuthnContext, when set, is the AuthnContextClassRef the IdP asserts
	// (PasswordProtectedTransport otherwise).
	AuthnContext string
}

// StartSAML runs a SAML IdP until the test ends.
func StartSAML(t testing.TB) *SAMLIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test IdP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	i := &SAMLIdP{}
	mux := http.NewServeMux()
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.URL = i.srv.URL
	i.MetadataURL = i.URL + "/metadata"
	base, _ := url.Parse(i.URL)
	s, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Signer: key, Certificate: cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	s.IDP.AssertionMaker = contextMaker{i}
	i.Server = s
	mux.Handle("/", s)
	return i
}

// contextMaker asserts the IdP's AuthnContext, if set.
type contextMaker struct{ i *SAMLIdP }

func (m contextMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if m.i.AuthnContext != "" {
		s := *session
		s.AuthnContextClassRef = m.i.AuthnContext
		session = &s
	}
	return saml.DefaultAssertionMaker{}.MakeAssertion(req, session)
}

// Metadata is the IdP's metadata XML.
func (i *SAMLIdP) Metadata(t testing.TB) string {
	t.Helper()
	resp, err := http.Get(i.MetadataURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (i *SAMLIdP) put(t testing.TB, path string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, i.URL+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s at the IdP: %d %s", path, resp.StatusCode, b)
	}
}

// AddSP registers a service provider by the metadata it serves at
// metadataURL.
func (i *SAMLIdP) AddSP(t testing.TB, name, metadataURL string) {
	t.Helper()
	resp, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SP metadata: %d %s", resp.StatusCode, md)
	}
	i.AddSPMetadata(t, name, md)
}

var encryptionKey = regexp.MustCompile(`(?s)<(md:)?KeyDescriptor use="encryption">.*?</(md:)?KeyDescriptor>`)

// AddSPInTheClear registers a service provider like AddSP, but without its
// encryption key, so the IdP sends its assertions unencrypted (tests that
// change or unsign them need to see them).
func (i *SAMLIdP) AddSPInTheClear(t testing.TB, name, metadataURL string) {
	t.Helper()
	resp, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	clear := encryptionKey.ReplaceAll(md, nil)
	if bytes.Equal(clear, md) {
		t.Fatalf("no encryption key in the SP metadata: %s", md)
	}
	i.AddSPMetadata(t, name, clear)
}

// AddSPMetadata registers a service provider by its metadata XML.
func (i *SAMLIdP) AddSPMetadata(t testing.TB, name string, md []byte) {
	t.Helper()
	i.put(t, "/services/"+name, md)
}

// AddUser adds a person who signs in with name and password; their email
// is also their NameID.
func (i *SAMLIdP) AddUser(t testing.TB, name, password, email, given, surname string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"name": name, "password": password, "email": email, "given_name": given,
		"surname": surname, "common_name": strings.TrimSpace(given + " " + surname)})
	i.put(t, "/users/"+name, b)
}

// Browser is a client with cookies that stops at any page of the app
// outside /sso/ (the console a sign-in ends on), returning that redirect.
func Browser(t testing.TB, appURL string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	app, err := url.Parse(appURL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == app.Host && !strings.HasPrefix(req.URL.Path, "/sso/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// Answer is a SAML answer the IdP's page would post: where, and what.
type Answer struct {
	ACS    string
	Fields url.Values
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)
)

func readForm(page string) (string, url.Values) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil
	}
	v := url.Values{}
	for _, h := range hidden.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return html.UnescapeString(m[1]), v
}

// Answer starts a sign-in at startURL in browser c, signs in at the IdP's
// login form, and returns the answer the IdP's page would post to the app,
// without posting it. ok is false when the app answered without sending
// the browser to the IdP (resp and body are then the app's).
func (i *SAMLIdP) Answer(t testing.TB, c *http.Client, startURL, user, password string) (a Answer, resp *http.Response, body string, ok bool) {
	t.Helper()
	resp, err := c.Get(startURL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Request.URL.String(), i.URL) {
		return Answer{}, resp, string(b), false
	}
	action, fields := readForm(string(b))
	if fields.Get("SAMLResponse") != "" { // signed in at the IdP already
		return Answer{ACS: action, Fields: fields}, nil, "", true
	}
	if action == "" {
		t.Fatalf("no login form at the IdP: %d %s", resp.StatusCode, b)
	}
	fields.Set("user", user)
	fields.Set("password", password)
	resp, err = c.PostForm(action, fields)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	acs, answer := readForm(string(b))
	if answer.Get("SAMLResponse") == "" {
		t.Fatalf("the IdP sent no SAML answer: %d %s", resp.StatusCode, b)
	}
	return Answer{ACS: acs, Fields: answer}, nil, "", true
}

// ForgetSession ends browser c's session at the IdP (its cookie
// "session"; cookies do not tell ports apart, so the app's stay), so the
// next sign-in asks for a login again.
func (i *SAMLIdP) ForgetSession(c *http.Client) {
	u, _ := url.Parse(i.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "", Path: "/", MaxAge: -1}})
}

// IdPInitiated signs user in at the IdP and starts a sign-in from there to
// the service provider spEntityID: the answer its page would post.
func (i *SAMLIdP) IdPInitiated(t testing.TB, spEntityID, user, password string) Answer {
	t.Helper()
	name := "sc" + strings.ReplaceAll(strings.ReplaceAll(spEntityID, "/", ""), ":", "")
	b, _ := json.Marshal(samlidp.Shortcut{Name: name, ServiceProviderID: spEntityID})
	i.put(t, "/shortcuts/"+name, b)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(i.URL+"/login", url.Values{"user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(i.URL + "/login/" + name)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	acs, fields := readForm(string(page))
	if fields.Get("SAMLResponse") == "" {
		t.Fatalf("the IdP sent no IdP-initiated answer: %d %s", resp.StatusCode, page)
	}
	return Answer{ACS: acs, Fields: fields}
}

// Post posts an answer to the app in browser c, as the IdP's page does.
func Post(t testing.TB, c *http.Client, a Answer) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(a.ACS, a.Fields)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// SignIn runs a whole SP-initiated sign-in in browser c and returns the
// app's last answer.
func (i *SAMLIdP) SignIn(t testing.TB, c *http.Client, startURL, user, password string) (*http.Response, string) {
	t.Helper()
	a, resp, body, ok := i.Answer(t, c, startURL, user, password)
	if !ok {
		return resp, body
	}
	return Post(t, c, a)
}
