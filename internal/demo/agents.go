package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// demoAgents are the demo agents' identities in the two interaction
// sources: the voice system numbers them, the chat system names them (seed
// 000: the same agent appears twice).
var demoAgents = []struct{ username, voice, chat string }{
	{"anna.agent", "1001", "anna.a"},
	{"arne.agent", "1002", "arne.a"},
	{"aiko.agent", "1003", "aiko.a"},
	{"amir.agent", "1004", "amir.a"},
}

// agents ingests a month of calls and chats of the demo agents (and of a
// former agent whose agent ID nobody holds) and assigns the agent IDs.
func agents(ctx context.Context, svc *roster.Service, sys *roster.Actor, groups, users map[string]int64) error {
	home := map[string]string{}
	names := map[string]string{}
	for _, p := range people {
		home[p.username], names[p.username] = p.group, p.name
	}
	day0 := svc.Now().Truncate(24 * time.Hour).Add(-30 * 24 * time.Hour)
	var rows []json.RawMessage
	add := func(source, ext, agent, name, group string, at time.Time, seconds int) {
		b, _ := json.Marshal(map[string]any{"source": source, "external_id": ext, "agent_external_id": agent, "agent_name": name,
			"group_id": groups[group], "channel": source, "started_at": at.Format(time.RFC3339), "duration_s": seconds})
		rows = append(rows, b)
	}
	for day := range 30 {
		for i, a := range demoAgents {
			for k := range 2 + (day+i)%3 {
				at := day0.Add(time.Duration(day)*24*time.Hour + 8*time.Hour + time.Duration(i*37+k*97)*time.Minute)
				add("voice", fmt.Sprintf("call-%d-%d-%d", day, i, k), a.voice, names[a.username], home[a.username], at, 60+(day*7+k*31)%600)
				if k == 0 {
					add("chat", fmt.Sprintf("chat-%d-%d", day, i), a.chat, names[a.username], home[a.username], at.Add(2*time.Hour), 120+(day*13)%900)
				}
			}
		}
		if day < 10 {
			add("voice", fmt.Sprintf("call-%d-former", day), "1099", "Former Agent", "Sales South", day0.Add(time.Duration(day)*24*time.Hour+9*time.Hour), 300)
		}
	}
	if _, err := svc.IngestInteractions(ctx, sys, rows); err != nil {
		return fmt.Errorf("demo interactions: %w", err)
	}
	for _, a := range demoAgents {
		refs := []roster.AgentRef{roster.ParseAgentRef("voice:" + a.voice), roster.ParseAgentRef("chat:" + a.chat)}
		if _, err := svc.SetUserAgents(ctx, sys, users[a.username], refs); err != nil {
			return fmt.Errorf("demo agent IDs of %s: %w", a.username, err)
		}
	}
	return nil
}
