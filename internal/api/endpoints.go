package api

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListUsers(r.Context(), a, roster.UserQuery{
		Status: q.Get("status"), Role: q.Get("role"), Group: q.Get("group"), Q: q.Get("q"),
		Sort: q.Get("sort"), Order: q.Get("order"), Page: q.Get("page"), PerPage: q.Get("per_page"),
		// The flags of seed 004; "scoring" is the console's shorter name.
		Scoring: cmp.Or(q.Get("scoring_enabled"), q.Get("scoring")), Roaming: q.Get("roaming"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.UserInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	u, err := s.svc.CreateUser(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusCreated, u)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		u, err := s.svc.User(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in roster.UserInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		u, err := s.svc.UpdateUser(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		err := s.svc.DeleteUser(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		u, err := s.svc.DeactivateUser(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) reactivateUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		u, err := s.svc.ReactivateUser(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) agentNumbers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	nums, err := s.svc.UsedAgentNumbers(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, map[string][]int64{"used": nums})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	st, err := s.svc.Stats(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusOK, st)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	groups, err := s.svc.ListGroups(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeWhole(s, w, r, groups, sortKeys[roster.Group]{
		"name": byText(func(g roster.Group) string { return g.Name }), "level": byInt(func(g roster.Group) int64 { return int64(g.Level) }),
		"created_at": byInt(func(g roster.Group) int64 { return g.CreatedAt.UnixMilli() }),
		"updated_at": byInt(func(g roster.Group) int64 { return g.UpdatedAt.UnixMilli() }),
	})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.GroupInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	g, err := s.svc.CreateGroup(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusCreated, g)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		g, err := s.svc.Group(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		var in roster.GroupInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		g, err := s.svc.UpdateGroup(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		err := s.svc.DeleteGroup(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	roles, err := s.svc.ListRoles(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeWhole(s, w, r, roles, sortKeys[roster.Role]{
		"name": byText(func(x roster.Role) string { return x.Name }), "key": byText(func(x roster.Role) string { return x.Key }),
		"created_at": byInt(func(x roster.Role) int64 { return x.CreatedAt.UnixMilli() }),
		"updated_at": byInt(func(x roster.Role) int64 { return x.UpdatedAt.UnixMilli() }),
	})
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.RoleInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	role, err := s.svc.CreateRole(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, http.StatusCreated, role)
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("role", w, r, func(id int64) error {
		role, err := s.svc.Role(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, role)
		}
		return err
	})
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("role", w, r, func(id int64) error {
		var in roster.RoleInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		role, err := s.svc.UpdateRole(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, role)
		}
		return err
	})
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("role", w, r, func(id int64) error {
		err := s.svc.DeleteRole(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) permissions(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.resource(w, r, http.StatusOK, s.svc.PermissionCatalogue(r.Context(), a))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.TokenInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	tok, secret, err := s.svc.CreateToken(r.Context(), a, in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/tokens/"+strconv.FormatInt(tok.ID, 10))
	s.resource(w, r, http.StatusCreated, map[string]any{"id": tok.ID, "name": tok.Name, "role": tok.Role, "token": secret,
		"created_by": tok.BoundUserID, "service": tok.Service, "created_at": tok.CreatedAt, "expires_at": tok.ExpiresAt})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	toks, err := s.svc.ListTokens(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	optMS := func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixMilli()
	}
	writeWhole(s, w, r, toks, sortKeys[roster.APIToken]{
		"name":         byText(func(x roster.APIToken) string { return x.Name }),
		"created_at":   byInt(func(x roster.APIToken) int64 { return x.CreatedAt.UnixMilli() }),
		"last_used_at": byInt(func(x roster.APIToken) int64 { return optMS(x.LastUsedAt) }),
		"expires_at":   byInt(func(x roster.APIToken) int64 { return optMS(x.ExpiresAt) }),
	})
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("token", w, r, func(id int64) error {
		tok, err := s.svc.Token(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, tok)
		}
		return err
	})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("token", w, r, func(id int64) error {
		err := s.svc.RevokeToken(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	var v roster.Validation
	f := roster.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	f.From = parseTime(&v, "from", q.Get("from"))
	f.To = parseTime(&v, "to", q.Get("to"))
	f.Page, f.PerPage = roster.ParsePaging(&v, q.Get("page"), q.Get("per_page"))
	if err := v.Err(); err != nil {
		s.error(w, r, err)
		return
	}
	page, err := s.svc.ListAudit(r.Context(), a, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

// parseTime reads an RFC 3339 time or a date (YYYY-MM-DD, UTC midnight).
func parseTime(v *roster.Validation, field, s string) *time.Time {
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return &t
		}
	}
	v.Add(field, "must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T08:00:00Z)")
	return nil
}
