// Package ssotest runs a real OpenID Provider in-process for tests: the OP
// of github.com/zitadel/oidc with its example storage, on httptest, with a
// plain login form, users the test defines and signing keys it can rotate.
package ssotest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"html/template"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person known to the OP.
type User struct {
	Subject       string
	Username      string
	Password      string
	Email         string
	EmailVerified bool
	Name          string
}

// OP is a running OpenID Provider. Add clients and users before the flows
// that use them run.
type OP struct {
	Issuer  string
	server  *httptest.Server
	clients map[string]*storage.Client
	users   *users
	keys    *keyRing
}

// Start runs an OP until the test ends.
func Start(t testing.TB) *OP {
	t.Helper()
	o := &OP{clients: map[string]*storage.Client{}, users: &users{m: map[string]*storage.User{}}, keys: &keyRing{}}
	o.keys.rotate()
	mux := http.NewServeMux()
	o.server = httptest.NewServer(mux)
	t.Cleanup(o.server.Close)
	o.Issuer = o.server.URL
	st := &rotatingStorage{Storage: storage.NewStorageWithClients(o.users, o.clients), keys: o.keys}
	cryptoKey := [32]byte{}
	_, _ = rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true,
		SupportedUILocales: []language.Tag{language.English}}, st, op.StaticIssuer(o.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	callback := op.AuthCallbackURL(provider)
	mux.HandleFunc("GET /login/username", func(w http.ResponseWriter, r *http.Request) {
		_ = loginPage.Execute(w, r.FormValue("authRequestID"))
	})
	mux.Handle("POST /login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("id")
		if err := st.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	mux.Handle("/", provider)
	return o
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><title>Sign in</title>
<form method="post" action="/login/username"><input type="hidden" name="id" value="{{.}}">
<input name="username"><input name="password" type="password"><button>Sign in</button></form>`))

// AddClient registers a confidential web client.
func (o *OP) AddClient(id, secret string, redirectURIs ...string) {
	o.clients[id] = storage.WebClient(id, secret, redirectURIs...)
}

// AddUser adds or replaces a person.
func (o *OP) AddUser(u User) {
	o.users.mu.Lock()
	defer o.users.mu.Unlock()
	o.users.m[u.Subject] = &storage.User{ID: u.Subject, Username: u.Username, Password: u.Password, FirstName: u.Name,
		Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
}

// RotateKey signs from now on with a new key and publishes only that one.
func (o *OP) RotateKey() { o.keys.rotate() }

// KeyID is the id of the key tokens are signed with now.
func (o *OP) KeyID() string { return o.keys.current().id }

type users struct {
	mu sync.Mutex
	m  map[string]*storage.User
}

func (u *users) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.m[id]
}

func (u *users) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.m {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *users) ExampleClientID() string { return storage.ServiceUserID }

// keyRing holds the OP's one signing key; rotate replaces it.
type keyRing struct {
	mu  sync.Mutex
	key *signingKey
}

type signingKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (s *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s *signingKey) Key() any                                    { return s.priv }
func (s *signingKey) ID() string                                  { return s.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.priv.PublicKey }

func (k *keyRing) rotate() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	k.mu.Lock()
	k.key = &signingKey{id: "k" + string(hexOf(id)), priv: priv}
	k.mu.Unlock()
}

func (k *keyRing) current() *signingKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key
}

func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}

// rotatingStorage is the example storage with the key ring's key.
type rotatingStorage struct {
	*storage.Storage
	keys *keyRing
}

func (s *rotatingStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return s.keys.current(), nil
}

func (s *rotatingStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *rotatingStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.keys.current()}}, nil
}
