package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// secretKey reads the key that seals stored secrets (identity providers'
// client secrets): the file of --secret-key-file (env ROSTER_SECRET_KEY_FILE),
// else DIR/secret.key, made with a random key (mode 0600) the first time.
// The file holds the key in base64. Every replica must use the same one, so
// with PostgreSQL (replicas, often no data folder) none is made: without a
// key file the process seals with a key of its own, lost when it stops.
func (c *Config) secretKey(log *slog.Logger) ([]byte, error) {
	path := c.SecretKeyFile
	if path == "" {
		path = filepath.Join(c.DataDir, "secret.key")
		_, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) && c.DB != "" {
			log.Warn("no --secret-key-file: SSO client secrets saved now cannot be read after a restart or by other replicas")
			return nil, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			key := make([]byte, roster.SecretKeySize)
			_, _ = rand.Read(key)
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("making the secret key: %w", err)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--secret-key-file: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != roster.SecretKeySize {
		return nil, fmt.Errorf("--secret-key-file %s must hold %d bytes in base64 (made with: head -c %d /dev/urandom | base64)",
			path, roster.SecretKeySize, roster.SecretKeySize)
	}
	return key, nil
}
