package store

import (
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// The conditions that limit a scoped actor's lists (a role given for some
// groups or agents) to what they may see.

// scopeCond renders a ScopeFilter: in one of the groups (groupCol), or one
// of the agent IDs (agentCol, "" when the list has none), or the actor
// (userCol, "" when the list has none).
func scopeCond(sf *roster.ScopeFilter, groupCol, agentCol, userCol string) (string, []any) {
	var parts []string
	var args []any
	if len(sf.GroupIDs) > 0 {
		c, a := inList(groupCol, sf.GroupIDs)
		parts, args = append(parts, c), append(args, a...)
	}
	if agentCol != "" && len(sf.AgentIDs) > 0 {
		c, a := inList(agentCol, sf.AgentIDs)
		parts, args = append(parts, c), append(args, a...)
	}
	if userCol != "" && sf.UserID != 0 {
		parts, args = append(parts, userCol+" = ?"), append(args, sf.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// auditScopeCond limits the audit log to what a scoped actor may see: events
// about users whose home group is in scope and about groups in scope, and
// events about or by the actor themself.
func auditScopeCond(tenantID int64, sf *roster.ScopeFilter) (string, []any) {
	var parts []string
	var args []any
	if len(sf.GroupIDs) > 0 {
		in := placeholders(len(sf.GroupIDs))
		parts = append(parts, `(target_kind = 'user' AND target_id IN (SELECT id FROM users WHERE tenant_id = ? AND group_id IN (`+in+`)))`,
			`(target_kind = 'group' AND target_id IN (`+in+`))`)
		args = anyArgs([]any{tenantID}, sf.GroupIDs)
		args = anyArgs(args, sf.GroupIDs)
	}
	if sf.UserID != 0 {
		parts = append(parts, `(target_kind = 'user' AND target_id = ?)`, `(actor_kind = 'user' AND actor_id = ?)`)
		args = append(args, sf.UserID, sf.UserID)
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
