package authz

import "time"

// Stats describe the index for monitoring.
type Stats struct {
	Tenants, Users, Groups, Roles, Agents int // loaded partitions and what they hold
	Tokens                                int // cached API tokens
	// Lag is how long ago the last completed look at the change log began:
	// the index may miss other processes' changes of that long. Zero while
	// nothing is loaded (there is nothing to be stale).
	Lag time.Duration
}

// Stats counts what the index holds. It takes each partition's read lock
// in turn, as a decision does.
func (x *Index) Stats() Stats {
	var st Stats
	for _, p := range *x.parts.Load() {
		p.mu.RLock()
		st.Tenants++
		st.Users += len(p.users)
		st.Groups += len(p.groups)
		st.Roles += len(p.roles)
		st.Agents += len(p.agents)
		p.mu.RUnlock()
	}
	x.tokMu.RLock()
	st.Tokens = len(x.tokens)
	x.tokMu.RUnlock()
	if x.started.Load() {
		st.Lag = time.Duration(x.stamp() - x.lastSync.Load())
	}
	return st
}
