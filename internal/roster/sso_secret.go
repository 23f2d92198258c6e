package roster

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ssoState is what enterprise sign-in keeps in the process: the key that
// seals secrets at rest, the client that reaches identity providers and
// their discovered configuration.
type ssoState struct {
	aead      cipher.AEAD
	client    *http.Client
	providers sync.Map // issuer -> *discovered
	policies  sync.Map // tenant id -> cachedPolicy
	loopback  bool     // Options.SSOAllowLoopbackHTTP
}

// SecretKeySize is the size of Options.SecretKey.
const SecretKeySize = 32

func (s *Service) initSSO(opts Options) {
	key := opts.SecretKey
	if len(key) != SecretKeySize {
		if len(key) != 0 {
			s.log.Error("secret key has the wrong size; using a random key for this process", "bytes", len(key))
		}
		key = make([]byte, SecretKeySize)
		_, _ = rand.Read(key)
	}
	block, _ := aes.NewCipher(key) // cannot fail for 32 bytes
	s.sso.aead, _ = cipher.NewGCM(block)
	s.sso.client = opts.HTTPClient
	s.sso.loopback = opts.SSOAllowLoopbackHTTP
	if s.sso.client == nil {
		s.sso.client = &http.Client{Timeout: 15 * time.Second}
	}
}

// sealSecret encrypts plain with AES-256-GCM, bound to the tenant (a
// sealed secret copied into another tenant's row does not open).
func (s *Service) sealSecret(tenantID int64, plain string) ([]byte, error) {
	nonce := make([]byte, s.sso.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.sso.aead.Seal(nonce, nonce, []byte(plain), secretAAD(tenantID)), nil
}

// openSecret decrypts what sealSecret made.
func (s *Service) openSecret(tenantID int64, sealed []byte) (string, error) {
	n := s.sso.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	plain, err := s.sso.aead.Open(nil, sealed[:n], sealed[n:], secretAAD(tenantID))
	if err != nil {
		return "", errors.New("sealed secret does not open: was the server's secret key changed?")
	}
	return string(plain), nil
}

func secretAAD(tenantID int64) []byte {
	return []byte("roster secret, tenant " + strconv.FormatInt(tenantID, 10))
}
