package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/roster"
)

// Properties, skills and profiles (seed 003), My Team and coaching plans
// (seed 000), and an agent's own page.

func (s *Server) contactCentreRoutes() []route {
	return []route{
		{"GET /properties", signedIn, s.propertiesPage},
		{"POST /properties", signedIn, s.createProperty},
		{"GET /properties/{key}/delete", signedIn, s.deletePropertyPage},
		{"POST /properties/{key}/delete", signedIn, s.deleteProperty},
		{"POST /skills", signedIn, s.createSkill},

		{"POST /groups/{id}/properties/{key}", signedIn, s.setGroupProperty},
		{"POST /groups/{id}/properties/{key}/clear", signedIn, s.clearGroupProperty},
		{"POST /groups/{id}/profiles", signedIn, s.createGroupProfile},
		{"POST /users/{id}/properties/{key}", signedIn, s.setUserProperty},
		{"POST /users/{id}/properties/{key}/clear", signedIn, s.clearUserProperty},
		{"POST /users/{id}/group-profiles", signedIn, s.setUserGroupProfiles},
		{"POST /users/{id}/profiles", signedIn, s.createUserProfile},

		{"GET /my-team", signedIn, s.myTeamPage},
		{"GET /me", signedIn, s.mePage},
		{"GET /coaching", signedIn, s.coachingPage},
		{"POST /coaching", signedIn, s.createPlan},
		{"GET /coaching/{id}", signedIn, s.planPage},
		{"POST /coaching/{id}", signedIn, s.updatePlan},
	}
}

// ---- property values ----

// propertyRow is one property with its effective value and where it comes
// from, for the group and user pages.
type propertyRow struct {
	Prop      roster.Property
	Value     string // as typed in a form
	Display   string // as shown
	Source    string // "set on this user", "inherited from Sales", "default"
	SetHere   bool   // the value is set on the page's own group or user
	Error     string
	ShowValue string // what the form shows after a refused change
}

// displayValue renders a JSON value for people.
func displayValue(p roster.Property, raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if str == "" {
			return "(empty)"
		}
		return str
	}
	v := strings.TrimSpace(string(raw))
	switch p.Type {
	case roster.PropDuration:
		return v + " s"
	case roster.PropBoolean:
		if v == "true" {
			return "yes"
		}
		return "no"
	}
	return v
}

// formValue is a JSON value as a form field holds it.
func formValue(raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	return strings.TrimSpace(string(raw))
}

// jsonValue turns typed text into the property's JSON value. Text that does
// not fit the type is passed on as a string, for the core to name.
func jsonValue(p *roster.Property, text string) json.RawMessage {
	text = strings.TrimSpace(text)
	if p != nil {
		switch p.Type {
		case roster.PropInteger, roster.PropDuration:
			if _, err := strconv.ParseInt(text, 10, 64); err == nil {
				return json.RawMessage(text)
			}
		case roster.PropBoolean:
			if text == "true" || text == "false" {
				return json.RawMessage(text)
			}
		}
	}
	b, _ := json.Marshal(text)
	return b
}

// propertyRows pairs the catalogue with effective values; here is the
// source string of the page's own level ("user" or "group:ID").
func propertyRows(props []roster.Property, values map[string]roster.EffectiveValue, groups groupNames, here string) []propertyRow {
	rows := make([]propertyRow, 0, len(props))
	for _, p := range props {
		ev, ok := values[p.Key]
		if !ok {
			ev = roster.EffectiveValue{Value: p.Default, Source: roster.SourceDefault}
		}
		row := propertyRow{Prop: p, Value: formValue(ev.Value), Display: displayValue(p, ev.Value), SetHere: ev.Source == here}
		switch {
		case ev.Source == roster.SourceUser:
			row.Source = "set on this user"
		case ev.Source == roster.SourceDefault:
			row.Source = "default"
		case ev.Source == here:
			row.Source = "set on this group"
		case strings.HasPrefix(ev.Source, "group:"):
			id, _ := strconv.ParseInt(strings.TrimPrefix(ev.Source, "group:"), 10, 64)
			row.Source = "inherited from " + groups.Name(id)
		default:
			row.Source = ev.Source
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) findProperty(r *http.Request, p *page) (*roster.Property, error) {
	return s.svc.Property(r.Context(), p.Actor, r.PathValue("key"))
}

// propertyChanged redirects back with the outcome, or with the core's
// refusal as the message (the value's field error).
func (s *Server) propertyChanged(w http.ResponseWriter, r *http.Request, to, ok string, err error) error {
	if err != nil {
		if statusOf(roster.ErrorCode(err)) >= http.StatusInternalServerError {
			return err
		}
		msg := roster.ErrorMessage(err)
		for _, f := range roster.ErrorFields(err) {
			msg = f.Field + ": " + f.Message
		}
		s.flash(w, r, "error", msg)
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	return s.redirect(w, r, to, ok)
}

func (s *Server) setGroupProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "group")
	if err != nil {
		return err
	}
	to := "/groups/" + itoa(id) + "#properties-h"
	prop, err := s.findProperty(r, p)
	if err != nil {
		return s.propertyChanged(w, r, to, "", err)
	}
	_, err = s.svc.SetGroupProperty(r.Context(), p.Actor, id, prop.Key, jsonValue(prop, r.PostFormValue("value")))
	return s.propertyChanged(w, r, to, prop.Label+" set on this group; its subgroups and users inherit it.", err)
}

func (s *Server) clearGroupProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "group")
	if err != nil {
		return err
	}
	_, err = s.svc.ClearGroupProperty(r.Context(), p.Actor, id, r.PathValue("key"))
	return s.propertyChanged(w, r, "/groups/"+itoa(id)+"#properties-h", "The group's own value is removed; it inherits again.", err)
}

func (s *Server) setUserProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	to := "/users/" + itoa(id) + "/edit#properties-h"
	prop, err := s.findProperty(r, p)
	if err != nil {
		return s.propertyChanged(w, r, to, "", err)
	}
	_, err = s.svc.SetUserProperty(r.Context(), p.Actor, id, prop.Key, jsonValue(prop, r.PostFormValue("value")))
	return s.propertyChanged(w, r, to, prop.Label+" set on this user. It stays when they move to another group.", err)
}

func (s *Server) clearUserProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	_, err = s.svc.ClearUserProperty(r.Context(), p.Actor, id, r.PathValue("key"))
	return s.propertyChanged(w, r, "/users/"+itoa(id)+"/edit#properties-h", "The user's own value is removed; they inherit it again.", err)
}

// ---- profiles ----

// readProfile reads a profile form: a name and rows of skill and level.
func readProfile(r *http.Request) roster.ProfileInput {
	in := roster.ProfileInput{Name: roster.Some(r.PostFormValue("name"))}
	skills := []roster.ProfileSkillInput{}
	ids, levels := r.PostForm["skill_id"], r.PostForm["level"]
	for i, v := range ids {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id == 0 {
			continue // an unused row
		}
		level := 0
		if i < len(levels) {
			level, _ = strconv.Atoi(strings.TrimSpace(levels[i]))
		}
		skills = append(skills, roster.ProfileSkillInput{SkillID: id, Level: level})
	}
	in.Skills = roster.Some(skills)
	return in
}

func (s *Server) createGroupProfile(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "group")
	if err != nil {
		return err
	}
	prof, err := s.svc.CreateGroupProfile(r.Context(), p.Actor, id, readProfile(r))
	if isFormError(err) {
		d, derr := s.newGroupProfileData(r, p, id)
		if derr != nil {
			return derr
		}
		return s.newProfileFailed(w, r, p, d, err)
	}
	name := ""
	if prof != nil {
		name = prof.Name
	}
	return s.propertyChanged(w, r, "/groups/"+itoa(id)+"#profiles-h", "Group profile "+name+" created.", err)
}

func (s *Server) createUserProfile(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	prof, err := s.svc.CreateUserProfile(r.Context(), p.Actor, id, readProfile(r))
	if isFormError(err) {
		d, derr := s.newUserProfileData(r, p, id)
		if derr != nil {
			return derr
		}
		return s.newProfileFailed(w, r, p, d, err)
	}
	name := ""
	if prof != nil {
		name = prof.Name
	}
	return s.propertyChanged(w, r, "/users/"+itoa(id)+"/edit#profiles-h", "Personal profile "+name+" created.", err)
}

func (s *Server) setUserGroupProfiles(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	_, err = s.svc.SetUserGroupProfiles(r.Context(), p.Actor, id, parseIDs(r.PostForm["enabled"]))
	return s.propertyChanged(w, r, "/users/"+itoa(id)+"/edit#profiles-h", "Group profiles saved.", err)
}

// profileRows are the empty skill rows of a new profile form.
var profileRows = []int{1, 2, 3, 4}

// ccData is what the group and user pages show of the contact centre.
type ccData struct {
	Properties []propertyRow
	Profiles   []roster.Profile     // a group's own profiles
	UserProfs  []roster.UserProfile // a user's available profiles
	Skills     []roster.Skill
	Rows       []int
}

// groupMore adds properties and profiles to the group page.
func (s *Server) groupMore(r *http.Request, p *page, d *groupData) error {
	ctx, a := r.Context(), p.Actor
	cc := &ccData{Rows: profileRows}
	props, err := s.svc.ListProperties(ctx, a)
	if err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	if err == nil {
		gd, err := s.svc.GroupProperties(ctx, a, d.Group.ID)
		if err != nil {
			return err
		}
		cc.Properties = propertyRows(props, gd.Properties, d.Groups, roster.SourceGroup(d.Group.ID))
	}
	if cc.Profiles, err = s.svc.GroupProfiles(ctx, a, d.Group.ID); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	if cc.Skills, err = s.svc.ListSkills(ctx, a); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	d.More = cc
	return nil
}

// userCC is what the user pages show of the contact centre.
func (s *Server) userCC(r *http.Request, p *page, u *roster.User, groups groupNames) (*ccData, error) {
	ctx, a := r.Context(), p.Actor
	cc := &ccData{Rows: profileRows, UserProfs: u.Profiles}
	props, err := s.svc.ListProperties(ctx, a)
	if err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return nil, err
	}
	cc.Properties = propertyRows(props, u.Properties, groups, roster.SourceUser)
	if cc.Skills, err = s.svc.ListSkills(ctx, a); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return nil, err
	}
	return cc, nil
}

// ---- the properties page ----

type propertiesData struct {
	Properties []roster.Property
	Skills     []roster.Skill
	Types      []string
	Form       map[string]string
}

func (s *Server) propertiesData(r *http.Request, p *page) (*propertiesData, error) {
	d := &propertiesData{Types: roster.PropertyTypes, Form: map[string]string{"type": roster.PropInteger}}
	var err error
	if d.Properties, err = s.svc.ListProperties(r.Context(), p.Actor); err != nil {
		return nil, err
	}
	if d.Skills, err = s.svc.ListSkills(r.Context(), p.Actor); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) propertiesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.propertiesData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = "Properties & skills", "properties", d
	return s.show(w, r, "properties", p)
}

func (s *Server) createProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	form := map[string]string{}
	for _, k := range []string{"key", "label", "type", "default", "choices"} {
		form[k] = r.PostFormValue(k)
	}
	in := roster.PropertyInput{Key: roster.Some(form["key"]), Label: roster.Some(form["label"]), Type: roster.Some(form["type"])}
	choices := splitLines(form["choices"])
	if form["type"] == roster.PropChoice {
		in.Choices = roster.Some(choices)
	}
	if strings.TrimSpace(form["default"]) != "" || form["type"] == roster.PropText {
		in.Default = roster.Some(jsonValue(&roster.Property{Type: form["type"]}, form["default"]))
	}
	prop, err := s.svc.CreateProperty(r.Context(), p.Actor, in)
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d, derr := s.propertiesData(r, p)
		if derr != nil {
			return derr
		}
		d.Form = form
		p.Title, p.Section, p.Data = "Properties & skills", "properties", d
		s.render(w, r, status, "properties", p)
		return nil
	}
	return s.redirect(w, r, "/properties", "Property "+prop.Label+" created.")
}

func (s *Server) deletePropertyPage(w http.ResponseWriter, r *http.Request, p *page) error {
	prop, err := s.findProperty(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = "Delete the property "+prop.Label+"?", "properties", prop
	return s.show(w, r, "property_delete", p)
}

func (s *Server) deleteProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	prop, err := s.findProperty(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteProperty(r.Context(), p.Actor, prop.Key); err != nil {
		return s.refused(w, r, p, err, "property_delete", "Delete the property "+prop.Label+"?", "properties", prop)
	}
	return s.redirect(w, r, "/properties", "Property "+prop.Label+" deleted.")
}

func (s *Server) createSkill(w http.ResponseWriter, r *http.Request, p *page) error {
	name := r.PostFormValue("skill_name")
	sk, err := s.svc.CreateSkill(r.Context(), p.Actor, roster.SkillInput{Name: roster.Some(name)})
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d, derr := s.propertiesData(r, p)
		if derr != nil {
			return derr
		}
		d.Form["skill_name"] = name
		if msg := p.Errors["name"]; msg != "" {
			p.Errors["skill_name"] = msg
		}
		p.Title, p.Section, p.Data = "Properties & skills", "properties", d
		s.render(w, r, status, "properties", p)
		return nil
	}
	return s.redirect(w, r, "/properties#skills-h", "Skill "+sk.Name+" added.")
}

// ---- My Team, coaching plans, an agent's own page ----

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
	p.Title, p.Section, p.Data = "My Team", "team", d
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
	p.Title, p.Section, p.Data = "Coaching plans", "team", d
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
			p.Title, p.Section, p.Data = "My page", "me", d
			s.render(w, r, status, "me", p)
			return nil
		}
		d, derr := s.coachingData(r, p, f.AgentUserID)
		if derr != nil {
			return derr
		}
		d.Form = f
		p.Title, p.Section, p.Data = "Coaching plans", "team", d
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
	id, err := pathID(r, "coaching plan")
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
	p.Title, p.Section, p.Data = "My page", "me", d
	return s.show(w, r, "me", p)
}

// enabledProfiles are the ids of the enabled group profiles.
func enabledProfiles(profs []roster.UserProfile) []int64 {
	var out []int64
	for _, pr := range profs {
		if pr.Kind == roster.ProfileGroup && pr.Enabled {
			out = append(out, pr.ID)
		}
	}
	slices.Sort(out)
	return out
}
