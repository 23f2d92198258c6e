package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"math/big"
	"strconv"
	"strings"
)

// CodeDigits is the length of one-time codes: eight digits give 10^8
// possibilities against a handful of allowed attempts per code.
const CodeDigits = 8

// NewCode returns a uniformly random numeric code of CodeDigits digits.
func NewCode() string {
	max := big.NewInt(100_000_000)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	s := n.String()
	return strings.Repeat("0", CodeDigits-len(s)) + s
}

// HashCode binds a code to its user, so equal codes of two users never share
// a hash. The code lives minutes and allows few attempts; a fast hash is
// enough (the rate limits, not the hash, stop guessing).
func HashCode(tenantID, userID int64, code string) []byte {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(tenantID, 10) + ":" + strconv.FormatInt(userID, 10) + ":" + NormalizeCode(code)))
	return h.Sum(nil)
}

// NormalizeCode drops the spaces and dashes people type into codes.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
