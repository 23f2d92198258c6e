package api

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	me, err := s.svc.Me(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.MeInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	me, err := s.svc.UpdateMe(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) confirmMe(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	me, err := s.svc.ConfirmMe(r.Context(), a, in.Code)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) sendPasswordCode(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in struct {
			Channel string `json:"channel"`
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		err := s.svc.SendPasswordCode(r.Context(), a, id, in.Channel)
		if err == nil {
			writeJSON(w, http.StatusAccepted, map[string]any{"sent": true, "channel": roster.OrDefaultChannel(in.Channel)})
		}
		return err
	})
}

func (s *Server) mySessions(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	list, err := s.svc.MySessions(r.Context(), a, sessionToken(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list, "total": len(list), "page": 1, "per_page": len(list)})
}

func (s *Server) signOutOthers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	n, err := s.svc.SignOutOthers(r.Context(), a, sessionToken(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ended": n})
}
