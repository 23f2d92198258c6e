package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// My Team, coaching plans and an agent's own page (seed 000).

type myTeamData struct {
	Team *roster.MyTeam
	List listView
	From string
	To   string
}

func (s *Server) myTeamPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := myTeamData{List: newListView("/my-team", q), From: q.Get("from"), To: q.Get("to")}
	var err error
	d.Team, err = s.svc.MyTeam(r.Context(), p.Actor, roster.MyTeamQuery{From: d.From, To: d.To, Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		if _, ok := formFailed(p, err); !ok {
			return err
		}
		if d.Team, err = s.svc.MyTeam(r.Context(), p.Actor, roster.MyTeamQuery{}); err != nil {
			return err
		}
	}
	p.Title, p.Section, p.Data = p.T("My Team"), "team", d
	return s.show(w, r, "my_team", p)
}

// planForm is a coaching plan form as typed.
type planForm struct {
	AgentUserID, Title, Goals, Status, DueDate, Note string
}

func readPlanForm(r *http.Request) planForm {
	return planForm{AgentUserID: r.PostFormValue("agent_user_id"), Title: r.PostFormValue("title"), Goals: r.PostFormValue("goals"),
		Status: r.PostFormValue("status"), DueDate: r.PostFormValue("due_date"), Note: r.PostFormValue("note")}
}

func (f planForm) input(create bool) roster.CoachingPlanInput {
	in := roster.CoachingPlanInput{Title: roster.Some(f.Title), Goals: roster.Some(f.Goals)}
	if f.Status != "" {
		in.Status = roster.Some(f.Status)
	}
	if f.DueDate != "" {
		in.DueDate = roster.Some(f.DueDate)
	} else if !create {
		in.DueDate = roster.Opt[string]{Set: true, Null: true}
	}
	if strings.TrimSpace(f.Note) != "" {
		in.Note = roster.Some(f.Note)
	}
	if create && f.AgentUserID != "" {
		id, err := strconv.ParseInt(f.AgentUserID, 10, 64)
		if err != nil {
			id = -1 // not a user: the core says so
		}
		in.AgentUserID = roster.Some(id)
	}
	return in
}

type coachingData struct {
	Agent    *roster.User // whose plans (nil: all the actor may see)
	Plans    *roster.Page[roster.CoachingPlan]
	List     listView
	Form     planForm
	Statuses []string
	Names    map[int64]string
}

// coachingPage lists plans (of one agent with ?agent=) and offers a new one.
func (s *Server) coachingPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.coachingData(r, p, r.URL.Query().Get("agent"))
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Coaching plans"), "team", d
	if d.Agent != nil {
		p.Title = "Coaching plans of " + d.Agent.Name
	}
	return s.show(w, r, "coaching", p)
}

func (s *Server) coachingData(r *http.Request, p *page, agent string) (*coachingData, error) {
	q := r.URL.Query()
	d := &coachingData{List: newListView("/coaching", q), Statuses: roster.PlanStatuses, Form: planForm{AgentUserID: agent}, Names: map[int64]string{}}
	var err error
	if agent != "" {
		id, perr := strconv.ParseInt(agent, 10, 64)
		if perr != nil {
			return nil, roster.Errorf(roster.ENotFound, "no user with id %q", agent)
		}
		if d.Agent, err = s.teamMember(r, p, id); err != nil {
			return nil, err
		}
	}
	d.Plans, err = s.svc.ListCoachingPlans(r.Context(), p.Actor, roster.CoachingPlanQuery{AgentUserID: agent, Status: q.Get("status"),
		Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		return nil, err
	}
	for _, pl := range d.Plans.Items {
		if _, ok := d.Names[pl.AgentUserID]; !ok {
			d.Names[pl.AgentUserID] = "user #" + itoa(pl.AgentUserID)
			if u, err := s.teamMember(r, p, pl.AgentUserID); err == nil {
				d.Names[pl.AgentUserID] = u.Name
			}
		}
	}
	return d, nil
}

// teamMember names a plan's agent: the actor themself, a user they may view,
// or a member of their team.
func (s *Server) teamMember(r *http.Request, p *page, id int64) (*roster.User, error) {
	a := p.Actor
	if a.Kind == roster.ActorUser && a.ID == id {
		return s.svc.CurrentUser(r.Context(), a)
	}
	u, err := s.svc.User(r.Context(), a, id)
	if roster.ErrorCode(err) != roster.EForbidden {
		return u, err
	}
	team, terr := s.svc.MyTeam(r.Context(), a, roster.MyTeamQuery{})
	if terr != nil {
		return nil, err
	}
	for _, m := range team.Items {
		if m.User.ID == id {
			return &m.User, nil
		}
	}
	return nil, roster.Errorf(roster.ENotFound, "no user with id %d in your team", id)
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, p *page) error {
	f := readPlanForm(r)
	plan, err := s.svc.CreateCoachingPlan(r.Context(), p.Actor, f.input(true))
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		back := r.PostFormValue("back")
		if back == "/me" {
			d, derr := s.meData(r, p)
			if derr != nil {
				return derr
			}
			d.Form = f
			p.Title, p.Section, p.Data = p.T("My page"), "me", d
			s.render(w, r, status, "me", p)
			return nil
		}
		d, derr := s.coachingData(r, p, f.AgentUserID)
		if derr != nil {
			return derr
		}
		d.Form = f
		p.Title, p.Section, p.Data = p.T("Coaching plans"), "team", d
		s.render(w, r, status, "coaching", p)
		return nil
	}
	return s.redirect(w, r, localPath(r.PostFormValue("back"), "/coaching/"+itoa(plan.ID)), "Coaching plan “"+plan.Title+"” created.")
}

type planData struct {
	Plan     *roster.CoachingPlan
	Agent    string
	Form     planForm
	Statuses []string
}

func (s *Server) loadPlan(r *http.Request, p *page) (*planData, error) {
	id, err := door.PathID(r, "coaching plan")
	if err != nil {
		return nil, err
	}
	plan, err := s.svc.CoachingPlan(r.Context(), p.Actor, id)
	if err != nil {
		return nil, err
	}
	d := &planData{Plan: plan, Statuses: roster.PlanStatuses, Agent: "user #" + itoa(plan.AgentUserID)}
	if u, err := s.teamMember(r, p, plan.AgentUserID); err == nil {
		d.Agent = u.Name
	}
	d.Form = planForm{Title: plan.Title, Goals: plan.Goals, Status: plan.Status}
	if plan.DueDate != nil {
		d.Form.DueDate = *plan.DueDate
	}
	return d, nil
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadPlan(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = d.Plan.Title, planSection(p), d
	return s.show(w, r, "plan", p)
}

func planSection(p *page) string {
	if p.Actor.Can(roster.PermTeamView) {
		return "team"
	}
	return "me"
}

func (s *Server) updatePlan(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadPlan(r, p)
	if err != nil {
		return err
	}
	f := readPlanForm(r)
	plan, err := s.svc.UpdateCoachingPlan(r.Context(), p.Actor, d.Plan.ID, f.input(false))
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d.Form = f
		p.Title, p.Section, p.Data = d.Plan.Title, planSection(p), d
		s.render(w, r, status, "plan", p)
		return nil
	}
	return s.redirect(w, r, "/coaching/"+itoa(plan.ID), "Coaching plan saved.")
}

type meData struct {
	User         *roster.User
	Interactions *roster.Page[roster.Interaction]
	Plans        *roster.Page[roster.CoachingPlan]
	Form         planForm
	Statuses     []string
}

func (s *Server) meData(r *http.Request, p *page) (*meData, error) {
	ctx, a := r.Context(), p.Actor
	d := &meData{Statuses: roster.PlanStatuses}
	var err error
	if d.User, err = s.svc.CurrentUser(ctx, a); err != nil {
		return nil, err
	}
	if d.Interactions, err = s.svc.ListInteractions(ctx, a, roster.InteractionQuery{PerPage: "10"}); err != nil {
		return nil, err
	}
	d.Plans, err = s.svc.ListCoachingPlans(ctx, a, roster.CoachingPlanQuery{AgentUserID: itoa(d.User.ID), PerPage: "50"})
	if err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return nil, err
	}
	return d, nil
}

// mePage is an agent's own page: their interactions and coaching plans.
func (s *Server) mePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.meData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("My page"), "me", d
	return s.show(w, r, "me", p)
}
