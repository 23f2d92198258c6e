package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// The audit log (filters, pages, CSV) and the outbox (what was sent, or why
// not).

// auditQuery is the audit log's filter as typed.
type auditQuery struct {
	Actor, Action, Target, From, To, Page, PerPage string
}

func readAuditQuery(q url.Values) auditQuery {
	return auditQuery{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), From: q.Get("from"),
		To: q.Get("to"), Page: q.Get("page"), PerPage: q.Get("per_page")}
}

// filter parses the dates (YYYY-MM-DD, "to" inclusive) and paging.
func (aq auditQuery) filter() (roster.AuditFilter, error) {
	var v roster.Validation
	f := roster.AuditFilter{Actor: aq.Actor, Action: aq.Action, Target: aq.Target}
	day := func(field, s string, next bool) *time.Time {
		if s == "" {
			return nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			v.Add(field, "must be a date like 2026-01-31")
			return nil
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return &t
	}
	f.From = day("from", aq.From, false)
	f.To = day("to", aq.To, true)
	f.Page, f.PerPage = roster.ParsePaging(&v, aq.Page, aq.PerPage)
	return f, v.Err()
}

type auditData struct {
	Query  auditQuery
	List   listView
	Events *roster.Page[roster.AuditEvent]
	CSV    string
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := auditData{Query: readAuditQuery(q), List: newListView("/audit", q)}
	f, err := d.Query.filter()
	if err != nil {
		if _, ok := formFailed(p, err); !ok {
			return err
		}
		f, _ = auditQuery{}.filter()
	}
	if d.Events, err = s.svc.ListAudit(r.Context(), p.Actor, f); err != nil {
		return err
	}
	d.CSV = d.List.with("page", "", "per_page", "")
	d.CSV = "/audit.csv" + d.CSV[len("/audit"):]
	p.Title, p.Section, p.Data = p.T("Audit log"), "audit", d
	return s.show(w, r, "audit", p)
}

// auditCSV streams the filtered audit log, one page of events at a time.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, p *page) error {
	f, err := readAuditQuery(r.URL.Query()).filter()
	if err != nil {
		return err
	}
	var cw *csv.Writer
	n := 0
	err = s.svc.ExportAudit(r.Context(), p.Actor, f, func(e *roster.AuditEvent) error {
		if cw == nil {
			h := w.Header()
			h.Set("Content-Type", "text/csv; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Disposition", `attachment; filename="audit-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
			cw = csv.NewWriter(w)
			_ = cw.Write([]string{"id", "at", "actor_kind", "actor_id", "actor_name", "impersonator_id", "action", "target_kind", "target_id", "ip", "user_agent", "before", "after"})
		}
		imp := ""
		if e.ImpersonatorID != nil {
			imp = itoa(*e.ImpersonatorID)
		}
		rec := []string{itoa(e.ID), e.At.UTC().Format(time.RFC3339Nano), e.ActorKind, itoa(e.ActorID), e.ActorName, imp, e.Action,
			e.TargetKind, itoa(e.TargetID), e.IP, e.UserAgent, string(e.Before), string(e.After)}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if n++; n%100 == 0 {
			cw.Flush()
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
		}
		return cw.Error()
	})
	if err != nil {
		if cw == nil {
			return err
		}
		s.log.ErrorContext(r.Context(), "console: audit csv export failed", "err", err)
		panic(http.ErrAbortHandler)
	}
	if cw == nil {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"id", "at", "actor_kind", "actor_id", "actor_name", "impersonator_id", "action", "target_kind", "target_id", "ip", "user_agent", "before", "after"})
	}
	cw.Flush()
	return cw.Error()
}

type outboxData struct {
	Status, Channel string
	List            listView
	Messages        *roster.Page[roster.OutboxMessage]
	Statuses        []string
}

func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := outboxData{Status: q.Get("status"), Channel: q.Get("channel"), List: newListView("/outbox", q),
		Statuses: []string{roster.OutboxPending, roster.OutboxSent, roster.OutboxFailed, roster.OutboxCancelled, roster.OutboxLogged}}
	var err error
	d.Messages, err = s.svc.ListOutbox(r.Context(), p.Actor, roster.OutboxQuery{Status: d.Status, Channel: d.Channel, Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		if _, ok := formFailed(p, err); !ok {
			return err
		}
		if d.Messages, err = s.svc.ListOutbox(r.Context(), p.Actor, roster.OutboxQuery{}); err != nil {
			return err
		}
		d.List = newListView("/outbox", nil)
	}
	p.Title, p.Section, p.Data = p.T("Outbox"), "outbox", d
	return s.show(w, r, "outbox", p)
}
