package auth_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/auth"
)

// fast parameters keep the unit tests quick; the defaults are checked apart.
var fast = auth.Params{Memory: 1024, Time: 1, Threads: 1}

func TestHashAndVerify(t *testing.T) {
	h := auth.NewHasher(fast)
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("encoded hash %q is not PHC argon2id", enc)
	}
	enc2, _ := h.Hash("correct horse battery staple")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	ok, rehash, err := h.Verify("correct horse battery staple", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("verify = %v %v %v", ok, rehash, err)
	}
	ok, _, err = h.Verify("correct horse battery stapl", enc)
	if err != nil || ok {
		t.Fatalf("a wrong password verified: %v %v", ok, err)
	}
	// A hash made with other parameters still verifies, and asks for a rehash.
	stronger := auth.NewHasher(auth.Params{Memory: 2048, Time: 2, Threads: 1})
	ok, rehash, err = stronger.Verify("correct horse battery staple", enc)
	if err != nil || !ok || !rehash {
		t.Fatalf("verify with new params = %v %v %v", ok, rehash, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!",
		"$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if _, _, err := h.Verify("x", bad); err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	p := auth.DefaultParams()
	if p.Memory != 19456 || p.Time != 2 || p.Threads != 1 {
		t.Fatalf("defaults %+v are not OWASP's 19 MiB, t=2, p=1", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (auth.Params{Memory: 10, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}).Validate(); err == nil {
		t.Fatal("10 KiB accepted")
	}
}

func TestPolicy(t *testing.T) {
	p := auth.NewPolicy(10)
	cases := map[string]bool{
		"short":                  false,
		"password123":            false, // common
		"QWERTYUIOP":             false, // common, case-insensitively
		"1234567890":             false,
		"          ":             false,
		"anna.k@example.com":     false, // the email
		"anna.k":                 false, // its local part
		strings.Repeat("x", 300): false,
		"Tr0ub4dor&3-horse":      true,
		"zwölf Äpfel im Korb":    true,
	}
	for pw, want := range cases {
		msg := p.Check(pw, "anna.k", "anna.k@example.com")
		if (msg == "") != want {
			t.Errorf("Check(%q) = %q, want ok=%v", pw, msg, want)
		}
	}
	if !p.IsCommon("iloveyou") || p.IsCommon("Tr0ub4dor&3-horse") {
		t.Fatal("common list")
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c := auth.NewCode()
		if len(c) != auth.CodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 195 {
		t.Fatalf("only %d distinct codes of 200", len(seen))
	}
	if !auth.Equal(auth.HashCode(1, 2, "1234 5678"), auth.HashCode(1, 2, "12345678")) {
		t.Fatal("spaces in a typed code matter")
	}
	if auth.Equal(auth.HashCode(1, 2, "12345678"), auth.HashCode(1, 3, "12345678")) {
		t.Fatal("equal codes of two users hash alike")
	}
}
