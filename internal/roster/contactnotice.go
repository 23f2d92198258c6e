package roster

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// noticeContactChanged tells a user at their old address or number that it
// was changed (in tx, the transaction of the change): a takeover that begins
// by changing someone's email is seen by the person it is aimed at. Invited
// users are not told: they have no account to lose yet.
func (s *Service) noticeContactChanged(ctx context.Context, tx Tx, a *Actor, u, before *User) error {
	if before.Status == StatusInvited {
		return nil
	}
	type change struct {
		channel, old, now, what string
	}
	var changes []change
	if before.Email != "" && u.Email != before.Email {
		changes = append(changes, change{ChannelEmail, before.Email, u.Email, "email"})
	}
	if before.Mobile != "" && u.Mobile != before.Mobile {
		changes = append(changes, change{ChannelSMS, before.Mobile, u.Mobile, "mobile"})
	}
	if len(changes) == 0 {
		return nil
	}
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return err
	}
	for _, c := range changes {
		subject, text := contactChangedMessage(u, t, c.what, c.now, c.channel)
		now := s.Now()
		m := &OutboxMessage{TenantID: a.TenantID, Channel: c.channel, Recipient: c.old, Language: u.Language,
			Kind: "contact_changed", Ref: "user:" + strconv.FormatInt(u.ID, 10) + ":" + c.what, Subject: subject, Text: text,
			Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// contactChangedMessage is the notice, in the user's language. The new
// address is shown only in part, so the notice does not hand it to whoever
// reads the old mailbox.
func contactChangedMessage(u *User, t *Tenant, what, newValue, channel string) (subject, text string) {
	name := cmp.Or(u.Name, u.Username)
	brand := cmp.Or(t.Settings.BrandingName, t.Name)
	shown := maskContact(newValue)
	smsTail := "If this was not you, contact your administrator."
	switch u.Language {
	case "de":
		label := map[string]string{"email": "E-Mail-Adresse", "mobile": "Mobilnummer"}[what]
		subject = fmt.Sprintf("Ihre %s bei %s wurde geändert", label, brand)
		text = fmt.Sprintf("Hallo %s,\n\ndie %s Ihres Kontos %s bei %s wurde geändert", name, label, u.Username, brand)
		if shown != "" {
			text += " auf " + shown
		} else {
			text += " (sie wurde entfernt)"
		}
		text += ".\n\nWenn Sie das nicht veranlasst haben, wenden Sie sich sofort an Ihre Administration.\n"
		smsTail = "Wenn Sie das nicht veranlasst haben, wenden Sie sich an Ihre Administration."
	case "nb":
		label := map[string]string{"email": "e-postadressen", "mobile": "mobilnummeret"}[what]
		subject = fmt.Sprintf("%s din hos %s er endret", strings.ToUpper(label[:1])+label[1:], brand)
		text = fmt.Sprintf("Hei %s,\n\n%s for kontoen din %s hos %s er endret", name, label, u.Username, brand)
		if shown != "" {
			text += " til " + shown
		} else {
			text += " (den er fjernet)"
		}
		text += ".\n\nHvis det ikke var du som ba om dette, kontakt administratoren din med en gang.\n"
		smsTail = "Hvis det ikke var deg, kontakt administratoren din."
	default:
		label := map[string]string{"email": "email address", "mobile": "mobile number"}[what]
		subject = fmt.Sprintf("Your %s at %s was changed", label, brand)
		text = fmt.Sprintf("Hello %s,\n\nthe %s of your account %s at %s was changed", name, label, u.Username, brand)
		if shown != "" {
			text += " to " + shown
		} else {
			text += " (it was removed)"
		}
		text += ".\n\nIf you did not ask for this, contact your administrator at once.\n"
	}
	if channel == ChannelSMS {
		text = subject + ". " + smsTail
	}
	return subject, text
}

// maskContact shows the first character and the domain of an email address,
// or the last three digits of a number.
func maskContact(v string) string {
	if v == "" {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '@' {
			return v[:1] + "…" + v[i:]
		}
	}
	if len(v) <= 3 {
		return "…"
	}
	return "…" + v[len(v)-3:]
}
