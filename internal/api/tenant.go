package api

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// The tenant's own settings (GET for every signed-in actor, PATCH for
// environment managers) and the signed-in user's own profile.

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	t, err := s.svc.Tenant(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.TenantInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.svc.UpdateTenant(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
