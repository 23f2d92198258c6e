// Package accesslog carries what a request's access log line learns while
// the request runs — who made it — from the front door that authenticated
// it (API, console, SCIM) to the one middleware that writes the line
// (api.RequestLog, around every door). It knows no door and no rule.
package accesslog

import (
	"context"
	"strconv"

	"github.com/roster-dev/roster/internal/roster"
)

// Entry is filled in while the request runs; Actor is empty while nobody
// authenticated.
type Entry struct {
	Tenant int64
	Actor  string // "user:7", "token:3", "system"
}

type entryKey struct{}

// With returns ctx carrying a new, empty entry.
func With(ctx context.Context) (context.Context, *Entry) {
	e := &Entry{}
	return context.WithValue(ctx, entryKey{}, e), e
}

// NoteActor records the authenticated actor on ctx's entry, if it has one.
func NoteActor(ctx context.Context, a *roster.Actor) {
	e, ok := ctx.Value(entryKey{}).(*Entry)
	if !ok || a == nil {
		return
	}
	e.Tenant = a.TenantID
	e.Actor = a.Kind + ":" + strconv.FormatInt(a.ID, 10)
	if a.Kind == roster.ActorSystem {
		e.Actor = a.Kind
	}
}
