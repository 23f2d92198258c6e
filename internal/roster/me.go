package roster

import (
	"cmp"
	"context"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/auth"
)

// Self-service (seeds 003 and 004): a signed-in user changes their own name
// and language at once; a new email or mobile takes effect only when
// confirmed with a one-time code sent to it, and the old address is told.
// Roles, groups, status and agent IDs are never changed here.

// MeInput is a user's change of their own profile.
type MeInput struct {
	Name     Opt[string] `json:"name"`
	Email    Opt[string] `json:"email"`
	Mobile   Opt[string] `json:"mobile"`
	Language Opt[string] `json:"language"`
}

// ContactChange is a new email or mobile waiting for its code.
type ContactChange struct {
	TenantID  int64     `json:"-"`
	UserID    int64     `json:"-"`
	Field     string    `json:"field"` // email or mobile
	Value     string    `json:"value"`
	CodeHash  []byte    `json:"-"`
	Attempts  int       `json:"-"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"-"`
}

// Me is the signed-in user with the changes waiting for confirmation.
type Me struct {
	*User
	Pending []ContactChange `json:"pending_changes"`
}

// contactCodeTTL and contactCodeAttempts bound a confirmation code.
const (
	contactCodeTTL      = 30 * time.Minute
	contactCodeAttempts = 5
)

func (s *Service) meUser(a *Actor) error {
	if a.Kind != ActorUser {
		return Errorf(EForbidden, "this is about a signed-in person; an API token has no profile of its own")
	}
	return nil
}

// Me returns the signed-in user and their pending contact changes.
func (s *Service) Me(ctx context.Context, a *Actor) (*Me, error) {
	if err := s.meUser(a); err != nil {
		return nil, err
	}
	r := s.store.Read()
	u, err := r.User(ctx, a.TenantID, a.ID)
	if err != nil {
		return nil, err
	}
	if err := s.fillUserDetails(ctx, r, u); err != nil {
		return nil, err
	}
	pending, err := r.ContactChanges(ctx, a.TenantID, a.ID)
	if err != nil {
		return nil, err
	}
	return &Me{User: u, Pending: s.livePending(pending)}, nil
}

func (s *Service) livePending(all []ContactChange) []ContactChange {
	out := []ContactChange{}
	now := s.Now()
	for _, c := range all {
		if now.Before(c.ExpiresAt) {
			out = append(out, c)
		}
	}
	return out
}

// UpdateMe changes the signed-in user's own name and language, and asks to
// change their email or mobile: a code goes to the new address, the old
// one is told, and the change waits for ConfirmMe. Removing an address
// (while the other remains) needs no code.
func (s *Service) UpdateMe(ctx context.Context, a *Actor, in MeInput) (*Me, error) {
	if err := s.meUser(a); err != nil {
		return nil, err
	}
	if a.ReadOnly {
		return nil, Errorf(EForbidden, "viewing as another user is read-only")
	}
	t, err := s.store.Read().TenantByID(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	// The same checks as any user change, before the transaction.
	checked, err := s.checkUser(ctx, a, UserInput{Name: in.Name, Email: in.Email, Mobile: in.Mobile, Language: in.Language}, false)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var codes []pendingCode
	err = s.inTx(ctx, func(tx Tx) error {
		before, err := tx.User(ctx, a.TenantID, a.ID)
		if err != nil {
			return err
		}
		u := cloneUser(before)
		if checked.Name.Set {
			u.Name = cmp.Or(strings.TrimSpace(checked.Name.V), u.Username)
		}
		if checked.Language.Set {
			u.Language = strings.TrimSpace(checked.Language.V)
		}
		// Addresses: normalised like any user change.
		next := cloneUser(before)
		if err := s.applyContact(next, checked); err != nil {
			return err
		}
		if next.Email == "" && next.Mobile == "" {
			return oneFieldError("email", "keep an email address or a mobile number (for sign-in help and one-time codes)")
		}
		for _, f := range []struct{ field, old, new string }{{"email", before.Email, next.Email}, {"mobile", before.Mobile, next.Mobile}} {
			switch {
			case f.new == f.old:
				if err := tx.DeleteContactChange(ctx, a.TenantID, a.ID, f.field); err != nil {
					return err
				}
			case f.new == "":
				if f.field == "email" {
					u.Email = ""
				} else {
					u.Mobile = ""
				}
			default:
				if f.field == "email" {
					if id, err := tx.UserIDByField(ctx, a.TenantID, "email", f.new); err != nil {
						return err
					} else if id != 0 && id != a.ID {
						return conflictField(ReasonEmailTaken, "email", "the email %s is in use by another user", f.new)
					}
				}
				code := auth.NewCode()
				c := &ContactChange{TenantID: a.TenantID, UserID: a.ID, Field: f.field, Value: f.new,
					CodeHash: auth.HashCode(a.TenantID, a.ID, f.field+":"+code), ExpiresAt: now.Add(contactCodeTTL), CreatedAt: now}
				if err := tx.PutContactChange(ctx, c); err != nil {
					return err
				}
				codes = append(codes, pendingCode{c, code})
			}
		}
		changed := u.Name != before.Name || u.Language != before.Language || u.Email != before.Email || u.Mobile != before.Mobile
		if changed {
			u.UpdatedAt = now
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, "user.self_update", "user", u.ID, before, u); err != nil {
				return err
			}
			if err := s.noticeContactChanged(ctx, tx, a, u, before); err != nil { // an address removed
				return err
			}
		}
		for _, pc := range codes {
			if err := s.sendContactCode(ctx, tx, t, u, pc); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, "user.contact_change_request", "user", u.ID, nil,
				map[string]any{"field": pc.change.Field, "value": pc.change.Value, "expires_at": pc.change.ExpiresAt}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyOutbox()
	return s.Me(ctx, a)
}

type pendingCode struct {
	change *ContactChange
	code   string
}

// applyContact writes a checked email and mobile into u.
func (s *Service) applyContact(u *User, in UserInput) error {
	if in.Email.Set {
		u.Email = strings.ToLower(strings.TrimSpace(in.Email.V))
	}
	if in.Mobile.Set {
		u.Mobile = strings.TrimSpace(in.Mobile.V)
	}
	return nil
}

// sendContactCode sends the confirmation code to the new address and tells
// the old one that a change was asked for.
func (s *Service) sendContactCode(ctx context.Context, tx Tx, t *Tenant, u *User, pc pendingCode) error {
	channel := ChannelEmail
	if pc.change.Field == "mobile" {
		channel = ChannelSMS
	}
	brand := tenantDisplayName(t)
	var subject, text string
	if u.Language == "de" {
		subject = "Bestätigen Sie Ihre neue Adresse bei " + brand
		text = fmt.Sprintf("Hallo %s,\n\nIhr Bestätigungscode lautet:\n\n%s\n\nGeben Sie ihn in Ihrem Konto ein. Er gilt %d Minuten.\n",
			cmp.Or(u.Name, u.Username), SecretMarker, int(contactCodeTTL/time.Minute))
	} else {
		subject = "Confirm your new address at " + brand
		text = fmt.Sprintf("Hello %s,\n\nyour confirmation code is:\n\n%s\n\nEnter it on your account page. It works for %d minutes.\n",
			cmp.Or(u.Name, u.Username), SecretMarker, int(contactCodeTTL/time.Minute))
	}
	if channel == ChannelSMS {
		text = fmt.Sprintf("%s is your %s confirmation code.", SecretMarker, brand)
	}
	now := s.Now()
	m := &OutboxMessage{TenantID: t.ID, Channel: channel, Recipient: pc.change.Value, Language: u.Language,
		Kind: "contact_confirm", Ref: "user:" + strconv.FormatInt(u.ID, 10) + ":confirm-" + pc.change.Field,
		Subject: subject, Text: text, Secret: pc.code, Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := tx.EnqueueMessage(ctx, m); err != nil {
		return err
	}
	// The old address hears of it at once, before anything changes.
	old := *u
	next := *u
	if pc.change.Field == "email" {
		next.Email = pc.change.Value
	} else {
		next.Mobile = pc.change.Value
	}
	return s.noticeContactChanged(ctx, tx, SystemActor(t.ID), &next, &old)
}

// ConfirmMe applies a pending email or mobile change with its code. Five
// wrong codes end the pending change.
func (s *Service) ConfirmMe(ctx context.Context, a *Actor, code string) (*Me, error) {
	if err := s.meUser(a); err != nil {
		return nil, err
	}
	if a.ReadOnly {
		return nil, Errorf(EForbidden, "viewing as another user is read-only")
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 20 {
		return nil, oneFieldError("code", "enter the code you were sent")
	}
	wrong := false
	err := s.inTx(ctx, func(tx Tx) error {
		pending, err := tx.ContactChanges(ctx, a.TenantID, a.ID)
		if err != nil {
			return err
		}
		pending = s.livePending(pending)
		if len(pending) == 0 {
			return oneFieldError("code", "no change of address is waiting; ask for it again")
		}
		for _, c := range pending {
			want := auth.HashCode(a.TenantID, a.ID, c.Field+":"+code)
			if subtle.ConstantTimeCompare(want, c.CodeHash) != 1 {
				continue
			}
			before, err := tx.User(ctx, a.TenantID, a.ID)
			if err != nil {
				return err
			}
			u := cloneUser(before)
			if c.Field == "email" {
				if id, err := tx.UserIDByField(ctx, a.TenantID, "email", c.Value); err != nil {
					return err
				} else if id != 0 && id != a.ID {
					return conflictField(ReasonEmailTaken, "email", "the email %s is in use by another user", c.Value)
				}
				u.Email = c.Value
			} else {
				u.Mobile = c.Value
			}
			u.UpdatedAt = s.Now()
			if err := tx.DeleteContactChange(ctx, a.TenantID, a.ID, c.Field); err != nil {
				return err
			}
			if err := tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			return s.audit(ctx, tx, a, "user.contact_change_confirm", "user", u.ID, before, u)
		}
		for _, c := range pending {
			c.Attempts++
			if c.Attempts >= contactCodeAttempts {
				err = tx.DeleteContactChange(ctx, a.TenantID, a.ID, c.Field)
			} else {
				err = tx.PutContactChange(ctx, &c)
			}
			if err != nil {
				return err
			}
		}
		wrong = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		return nil, oneFieldError("code", "the code is wrong or has expired; after %d wrong tries the change must be asked for again", contactCodeAttempts)
	}
	return s.Me(ctx, a)
}

// SendPasswordCode sends a user a one-time code to set their password
// (seed 004: "passwords can be updated from here"). It needs users.manage,
// the user in reach, and the "more powerful target" rule: a code is a
// credential. The code replaces any earlier one.
func (s *Service) SendPasswordCode(ctx context.Context, a *Actor, userID int64, channel string) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	if channel == "" {
		channel = ChannelEmail
	}
	if channel != ChannelEmail && channel != ChannelSMS {
		return oneFieldError("channel", "must be email or sms")
	}
	lc := s.lcState()
	err := s.inTx(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return err
		}
		if u.Status != StatusActive {
			return Errorf(EConflict, "%s is %s; codes are for active users (invited users use their invitation)", u.Username, u.Status)
		}
		recipient := u.Email
		if channel == ChannelSMS {
			recipient = u.Mobile
		}
		if recipient == "" {
			return oneFieldError("channel", "%s has no %s", u.Username, map[string]string{ChannelEmail: "email address", ChannelSMS: "mobile number"}[channel])
		}
		t, err := tx.TenantByID(ctx, a.TenantID)
		if err != nil {
			return err
		}
		now := s.Now()
		code := auth.NewCode()
		c := &OneTimeCode{TenantID: t.ID, UserID: u.ID, CodeHash: auth.HashCode(t.ID, u.ID, code), Channel: channel,
			ExpiresAt: now.Add(lc.opts.CodeTTL), CreatedAt: now}
		if err := tx.PutCode(ctx, c); err != nil {
			return err
		}
		d := messageData{Tenant: tenantDisplayName(t), Name: u.Name, Username: u.Username, Code: SecretMarker,
			Minutes: int(lc.opts.CodeTTL / time.Minute)}
		if _, err := s.enqueueTx(ctx, tx, t.ID, channel, recipient, u.Language, "code", "user:"+itoa64(u.ID), code, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.code_send", "user", u.ID, nil, map[string]any{"channel": channel, "expires_at": c.ExpiresAt})
	})
	if err != nil {
		return err
	}
	s.notifyOutbox()
	return nil
}

// OrDefaultChannel is the channel a code goes by when none is named.
func OrDefaultChannel(channel string) string { return cmp.Or(channel, ChannelEmail) }

// MySession is one of the signed-in user's sessions.
type MySession struct {
	ID         int64     `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"` // the session of this request
}

// MySessions lists the signed-in user's live sessions, newest first;
// currentToken marks the one of this request.
func (s *Service) MySessions(ctx context.Context, a *Actor, currentToken string) ([]MySession, error) {
	if err := s.meUser(a); err != nil {
		return nil, err
	}
	all, err := s.store.Read().UserSessions(ctx, a.TenantID, a.ID)
	if err != nil {
		return nil, err
	}
	current := HashSecret(currentToken)
	idle, _ := s.SessionLifetimes()
	now := s.Now()
	out := []MySession{}
	for _, sess := range all {
		if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(idle)) {
			continue
		}
		out = append(out, MySession{ID: sess.ID, CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt, ExpiresAt: sess.ExpiresAt,
			IP: sess.IP, UserAgent: sess.UserAgent, Current: currentToken != "" && subtle.ConstantTimeCompare(current, sess.TokenHash) == 1})
	}
	return out, nil
}

// SignOutOthers ends every session of the signed-in user but the current
// one ("sign out everywhere else"), and returns how many ended.
func (s *Service) SignOutOthers(ctx context.Context, a *Actor, currentToken string) (int, error) {
	if err := s.meUser(a); err != nil {
		return 0, err
	}
	if a.ReadOnly {
		return 0, Errorf(EForbidden, "viewing as another user is read-only")
	}
	sessions, err := s.MySessions(ctx, a, currentToken)
	if err != nil {
		return 0, err
	}
	var keep int64
	for _, sess := range sessions {
		if sess.Current {
			keep = sess.ID
		}
	}
	var n int
	err = s.inTxOutsideDecisions(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.DeleteUserSessions(ctx, a.TenantID, a.ID, keep); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "session.delete_others", "user", a.ID, nil, map[string]any{"ended": n})
	})
	return n, err
}
