package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Bulk import of users from CSV, and every list as CSV (Accept: text/csv).

// importBodyLimit bounds a CSV upload: 100,000 users with every column fit.
const importBodyLimit = 64 << 20

// importProblem is the 400 answer of an import with bad rows: the errors
// name their row (the header is row 1) as well as their column.
type importProblem struct {
	Type            string                  `json:"type"`
	Title           string                  `json:"title"`
	Status          int                     `json:"status"`
	Detail          string                  `json:"detail"`
	Errors          []roster.ImportRowError `json:"errors"`
	ErrorsNotListed int                     `json:"errors_not_listed,omitempty"`
	Failed          int                     `json:"failed"`
}

func (s *Server) importUsers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	var v roster.Validation
	opts := roster.ImportOptions{Mode: q.Get("mode"), DryRun: queryBool(&v, "dry_run", q.Get("dry_run")),
		Invite: queryBool(&v, "invite", q.Get("invite"))}
	if d := q.Get("delimiter"); d != "" {
		if d != "," && d != ";" {
			v.Add("delimiter", "must be , or ;")
		} else {
			opts.Delimiter = rune(d[0])
		}
	}
	if err := v.Err(); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.svc.CheckImport(a, &opts); err != nil { // 403 before the body is looked at
		s.error(w, r, err)
		return
	}
	body, err := csvBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rep, err := s.svc.ImportUsers(r.Context(), a, body, opts)
	if err != nil {
		s.error(w, r, bodyError(err))
		return
	}
	if rep.Failed > 0 {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(importProblem{Type: "https://roster.dev/problems/invalid-rows", Title: "Bad Request",
			Status: http.StatusBadRequest, Detail: strconv.Itoa(rep.Failed) + " row(s) are not valid; nothing was imported",
			Errors: rep.Errors, ErrorsNotListed: rep.ErrorsNotListed, Failed: rep.Failed})
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// csvBody is the uploaded file: a text/csv body, or the first file of a
// multipart/form-data upload.
func csvBody(r *http.Request) (io.Reader, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "text/csv", "application/csv", "text/plain", "":
		return r.Body, nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, roster.Errorf(roster.EInvalid, "the multipart body cannot be read: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, roster.Errorf(roster.EInvalid, "the upload holds no file; send the CSV as a file part")
			}
			if part.FileName() != "" || part.FormName() == "file" {
				return part, nil
			}
		}
	}
	return nil, roster.Errorf(roster.EInvalid, "send the users as text/csv (or a multipart/form-data upload), not %s", ct)
}

func queryBool(v *roster.Validation, field, s string) bool {
	switch s {
	case "", "false":
		return false
	case "true":
		return true
	}
	v.Add(field, "must be true or false")
	return false
}

// wantsCSV: the caller asks for text/csv before (or without) JSON.
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "text/csv":
			return true
		case "application/json", "*/*", "application/*":
			return false
		}
	}
	return false
}

// withCSV serves a list route's CSV form when the caller asks for it.
func (s *Server) withCSV(pattern string, h handlerFunc) handlerFunc {
	csvh, ok := map[string]handlerFunc{
		"GET /api/v1/users":       s.usersCSV,
		"GET /api/v1/audit":       s.auditCSV,
		"GET /api/v1/agents":      s.agentsCSV,
		"GET /api/v1/groups":      s.groupsCSV,
		"GET /api/v1/invitations": s.invitationsCSV,
	}[pattern]
	if !ok {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
		if wantsCSV(r) {
			csvh(w, r, a)
			return
		}
		h(w, r, a)
	}
}

// csvStream writes a CSV answer as rows come, flushing every so often; an
// error before the first row is an ordinary problem answer, one after it
// cuts the connection (half a file must not pass for a whole one).
type csvStream struct {
	w      http.ResponseWriter
	cw     *csv.Writer
	header []string
	rows   int
}

func (c *csvStream) start() {
	if c.cw != nil {
		return
	}
	c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	c.cw = csv.NewWriter(c.w)
	_ = c.cw.Write(c.header)
}

func (c *csvStream) row(rec []string) error {
	c.start()
	for i := range rec {
		rec[i] = roster.CSVSafe(rec[i])
	}
	if err := c.cw.Write(rec); err != nil {
		return err
	}
	if c.rows++; c.rows%500 == 0 {
		c.flush()
	}
	return c.cw.Error()
}

func (c *csvStream) flush() {
	if c.cw == nil {
		return
	}
	c.cw.Flush()
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) finishCSV(w http.ResponseWriter, r *http.Request, c *csvStream, err error) {
	if err != nil {
		if c.cw == nil {
			s.error(w, r, err)
			return
		}
		s.log.ErrorContext(r.Context(), "api: csv export failed", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
	c.start()
	c.flush()
}

// usersWriter starts the CSV answer at its first write.
type usersWriter struct{ c *csvStream }

func (u usersWriter) Write(p []byte) (int, error) {
	if u.c.cw == nil {
		u.c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		u.c.cw = csv.NewWriter(u.c.w) // the header comes from WriteUsersCSV
	}
	return u.c.w.Write(p)
}

func (s *Server) usersCSV(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	c := &csvStream{w: w}
	err := s.svc.WriteUsersCSV(r.Context(), a, roster.UserQuery{Status: q.Get("status"), Role: q.Get("role"), Group: q.Get("group"),
		Q: q.Get("q"), Scoring: q.Get("scoring_enabled"), Roaming: q.Get("roaming")}, usersWriter{c}, c.flush)
	s.finishCSV(w, r, c, err)
}

func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	var v roster.Validation
	f := roster.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	f.From = parseTime(&v, "from", q.Get("from"))
	f.To = parseTime(&v, "to", q.Get("to"))
	if err := v.Err(); err != nil {
		s.error(w, r, err)
		return
	}
	c := &csvStream{w: w, header: []string{"id", "at", "actor_kind", "actor_id", "actor_name", "impersonator_id", "action",
		"target_kind", "target_id", "ip", "user_agent", "before", "after"}}
	err := s.svc.ExportAudit(r.Context(), a, f, func(e *roster.AuditEvent) error {
		imp := ""
		if e.ImpersonatorID != nil {
			imp = itoa(*e.ImpersonatorID)
		}
		return c.row([]string{itoa(e.ID), e.At.UTC().Format(time.RFC3339Nano), e.ActorKind, itoa(e.ActorID), e.ActorName, imp,
			e.Action, e.TargetKind, itoa(e.TargetID), e.IP, e.UserAgent, string(e.Before), string(e.After)})
	})
	s.finishCSV(w, r, c, err)
}

func (s *Server) agentsCSV(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	c := &csvStream{w: w, header: []string{"id", "source", "external_id", "name", "user_id", "group_id", "interactions",
		"first_seen_at", "last_seen_at", "created_at"}}
	err := s.svc.ExportAgents(r.Context(), a, roster.AgentQuery{Q: q.Get("q"), Assigned: q.Get("assigned"), Source: q.Get("source"),
		UserID: q.Get("user_id"), Sort: q.Get("sort"), Order: q.Get("order")}, func(g *roster.AgentID) error {
		return c.row([]string{itoa(g.ID), g.Source, g.ExternalID, g.Name, optID(g.UserID), optID(g.GroupID),
			itoa(g.Interactions), optTime(g.FirstSeenAt), optTime(g.LastSeenAt), g.CreatedAt.UTC().Format(time.RFC3339)})
	})
	s.finishCSV(w, r, c, err)
}

func (s *Server) groupsCSV(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	c := &csvStream{w: w, header: []string{"id", "name", "parent_id", "level", "path", "created_at"}}
	groups, err := s.svc.ExportGroups(r.Context(), a)
	if err == nil {
		path := roster.GroupPaths(groups)
		for i := range groups {
			g := &groups[i]
			if err = c.row([]string{itoa(g.ID), g.Name, optID(g.ParentID), strconv.Itoa(g.Level), path(g.ID),
				g.CreatedAt.UTC().Format(time.RFC3339)}); err != nil {
				break
			}
		}
	}
	s.finishCSV(w, r, c, err)
}

func (s *Server) invitationsCSV(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	c := &csvStream{w: w, header: []string{"id", "user_id", "email", "name", "username", "status", "expires_at", "send_count",
		"last_sent_at", "invited_by", "created_at"}}
	err := s.svc.ExportInvitations(r.Context(), a, roster.InvitationQuery{Status: r.URL.Query().Get("status")}, func(inv *roster.Invitation) error {
		return c.row([]string{itoa(inv.ID), itoa(inv.UserID), inv.Email, inv.Name, inv.Username, inv.Status,
			inv.ExpiresAt.UTC().Format(time.RFC3339), strconv.Itoa(inv.SendCount), inv.LastSentAt.UTC().Format(time.RFC3339),
			inv.InvitedByName, inv.CreatedAt.UTC().Format(time.RFC3339)})
	})
	s.finishCSV(w, r, c, err)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func optID(p *int64) string {
	if p == nil {
		return ""
	}
	return itoa(*p)
}

func optTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
