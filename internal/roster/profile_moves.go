package roster

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// What moving a user to another group does to their group profiles: the
// warning shown before the move and the message sent after it.

// ProfileChange is what moving a user to another group does to their
// available group profiles.
type ProfileChange struct {
	Gained []UserProfile `json:"gained"`
	Lost   []UserProfile `json:"lost"`
}

// Changed reports whether the available profiles differ.
func (c *ProfileChange) Changed() bool { return len(c.Gained) > 0 || len(c.Lost) > 0 }

func profileNames(ps []UserProfile, none string) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = strconv.Quote(p.Name)
	}
	if len(n) == 0 {
		return none
	}
	return strings.Join(n, ", ")
}

// ProfilesChangedByMove compares the group profiles available to a user in
// oldGroup with those in newGroup (each group and its ancestors). The move
// calls it in its transaction; personal profiles never change.
func (s *Service) ProfilesChangedByMove(ctx context.Context, tx Tx, u *User, oldGroupID, newGroupID int64) (*ProfileChange, error) {
	c := &ProfileChange{Gained: []UserProfile{}, Lost: []UserProfile{}}
	if oldGroupID == newGroupID {
		return c, nil
	}
	oldChain, err := tx.GroupChain(ctx, u.TenantID, oldGroupID)
	if err != nil {
		return nil, err
	}
	newChain, err := tx.GroupChain(ctx, u.TenantID, newGroupID)
	if err != nil {
		return nil, err
	}
	before, err := userProfiles(ctx, tx, u.TenantID, u.ID, oldChain)
	if err != nil {
		return nil, err
	}
	after, err := userProfiles(ctx, tx, u.TenantID, u.ID, newChain)
	if err != nil {
		return nil, err
	}
	has := func(ps []UserProfile, id int64) bool {
		return slices.ContainsFunc(ps, func(p UserProfile) bool { return p.ID == id })
	}
	for _, p := range after {
		if p.Kind == ProfileGroup && !has(before, p.ID) {
			c.Gained = append(c.Gained, p)
		}
	}
	for _, p := range before {
		if p.Kind == ProfileGroup && !has(after, p.ID) {
			c.Lost = append(c.Lost, p)
		}
	}
	return c, nil
}

// warnProfilesChanged is called by the move in its transaction,
// with u already in the new group: when the available group profiles
// change, the answer carries a warning and the user gets a message through
// the outbox (seed 003: "you should always tell the user since the available
// profiles will change").
func (s *Service) warnProfilesChanged(ctx context.Context, tx Tx, a *Actor, u *User, oldGroupID int64) error {
	c, err := s.ProfilesChangedByMove(ctx, tx, u, oldGroupID, u.GroupID)
	if err != nil || !c.Changed() {
		return err
	}
	g, err := tx.Group(ctx, a.TenantID, u.GroupID)
	if err != nil {
		return err
	}
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return err
	}
	told := "; the user was not told (no email address or mobile number, or not active)"
	channel, recipient := ChannelEmail, u.Email
	if recipient == "" {
		channel, recipient = ChannelSMS, u.Mobile
	}
	if recipient != "" && u.Status == StatusActive {
		subject, text := profilesChangedMessage(u, g, t, c, channel)
		now := s.Now()
		m := &OutboxMessage{TenantID: a.TenantID, Channel: channel, Recipient: recipient, Language: u.Language,
			Kind: "profiles_changed", Ref: "user:" + strconv.FormatInt(u.ID, 10) + ":profiles", Subject: subject, Text: text,
			Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		told = "; the user is told by " + channel
	}
	u.Warnings = append(u.Warnings, fmt.Sprintf("The group profiles available to %s changed: now also %s; no longer %s%s.",
		u.Username, profileNames(c.Gained, "none"), profileNames(c.Lost, "none"), told))
	return nil
}

// profilesChangedMessage is the message to a moved user, in their language.
func profilesChangedMessage(u *User, g *Group, t *Tenant, c *ProfileChange, channel string) (subject, text string) {
	name := cmp.Or(u.Name, u.Username)
	brand := cmp.Or(t.Settings.BrandingName, t.Name)
	if u.Language == "de" {
		subject = "Ihre Skill-Profile haben sich geändert"
		text = fmt.Sprintf("Hallo %s,\n\nSie sind jetzt in der Gruppe %q. Damit haben sich Ihre Gruppenprofile geändert.\nNeu: %s\nNicht mehr verfügbar: %s\n\n%s\n",
			name, g.Name, profileNames(c.Gained, "keine"), profileNames(c.Lost, "keine"), brand)
	} else {
		subject = "Your skill profiles changed"
		text = fmt.Sprintf("Hello %s,\n\nyou are now in the group %q, so the group profiles available to you changed.\nNew: %s\nNo longer available: %s\n\n%s\n",
			name, g.Name, profileNames(c.Gained, "none"), profileNames(c.Lost, "none"), brand)
	}
	if channel == ChannelSMS {
		text = subject + ": " + strings.ReplaceAll(strings.TrimSpace(text[strings.Index(text, "\n\n")+2:]), "\n", " ")
	}
	return subject, text
}
