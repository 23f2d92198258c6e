package store

import (
	"encoding/json"
	"testing"
)

// sessionIDHead prepares the audit "after" of a sign-in, completed with the
// new session's id in SQL (PostgreSQL) or in Go (SQLite).
func TestSessionIDHead(t *testing.T) {
	for _, c := range []struct {
		after, want string
		ok          bool
	}{
		{`{"expires_at":"2026-11-30T09:00:00Z"}`, `{"expires_at":"2026-11-30T09:00:00Z","session_id":`, true},
		{`{}`, `{"session_id":`, true},
		{``, `{"session_id":`, true},
		{`null`, `{"session_id":`, true},
		{` {"a":1} `, `{"a":1,"session_id":`, true},
		{`[1]`, ``, false},
		{`"x"`, ``, false},
		{`{"a":`, ``, false},
	} {
		got, err := sessionIDHead(json.RawMessage(c.after))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("sessionIDHead(%q) = %q, %v; want %q, ok %v", c.after, got, err, c.want, c.ok)
		}
		if c.ok && !json.Valid([]byte(got+"42}")) {
			t.Errorf("sessionIDHead(%q) completed is not JSON: %s42}", c.after, got)
		}
	}
}
