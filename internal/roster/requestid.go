package roster

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves (a
// front door's X-Request-Id); audit events written under it record it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, empty when none.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
