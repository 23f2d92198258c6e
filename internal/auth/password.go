// Package auth holds the credentials machinery of Roster: argon2id password
// hashing, the password policy, one-time codes and the rate limits whose
// state lives in the database (so every replica sees the same counts).
// It knows nothing of the domain; the core calls it.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's recommended argon2id settings: 19 MiB, t=2, p=1.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports parameters too weak or too large to use.
func (p Params) Validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory < 1024:
		return fmt.Errorf("argon2 memory must be at least 1024 KiB (got %d)", p.Memory)
	case p.Memory > 4*1024*1024:
		return fmt.Errorf("argon2 memory must be at most 4 GiB (got %d KiB)", p.Memory)
	case p.Time < 1 || p.Time > 100:
		return fmt.Errorf("argon2 time must be 1 to 100 (got %d)", p.Time)
	case p.Threads < 1:
		return fmt.Errorf("argon2 threads must be at least 1")
	case p.SaltLen < 8 || p.KeyLen < 16:
		return fmt.Errorf("argon2 salt must be at least 8 bytes and key at least 16")
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id. Encoded hashes use the
// PHC string format, so the parameters travel with each hash and can be
// raised later without breaking old hashes.
type Hasher struct {
	Params Params
	// slots bounds the hashes computed at once to the CPUs: each holds
	// Params.Memory, and more at once than there are cores only adds memory
	// and cache pressure (measured: 8 at once on 2 cores hash 10–40% slower
	// in all than 2). A flood of sign-ins queues here instead of taking
	// 19 MiB each. Nil (a Hasher not made by NewHasher): no bound.
	slots chan struct{}
}

// NewHasher returns a hasher with p, or the defaults for zero fields, that
// computes at most one hash per CPU at a time.
func NewHasher(p Params) *Hasher {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return &Hasher{Params: p, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
}

// idKey computes argon2id in one of the hasher's slots.
func (h *Hasher) idKey(password, salt []byte, p Params, keyLen uint32) []byte {
	if h.slots != nil {
		h.slots <- struct{}{}
		defer func() { <-h.slots }()
	}
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, keyLen)
}

var b64 = base64.RawStdEncoding

// Hash returns the PHC-encoded argon2id hash of password with a fresh salt:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$KEY
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.Params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := h.idKey([]byte(password), salt, h.Params, h.Params.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Params.Memory, h.Params.Time, h.Params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrMalformedHash means a stored hash could not be read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Verify reports whether password matches encoded, comparing in constant
// time. rehash is true when the hash was made with other parameters than
// the hasher's, so the caller can store a fresh one after a good sign-in.
func (h *Hasher) Verify(password, encoded string) (ok, rehash bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := h.idKey([]byte(password), salt, p, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.Memory != h.Params.Memory || p.Time != h.Params.Time || p.Threads != h.Params.Threads ||
		uint32(len(key)) != h.Params.KeyLen || uint32(len(salt)) != h.Params.SaltLen
	return ok, rehash, nil
}

func decodeHash(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Validate() != nil {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
