package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/roster-dev/roster/internal/roster"
)

// contactCentre gives the demo tenant property values on several levels, a
// skill catalogue with group and personal profiles, and coaching plans made
// by the people who would make them (team leaders, an agent).
func contactCentre(ctx context.Context, svc *roster.Service, sys *roster.Actor, groups, users map[string]int64) error {
	_, err := svc.CreateProperty(ctx, sys, roster.PropertyInput{Key: roster.Some("max_parallel_chats"),
		Label: roster.Some("Parallel chats"), Type: roster.Some(roster.PropInteger), Default: roster.Some(json.RawMessage(`2`))})
	if err != nil {
		return fmt.Errorf("demo property: %w", err)
	}
	groupValues := []struct{ group, key, value string }{
		{"Sales", "wrapup_timeout_phone", `90`},
		{"Support", "wrapup_timeout_chat", `45`},
		{"Support Voice", "resource_filter", `"queue:support-voice"`},
		{"Support Chat", "max_parallel_chats", `3`},
	}
	for _, gv := range groupValues {
		if _, err := svc.SetGroupProperty(ctx, sys, groups[gv.group], gv.key, json.RawMessage(gv.value)); err != nil {
			return fmt.Errorf("demo property %s on %s: %w", gv.key, gv.group, err)
		}
	}
	if _, err := svc.SetUserProperty(ctx, sys, users["anna.agent"], "wrapup_timeout_phone", json.RawMessage(`120`)); err != nil {
		return fmt.Errorf("demo property override: %w", err)
	}

	skills := map[string]int64{}
	for _, name := range []string{"English", "German", "Sales", "Technical support", "Billing"} {
		sk, err := svc.CreateSkill(ctx, sys, roster.SkillInput{Name: roster.Some(name)})
		if err != nil {
			return fmt.Errorf("demo skill %s: %w", name, err)
		}
		skills[name] = sk.ID
	}
	levels := func(pairs ...any) roster.Opt[[]roster.ProfileSkillInput] {
		var out []roster.ProfileSkillInput
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, roster.ProfileSkillInput{SkillID: skills[pairs[i].(string)], Level: pairs[i+1].(int)})
		}
		return roster.Some(out)
	}
	groupProfiles := []struct {
		group, name string
		skills      roster.Opt[[]roster.ProfileSkillInput]
	}{
		{"Sales", "Sales basics", levels("Sales", 60, "English", 70)},
		{"Sales North", "Nordic accounts", levels("German", 80, "Sales", 80)},
		{"Support", "First line", levels("Technical support", 50, "English", 60)},
		{"Support Chat", "Chat billing", levels("Billing", 70, "English", 80)},
	}
	for _, gp := range groupProfiles {
		if _, err := svc.CreateGroupProfile(ctx, sys, groups[gp.group], roster.ProfileInput{Name: roster.Some(gp.name), Skills: gp.skills}); err != nil {
			return fmt.Errorf("demo profile %s: %w", gp.name, err)
		}
	}
	if _, err := svc.CreateUserProfile(ctx, sys, users["aiko.agent"], roster.ProfileInput{Name: roster.Some("Escalations"),
		Skills: levels("Technical support", 90, "German", 50)}); err != nil {
		return fmt.Errorf("demo personal profile: %w", err)
	}

	as := func(username string) (*roster.Actor, error) {
		return svc.ActorForUser(ctx, sys.TenantID, users[username])
	}
	tara, err := as("tara.lead")
	if err != nil {
		return err
	}
	theo, err := as("theo.lead")
	if err != nil {
		return err
	}
	anna, err := as("anna.agent")
	if err != nil {
		return err
	}
	plans := []struct {
		by *roster.Actor
		in roster.CoachingPlanInput
	}{
		{tara, roster.CoachingPlanInput{AgentUserID: roster.Some(users["anna.agent"]), Title: roster.Some("Shorter wrap-up"),
			Goals: roster.Some("Average wrap-up under 60 seconds on calls."), Status: roster.Some(roster.PlanInProgress),
			DueDate: roster.Some("2027-03-31"), Note: roster.Some("Baseline: 95 s. Use the new call summary template.")}},
		{anna, roster.CoachingPlanInput{Title: roster.Some("German certification"), Goals: roster.Some("Pass the B2 exam to take Nordic accounts in German."),
			DueDate: roster.Some("2027-06-30")}},
		{theo, roster.CoachingPlanInput{AgentUserID: roster.Some(users["aiko.agent"]), Title: roster.Some("Product training"),
			Goals: roster.Some("Complete the router and billing modules."), Note: roster.Some("Modules booked for next week.")}},
	}
	for _, p := range plans {
		if _, err := svc.CreateCoachingPlan(ctx, p.by, p.in); err != nil {
			return fmt.Errorf("demo coaching plan %q: %w", p.in.Title.V, err)
		}
	}
	return nil
}
