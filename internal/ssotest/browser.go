package ssotest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Browser is a client with cookies that follows redirects through the OP
// and the app's /sso/ paths, and stops at any other page of the app (the
// console the sign-in ends on), returning that redirect.
func (o *OP) Browser(t testing.TB, appURL string) *http.Client {
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

// SignIn starts a sign-in at startURL, signs in at the OP's login form as
// username, and returns the app's last answer (its body read into Body).
func (o *OP) SignIn(t testing.TB, c *http.Client, startURL, username, password string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(startURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if !strings.HasPrefix(resp.Request.URL.String(), o.Issuer+"/login/username") || id == "" {
		return resp, string(body) // the app answered without sending us to the OP
	}
	resp, err = c.PostForm(o.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp, string(body)
}

// IDToken runs the code flow as client clientID (PKCE, the nonce given)
// with the OP alone and returns the raw ID token it issued.
func (o *OP) IDToken(t testing.TB, clientID, secret, redirectURI, nonce, username, password string) string {
	t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, o.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirectURI,
		Scopes: []string{oidc.ScopeOpenID, "email"}}
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	var code string
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			code = req.URL.Query().Get("code")
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(cfg.AuthCodeURL("state", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err = c.PostForm(o.Issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code == "" {
		t.Fatalf("the OP issued no code (status %d)", resp.StatusCode)
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	return raw
}
