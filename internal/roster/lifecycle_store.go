package roster

// LifecycleTx holds the queries of invitations, passwords, sessions,
// one-time codes and the outbox.
type LifecycleTx interface {
}
