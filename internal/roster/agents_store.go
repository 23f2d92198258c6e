package roster

// AgentsTx holds the queries of agent IDs, interactions, queue state and the
// data behind the decision index.
type AgentsTx interface {
}
