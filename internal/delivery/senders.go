package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/roster-dev/roster/internal/roster"
)

// LogSender writes messages to the log instead of sending them: the
// behaviour without --smtp-url (or without an SMS provider). The worker marks
// such messages "logged". The log line holds the link or code, so a
// development setup without mail still works.
type LogSender struct {
	Log *slog.Logger
}

// Send logs m with its secret.
func (l *LogSender) Send(_ context.Context, m *roster.OutboxMessage) error {
	subject, text, _ := m.Rendered()
	l.Log.Info("outbox: no sender configured for this channel; message written to the log",
		"id", m.ID, "tenant", m.TenantID, "channel", m.Channel, "to", m.Recipient, "subject", subject, "text", text)
	return nil
}

func isLogSender(s Sender) bool {
	_, ok := s.(*LogSender)
	return ok
}

// SMTP sends email through an SMTP server with github.com/wneessen/go-mail.
type SMTP struct {
	host     string
	port     int
	implicit bool // smtps://: TLS from the first byte
	policy   mail.TLSPolicy
	user     string
	pass     string
	from     string
	timeout  time.Duration
}

// NewSMTP reads an smtp://[user:pass@]host:port URL (STARTTLS when the
// server offers it; ?starttls=required insists on it) or smtps://... (TLS
// from the start). from is the sender address.
func NewSMTP(rawURL, from string, timeout time.Duration) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	s := &SMTP{host: u.Hostname(), from: from, timeout: timeout, policy: mail.TLSOpportunistic}
	switch u.Scheme {
	case "smtp":
		s.port = 25
		switch u.Query().Get("starttls") {
		case "", "opportunistic":
		case "required":
			s.policy = mail.TLSMandatory
		case "never":
			s.policy = mail.NoTLS
		default:
			return nil, errors.New("--smtp-url: starttls must be opportunistic, required or never")
		}
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("--smtp-url must start with smtp:// or smtps:// (got %q)", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("--smtp-url has no host")
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("--smtp-url: bad port %q", p)
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	if from == "" {
		return nil, errors.New("--mail-from is required")
	}
	if err := mail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("--mail-from: %w", err)
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	return s, nil
}

// Send delivers one email: plain text with an HTML alternative. The
// Message-ID is derived from the outbox id, so a receiver can tell a
// retransmission (after a crash between sending and recording) from a new
// message.
func (s *SMTP) Send(ctx context.Context, m *roster.OutboxMessage) error {
	subject, text, html := m.Rendered()
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return Permanent(err)
	}
	if err := msg.To(m.Recipient); err != nil {
		return Permanent(fmt.Errorf("recipient %q: %w", m.Recipient, err))
	}
	msg.Subject(subject)
	msg.SetDate()
	domain := "roster.invalid"
	if _, d, ok := strings.Cut(s.from, "@"); ok {
		domain = strings.Trim(d, "> ")
	}
	msg.SetMessageIDWithValue(fmt.Sprintf("outbox-%d-%d@%s", m.ID, m.CreatedAt.UnixMilli(), domain))
	msg.SetGenHeader("X-Roster-Outbox-Id", strconv.FormatInt(m.ID, 10))
	msg.SetUserAgent("Roster")
	msg.SetBodyString(mail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, html)
	}
	opts := []mail.Option{mail.WithPort(s.port), mail.WithTimeout(s.timeout), mail.WithTLSPolicy(s.policy)}
	if s.implicit {
		opts = append(opts, mail.WithSSL())
	}
	if s.user != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.user), mail.WithPassword(s.pass))
	}
	c, err := mail.NewClient(s.host, opts...)
	if err != nil {
		return Permanent(err)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return Permanent(err) // the server refused for good (e.g. 550 no such mailbox)
	}
	return err
}

// HTTPSMS sends SMS through a provider's HTTP API: a JSON POST of
// {"to", "text", "reference"} with a bearer token. 2xx is delivered; 408,
// 429, 5xx and network errors are retried; other 4xx fail for good.
type HTTPSMS struct {
	URL    string
	Token  string
	Client *http.Client
}

// NewHTTPSMS checks the provider URL.
func NewHTTPSMS(rawURL, token string) (*HTTPSMS, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--sms-url must be an http(s) URL (got %q)", rawURL)
	}
	return &HTTPSMS{URL: rawURL, Token: token, Client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// SMSRequest is the JSON body posted to the provider.
type SMSRequest struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	Reference string `json:"reference"`
}

// Send posts one SMS.
func (h *HTTPSMS) Send(ctx context.Context, m *roster.OutboxMessage) error {
	_, text, _ := m.Rendered()
	ref := fmt.Sprintf("roster-outbox-%d", m.ID)
	body, _ := json.Marshal(SMSRequest{To: m.Recipient, Text: text, Reference: ref})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", ref)
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err // network trouble: try again later
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("SMS provider answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return Permanent(fmt.Errorf("SMS provider refused the message: %s: %s", resp.Status, strings.TrimSpace(string(snippet))))
}
