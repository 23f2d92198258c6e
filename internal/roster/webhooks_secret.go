package roster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// WebhookSecretPrefix starts every signing secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// webhookSecretBytes is the length of a new signing secret; Standard
// Webhooks asks for 24 to 64 random bytes.
const webhookSecretBytes = 32

// newWebhookSecret returns "whsec_" + base64 of fresh random bytes.
func newWebhookSecret() string {
	b := make([]byte, webhookSecretBytes)
	_, _ = rand.Read(b)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// WebhookSigningKey is the HMAC key of a secret: its base64 part, decoded.
func WebhookSigningKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, WebhookSecretPrefix))
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errors.New("not a whsec_ secret of 24 to 64 bytes")
	}
	return key, nil
}

// sealingKey turns the operator's --secret-key (any text, or the contents
// of the data folder's secret.key) into the AES-256 key that seals webhook
// secrets at rest.
func sealingKey(text string) []byte {
	k := sha256.Sum256([]byte("roster secret key v1\x00" + strings.TrimSpace(text)))
	return k[:]
}

// sealer seals secrets with AES-256-GCM; the tenant is bound in as
// additional data, so a sealed secret copied to another tenant's row does
// not open.
type sealer struct{ aead cipher.AEAD }

func newSealer(text string) *sealer {
	if strings.TrimSpace(text) == "" {
		// No key configured (tests, one-off commands): secrets made now
		// cannot be opened by another process, which none of those needs.
		text = rand.Text()
	}
	block, err := aes.NewCipher(sealingKey(text))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func sealAD(tenantID int64) []byte {
	return []byte("webhook-secret tenant=" + strconv.FormatInt(tenantID, 10))
}

func (s *sealer) seal(tenantID int64, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), sealAD(tenantID))
}

func (s *sealer) open(tenantID int64, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], sealAD(tenantID))
	if err != nil {
		return "", errors.New("the webhook secret cannot be opened: was the server's --secret-key (or secret.key) changed?")
	}
	return string(plain), nil
}

// Resolver looks up host names (net.DefaultResolver; tests pass their own).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598): not
// the public internet either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// PublicAddress reports whether a webhook may be delivered to addr: not
// loopback, private, link-local, multicast, unspecified or shared, so a
// webhook cannot be aimed at the server's own network (SSRF).
func PublicAddress(addr netip.Addr) bool {
	addr = addr.Unmap()
	switch {
	case !addr.IsValid(), addr.IsLoopback(), addr.IsPrivate(), addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast(),
		addr.IsInterfaceLocalMulticast(), addr.IsMulticast(), addr.IsUnspecified(), cgnat.Contains(addr):
		return false
	case addr.Is4() && (addr.As4()[0] == 0 || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
		return false // "this network" and broadcast
	}
	return true
}

// CheckWebhookHost resolves host and refuses it unless every address is
// public. A name that does not resolve is refused too: there is nothing to
// check, and nothing to deliver to.
func CheckWebhookHost(ctx context.Context, r Resolver, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if !PublicAddress(addr) {
			return nil, fmt.Errorf("%s is a private, loopback, link-local or multicast address", addr)
		}
		return []netip.Addr{addr}, nil
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return nil, fmt.Errorf("%s is this machine", host)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", h)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("%s does not resolve", host)
	}
	for _, a := range addrs {
		if !PublicAddress(a) {
			return nil, fmt.Errorf("%s resolves to %s, a private, loopback, link-local or multicast address", host, a.Unmap())
		}
	}
	return addrs, nil
}
