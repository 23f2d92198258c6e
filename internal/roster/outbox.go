package roster

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"
)

// SecretMarker stands in a stored message where its secret goes. Only
// characters that survive HTML and URL escaping unchanged, so the marker is
// found again in every rendering.
const SecretMarker = "ROSTER_SECRET_bd1f6c0a"

// Rendered returns the message as it is delivered: the secret substituted.
func (m *OutboxMessage) Rendered() (subject, text, html string) {
	return m.Subject, strings.ReplaceAll(m.Text, SecretMarker, m.Secret), strings.ReplaceAll(m.HTML, SecretMarker, m.Secret)
}

// Redacted is the text shown to admins: the secret is never shown.
func (m *OutboxMessage) Redacted() string {
	return strings.ReplaceAll(m.Text, SecretMarker, "[hidden]")
}

//go:embed mailtemplates
var templateFiles embed.FS

// messageLanguages are the languages messages are written in; others fall
// back to English.
var messageLanguages = []string{"en", "de", "nb"}

type messageTemplates struct {
	text map[string]*template.Template     // "invitation.en"
	html map[string]*htmltemplate.Template // "invitation.en"
}

func mustParseTemplates() *messageTemplates {
	t := &messageTemplates{text: map[string]*template.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, kind := range []string{"invitation", "code"} {
		for _, lang := range messageLanguages {
			name := kind + "." + lang
			t.text[name] = template.Must(template.ParseFS(templateFiles, "mailtemplates/"+name+".txt"))
			t.html[name] = htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "mailtemplates/"+name+".html"))
		}
	}
	return t
}

// messageData fills the templates.
type messageData struct {
	Tenant   string
	Name     string
	Username string
	Inviter  string
	Link     string
	Code     string
	Expires  string
	Minutes  int
}

// render returns subject, text and HTML of an email, or the text of an SMS
// (channel "sms"), in lang or English.
func (t *messageTemplates) render(kind, lang, channel string, d messageData) (subject, text, html string, err error) {
	name := kind + "." + lang
	if t.text[name] == nil {
		name = kind + ".en"
	}
	var b bytes.Buffer
	if channel == ChannelSMS {
		b.Reset()
		err = t.text[name].ExecuteTemplate(&b, "sms", d)
		return "", strings.TrimSpace(b.String()), "", err
	}
	if err = t.text[name].ExecuteTemplate(&b, "subject", d); err != nil {
		return
	}
	subject = strings.TrimSpace(b.String())
	b.Reset()
	if err = t.text[name].ExecuteTemplate(&b, "text", d); err != nil {
		return
	}
	text = b.String()
	b.Reset()
	if err = t.html[name].ExecuteTemplate(&b, "html", d); err != nil {
		return
	}
	return subject, text, b.String(), nil
}

// formatTime writes a time for people reading lang.
func formatTime(t time.Time, lang string) string {
	switch lang {
	case "de":
		return t.UTC().Format("02.01.2006 15:04") + " UTC"
	case "nb":
		return t.UTC().Format("02.01.2006 kl. 15.04") + " UTC"
	}
	return t.UTC().Format("2 January 2006, 15:04") + " UTC"
}

// enqueueTx writes a message into the outbox in tx, the transaction of the
// change that causes it: the message exists exactly when the change does.
func (s *Service) enqueueTx(ctx context.Context, tx Tx, tenantID int64, channel, recipient, lang, kind, ref, secret string, d messageData) (*OutboxMessage, error) {
	subject, text, html, err := s.lcState().templates.render(kind, lang, channel, d)
	if err != nil {
		return nil, fmt.Errorf("render %s message: %w", kind, err)
	}
	now := s.Now()
	m := &OutboxMessage{TenantID: tenantID, Channel: channel, Recipient: recipient, Language: lang, Kind: kind, Ref: ref,
		Subject: subject, Text: text, HTML: html, Secret: secret, Status: OutboxPending, NextAttemptAt: now,
		CreatedAt: now, UpdatedAt: now}
	if err := tx.EnqueueMessage(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// OutboxQuery is an outbox list request as front doors receive it.
type OutboxQuery struct {
	Status  string // comma-separated
	Channel string
	Page    string
	PerPage string
}

// ListOutbox shows admins the tenant's messages, newest first, secrets hidden.
func (s *Service) ListOutbox(ctx context.Context, a *Actor, q OutboxQuery) (*Page[OutboxMessage], error) {
	if err := a.require(PermAuditView); err != nil {
		return nil, err
	}
	// Every message of the tenant, to anyone: no scope narrows it.
	if err := s.requireTenantWide(ctx, a, "the outbox", PermAuditView); err != nil {
		return nil, err
	}
	var v Validation
	var f OutboxFilter
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	if q.Status != "" {
		for _, st := range strings.Split(q.Status, ",") {
			st = strings.TrimSpace(st)
			switch st {
			case OutboxPending, OutboxSent, OutboxFailed, OutboxCancelled, OutboxLogged:
				f.Statuses = append(f.Statuses, st)
			default:
				v.Add("status", "%q is not a status; use pending, sent, failed, cancelled or logged", st)
			}
		}
	}
	switch q.Channel {
	case "", ChannelEmail, ChannelSMS:
		f.Channel = q.Channel
	default:
		v.Add("channel", "must be email or sms")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	items, total, err := s.store.Read().ListOutbox(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Text = items[i].Redacted()
		items[i].Secret, items[i].HTML = "", ""
	}
	return &Page[OutboxMessage]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}

// ClaimOutbox leases up to limit due messages of all tenants to the caller
// (the delivery worker) for lease; claim identifies the lease.
func (s *Service) ClaimOutbox(ctx context.Context, claim string, limit int, lease time.Duration) ([]OutboxMessage, error) {
	var out []OutboxMessage
	err := s.inTx(ctx, func(tx Tx) error {
		now := s.Now()
		var err error
		out, err = tx.ClaimOutbox(ctx, now, now.Add(lease), claim, limit)
		return err
	})
	return out, err
}

// DeliveryOutcome is what happened to one delivery attempt.
type DeliveryOutcome struct {
	Status string    // OutboxSent, OutboxLogged, OutboxFailed, or OutboxPending to retry
	Retry  time.Time // next attempt, when Status is OutboxPending
	Error  string    // the failure, if any
}

// FinishOutbox records the outcome of an attempt on a claimed message.
// Final messages lose their secret.
func (s *Service) FinishOutbox(ctx context.Context, m *OutboxMessage, claim string, o DeliveryOutcome) error {
	now := s.Now()
	m.Status, m.UpdatedAt, m.LastError = o.Status, now, o.Error
	switch o.Status {
	case OutboxSent, OutboxLogged:
		m.SentAt = &now
		m.Attempts++
	case OutboxFailed:
		m.Attempts++
	case OutboxPending:
		if o.Error != "" {
			m.Attempts++
		}
		m.NextAttemptAt = o.Retry
	default:
		return fmt.Errorf("roster: FinishOutbox: bad status %q", o.Status)
	}
	if len(m.LastError) > 1000 {
		m.LastError = m.LastError[:1000]
	}
	return s.inTx(ctx, func(tx Tx) error { return tx.FinishOutbox(ctx, m, claim) })
}

// PruneLifecycle deletes expired sessions, codes and old rate-limit windows.
func (s *Service) PruneLifecycle(ctx context.Context) error {
	idle, _ := s.SessionLifetimes()
	now := s.Now()
	return s.inTx(ctx, func(tx Tx) error { return tx.PruneLifecycle(ctx, now, now.Add(-idle)) })
}
