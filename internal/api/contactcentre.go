package api

import (
	"encoding/json"
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// reply renders v with status, or the error.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.resource(w, r, status, v)
}

func (s *Server) listProperties(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	props, err := s.svc.ListProperties(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeWhole(s, w, r, props, sortKeys[roster.Property]{
		"key": byText(func(x roster.Property) string { return x.Key }), "label": byText(func(x roster.Property) string { return x.Label }),
		"created_at": byInt(func(x roster.Property) int64 { return x.CreatedAt.UnixMilli() }),
		"updated_at": byInt(func(x roster.Property) int64 { return x.UpdatedAt.UnixMilli() }),
	})
}

func (s *Server) createProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.PropertyInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.svc.CreateProperty(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, p, err)
}

func (s *Server) getProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	p, err := s.svc.Property(r.Context(), a, r.PathValue("key"))
	s.reply(w, r, http.StatusOK, p, err)
}

func (s *Server) updateProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.PropertyInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.svc.UpdateProperty(r.Context(), a, r.PathValue("key"), in)
	s.reply(w, r, http.StatusOK, p, err)
}

func (s *Server) deleteProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	if err := s.svc.DeleteProperty(r.Context(), a, r.PathValue("key")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// valueBody is the body of PUT .../properties/{key}.
type valueBody struct {
	Value json.RawMessage `json:"value"`
}

func (s *Server) groupProperties(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		g, err := s.svc.GroupProperties(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) setGroupProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		var in valueBody
		if err := decode(w, r, &in); err != nil {
			return err
		}
		g, err := s.svc.SetGroupProperty(r.Context(), a, id, r.PathValue("key"), in.Value)
		if err == nil {
			s.resource(w, r, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) clearGroupProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		g, err := s.svc.ClearGroupProperty(r.Context(), a, id, r.PathValue("key"))
		if err == nil {
			s.resource(w, r, http.StatusOK, g)
		}
		return err
	})
}

func (s *Server) setUserProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in valueBody
		if err := decode(w, r, &in); err != nil {
			return err
		}
		u, err := s.svc.SetUserProperty(r.Context(), a, id, r.PathValue("key"), in.Value)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) clearUserProperty(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		u, err := s.svc.ClearUserProperty(r.Context(), a, id, r.PathValue("key"))
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) listSkills(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	skills, err := s.svc.ListSkills(r.Context(), a)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeWhole(s, w, r, skills, sortKeys[roster.Skill]{
		"name":       byText(func(x roster.Skill) string { return x.Name }),
		"created_at": byInt(func(x roster.Skill) int64 { return x.CreatedAt.UnixMilli() }),
		"updated_at": byInt(func(x roster.Skill) int64 { return x.UpdatedAt.UnixMilli() }),
	})
}

func (s *Server) createSkill(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.SkillInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	sk, err := s.svc.CreateSkill(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, sk, err)
}

func (s *Server) getSkill(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("skill", w, r, func(id int64) error {
		sk, err := s.svc.Skill(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, sk)
		}
		return err
	})
}

func (s *Server) updateSkill(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("skill", w, r, func(id int64) error {
		var in roster.SkillInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		sk, err := s.svc.UpdateSkill(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, sk)
		}
		return err
	})
}

func (s *Server) deleteSkill(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("skill", w, r, func(id int64) error {
		err := s.svc.DeleteSkill(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) groupProfiles(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		ps, err := s.svc.GroupProfiles(r.Context(), a, id)
		if err == nil {
			writeWhole(s, w, r, ps, sortKeys[roster.Profile]{
				"name":       byText(func(x roster.Profile) string { return x.Name }),
				"created_at": byInt(func(x roster.Profile) int64 { return x.CreatedAt.UnixMilli() }),
				"updated_at": byInt(func(x roster.Profile) int64 { return x.UpdatedAt.UnixMilli() }),
			})
		}
		return err
	})
}

func (s *Server) createGroupProfile(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("group", w, r, func(id int64) error {
		var in roster.ProfileInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.CreateGroupProfile(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusCreated, p)
		}
		return err
	})
}

func (s *Server) createUserProfile(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in roster.ProfileInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.CreateUserProfile(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusCreated, p)
		}
		return err
	})
}

func (s *Server) setUserGroupProfiles(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("user", w, r, func(id int64) error {
		var in struct {
			Enabled *[]int64 `json:"enabled"`
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		if in.Enabled == nil {
			var v roster.Validation
			v.Add("enabled", "is required: the ids of the group profiles to switch on ([] switches all off)")
			return v.Err()
		}
		u, err := s.svc.SetUserGroupProfiles(r.Context(), a, id, *in.Enabled)
		if err == nil {
			s.resource(w, r, http.StatusOK, u)
		}
		return err
	})
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("profile", w, r, func(id int64) error {
		p, err := s.svc.Profile(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("profile", w, r, func(id int64) error {
		var in roster.ProfileInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.UpdateProfile(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("profile", w, r, func(id int64) error {
		err := s.svc.DeleteProfile(r.Context(), a, id)
		if err == nil {
			w.WriteHeader(http.StatusNoContent)
		}
		return err
	})
}

func (s *Server) listCoachingPlans(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	page, err := s.svc.ListCoachingPlans(r.Context(), a, roster.CoachingPlanQuery{
		AgentUserID: q.Get("agent_user_id"), Status: q.Get("status"), Sort: q.Get("sort"), Order: q.Get("order"),
		Page: q.Get("page"), PerPage: q.Get("per_page"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, page)
}

func (s *Server) createCoachingPlan(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var in roster.CoachingPlanInput
	if err := decode(w, r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.svc.CreateCoachingPlan(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, p, err)
}

func (s *Server) getCoachingPlan(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("coaching plan", w, r, func(id int64) error {
		p, err := s.svc.CoachingPlan(r.Context(), a, id)
		if err == nil {
			s.resource(w, r, http.StatusOK, p)
		}
		return err
	})
}

func (s *Server) updateCoachingPlan(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("coaching plan", w, r, func(id int64) error {
		var in roster.CoachingPlanInput
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.UpdateCoachingPlan(r.Context(), a, id, in)
		if err == nil {
			s.resource(w, r, http.StatusOK, p)
		}
		return err
	})
}

// noteBody is the body of POST /coaching-plans/{id}/notes.
type noteBody struct {
	Text string `json:"text"`
}

func (s *Server) addCoachingNote(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.withID("coaching plan", w, r, func(id int64) error {
		var in noteBody
		if err := decode(w, r, &in); err != nil {
			return err
		}
		p, err := s.svc.AddCoachingNote(r.Context(), a, id, in.Text)
		if err == nil {
			s.resource(w, r, http.StatusCreated, p)
		}
		return err
	})
}

func (s *Server) myTeam(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	q := r.URL.Query()
	team, err := s.svc.MyTeam(r.Context(), a, roster.MyTeamQuery{From: q.Get("from"), To: q.Get("to"), Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeList(w, r, team)
}
