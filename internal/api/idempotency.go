package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// Idempotency-Key on the POSTs that create things: a retry with the same
// key (per tenant and actor, within 24 hours) is answered with the first
// answer, marked Idempotent-Replayed: true, and creates nothing new; the
// same key with another body or query answers 422. Only successful answers are kept:
// a refused request created nothing, so its key may be used again.

// idempotentRoutes take Idempotency-Key.
var idempotentRoutes = map[string]bool{
	"POST /api/v1/users":        true,
	"POST /api/v1/invitations":  true,
	"POST /api/v1/tokens":       true,
	"POST /api/v1/users/import": true,
	"POST /api/v1/webhooks":     true,
}

const idempotencyHeader = "Idempotency-Key"

// idempotent runs h at most once per key.
func (s *Server) idempotent(pattern string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
		key := r.Header.Get(idempotencyHeader)
		if key == "" {
			h(w, r, a)
			return
		}
		body, err := io.ReadAll(r.Body) // limited by the route (limitBody)
		if err != nil {
			s.error(w, r, bodyError(err))
			return
		}
		// The query is part of the request (an import's dry_run and mode).
		sum := sha256.Sum256(append([]byte(pattern+"\n"+r.URL.RawQuery+"\n"), body...))
		kept, err := s.svc.BeginIdempotent(r.Context(), a, key, hex.EncodeToString(sum[:]))
		if err != nil {
			s.error(w, r, err)
			return
		}
		if kept != nil {
			hd := w.Header()
			hd.Set("Content-Type", kept.ContentType)
			if kept.Location != "" {
				hd.Set("Location", kept.Location)
			}
			hd.Set("Idempotent-Replayed", "true")
			w.WriteHeader(kept.Status)
			_, _ = w.Write(kept.Body)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recordingWriter{ResponseWriter: w}
		finished := false
		// Keeping the answer must not depend on the client waiting for it:
		// a lost answer would leave the key reserved and a retry refused.
		ctx := context.WithoutCancel(r.Context())
		defer func() {
			if !finished { // a panic: the next try runs again
				_ = s.svc.AbandonIdempotent(ctx, a, key)
			}
		}()
		h(rec, r, a)
		finished = true
		if rec.status >= 200 && rec.status < 300 {
			err = s.svc.FinishIdempotent(ctx, a, key, roster.IdempotentAnswer{Status: rec.status,
				ContentType: w.Header().Get("Content-Type"), Location: w.Header().Get("Location"), Body: rec.body.Bytes()})
		} else {
			err = s.svc.AbandonIdempotent(ctx, a, key)
		}
		if err != nil {
			s.log.ErrorContext(r.Context(), "keeping an idempotent answer", "key", key, "err", err)
		}
	}
}

// recordingWriter passes an answer through and keeps a copy of it.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
