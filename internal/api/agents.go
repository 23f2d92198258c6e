package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/roster-dev/roster/internal/roster"
)

func (s *Server) ingestInteractions(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in struct {
		// Rows stay raw here: the core reads each on its own, so one bad row
		// is reported by its index instead of failing the batch.
		Interactions []json.RawMessage `json:"interactions"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.svc.IngestInteractions(r.Context(), a, in.Interactions)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, res)
}

func (s *Server) listInteractions(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListInteractions(r.Context(), a, roster.InteractionQuery{
		AgentID: q.Get("agent_id"), Group: q.Get("group"), From: q.Get("from"), To: q.Get("to"),
		Order: q.Get("order"), Page: q.Get("page"), PerPage: q.Get("per_page"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListAgents(r.Context(), a, roster.AgentQuery{
		Q: q.Get("q"), Assigned: q.Get("assigned"), Source: q.Get("source"), UserID: q.Get("user_id"),
		Sort: q.Get("sort"), Order: q.Get("order"), Page: q.Get("page"), PerPage: q.Get("per_page"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

func (s *Server) setUserAgents(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in struct {
			AgentIDs []roster.AgentRef `json:"agent_ids"` // nil when missing, empty for []
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		u, err := s.svc.SetUserAgents(r.Context(), a, id, in.AgentIDs)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) moveUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in roster.MoveInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		u, err := s.svc.MoveUser(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) setQueue(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in struct {
			LoggedOn *bool `json:"logged_on"`
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		u, err := s.svc.SetQueue(r.Context(), a, id, in.LoggedOn)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

// The check's two possible answers, with their headers, made once: the
// decision API is the hottest endpoint (net/http only reads header slices).
var (
	allowedBody   = []byte(`{"allowed":true}` + "\n")
	deniedBody    = []byte(`{"allowed":false}` + "\n")
	jsonType      = []string{"application/json"}
	allowedLength = []string{strconv.Itoa(len(allowedBody))}
	deniedLength  = []string{strconv.Itoa(len(deniedBody))}
)

func (s *Server) authzCheck(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.CheckInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	ok, err := s.svc.Check(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	body, length := deniedBody, deniedLength
	if ok {
		body, length = allowedBody, allowedLength
	}
	h := w.Header()
	h["Content-Type"], h["Content-Length"] = jsonType, length
	_, _ = w.Write(body)
}

func (s *Server) authzScope(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	var userID int64
	if v := q.Get("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			s.error(w, r, &roster.Error{Code: roster.EInvalid, Message: "the input is not valid",
				Fields: []roster.FieldError{{Field: "user_id", Message: "must be a user id"}}})
			return
		}
		userID = id
	}
	vis, err := s.svc.Scope(r.Context(), a, userID, q.Get("permission"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, vis)
}

func (s *Server) startImpersonation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in struct {
		UserID int64 `json:"user_id"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	im, secret, err := s.svc.StartImpersonation(r.Context(), a, in.UserID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/impersonation/current")
	s.resource(w, r, http.StatusCreated, impersonationJSON{Impersonation: im, Token: secret})
}

// impersonationJSON adds the bearer secret, shown once, to an impersonation.
type impersonationJSON struct {
	*roster.Impersonation
	Token string `json:"token,omitempty"`
}

func (s *Server) currentImpersonation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	im, err := s.svc.CurrentImpersonation(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, impersonationJSON{Impersonation: im})
}

func (s *Server) stopImpersonation(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	if err := s.svc.StopImpersonation(r.Context(), a); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
