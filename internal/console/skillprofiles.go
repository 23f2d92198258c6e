package console

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Changing and deleting skills, profiles (group and personal) and property
// definitions. Creating them is on the Properties page and the group and
// user pages.

// ---- skills ----

type skillData struct {
	Skill *roster.Skill
	Name  string // the name field as typed
	Usage int    // profiles using the skill
}

// loadSkill finds a skill of the catalogue and how many profiles use it.
func (s *Server) loadSkill(r *http.Request, p *page) (*skillData, error) {
	id, err := door.PathID(r, "skill")
	if err != nil {
		return nil, err
	}
	skills, err := s.svc.ListSkills(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(skills, func(sk roster.Skill) bool { return sk.ID == id })
	if i < 0 {
		return nil, roster.Errorf(roster.ENotFound, "no skill with id %d", id)
	}
	d := &skillData{Skill: &skills[i], Name: skills[i].Name}
	if d.Usage, err = s.svc.SkillUsage(r.Context(), p.Actor, id); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) editSkillPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadSkill(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Rename the skill {{.Name}}", "Name", d.Skill.Name), "properties", d
	return s.show(w, r, "skill_edit", p)
}

func (s *Server) editSkill(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadSkill(r, p)
	if err != nil {
		return err
	}
	d.Name = r.PostFormValue("name")
	sk, err := s.svc.UpdateSkill(r.Context(), p.Actor, d.Skill.ID, roster.SkillInput{Name: roster.Some(d.Name)})
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		p.Title, p.Section, p.Data = p.T("Rename the skill {{.Name}}", "Name", d.Skill.Name), "properties", d
		s.render(w, r, status, "skill_edit", p)
		return nil
	}
	msg := p.T("Skill renamed to {{.Name}}.", "Name", sk.Name)
	if d.Usage > 0 {
		msg = p.N("Skill renamed to {{.Name}}; the {{.Count}} profiles using it show the new name.", d.Usage, "Name", sk.Name)
	}
	return s.redirect(w, r, "/properties#skills-h", msg)
}

func (s *Server) deleteSkillPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadSkill(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Delete the skill {{.Name}}?", "Name", d.Skill.Name), "properties", d
	return s.show(w, r, "skill_delete", p)
}

func (s *Server) deleteSkill(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadSkill(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteSkill(r.Context(), p.Actor, d.Skill.ID); err != nil {
		return s.refused(w, r, p, err, "skill_delete", p.T("Delete the skill {{.Name}}?", "Name", d.Skill.Name), "properties", d)
	}
	return s.redirect(w, r, "/properties#skills-h", p.T("Skill {{.Name}} deleted.", "Name", d.Skill.Name))
}

// ---- profiles ----

// skillRow is one row of the profile editor as shown or typed.
type skillRow struct {
	SkillID int64
	Level   string
	Remove  bool
}

type profileData struct {
	Profile   *roster.Profile
	Group     *roster.Group // the owner of a group profile
	GroupPath string
	User      *roster.User // the owner of a personal profile
	Back      string       // the owner's page
	Action    string       // where a new profile (Profile nil) is posted
	Skills    []roster.Skill
	Name      string // the name field as typed
	Rows      []skillRow
	// What a delete does: the users of the group's subtree (Total), and
	// those of them who had the profile switched on (when Total is small
	// enough to look at each; Checked says so).
	Total   int
	On      []roster.User
	Checked bool
}

// newSkillRows are the empty rows under a profile's skills, for adding.
const newSkillRows = 3

// loadProfile reads a profile with its owner and the skill catalogue, and
// fills the form with what the profile holds.
func (s *Server) loadProfile(r *http.Request, p *page) (*profileData, error) {
	id, err := door.PathID(r, "profile")
	if err != nil {
		return nil, err
	}
	ctx, a := r.Context(), p.Actor
	prof, err := s.svc.Profile(ctx, a, id)
	if err != nil {
		return nil, err
	}
	d := &profileData{Profile: prof, Name: prof.Name}
	if prof.GroupID != nil {
		if d.Group, err = s.svc.Group(ctx, a, *prof.GroupID); err != nil {
			return nil, err
		}
		d.GroupPath = d.Group.Name
		if names, err := s.groupNames(r, a); err == nil {
			d.GroupPath = names.Path(d.Group.ID)
		}
		d.Back = "/groups/" + itoa(d.Group.ID) + "#profiles-h"
	} else {
		if d.User, err = s.svc.User(ctx, a, *prof.UserID); err != nil {
			return nil, err
		}
		d.Back = "/users/" + itoa(d.User.ID) + "/edit#profiles-h"
	}
	if d.Skills, err = s.svc.ListSkills(ctx, a); err != nil {
		return nil, err
	}
	for _, ps := range prof.Skills {
		d.Rows = append(d.Rows, skillRow{SkillID: ps.SkillID, Level: strconv.Itoa(ps.Level)})
	}
	for range newSkillRows {
		d.Rows = append(d.Rows, skillRow{})
	}
	return d, nil
}

// profileTitle names a profile with its kind; a profile not made yet is
// named as the new one of its owner.
func profileTitle(p *page, d *profileData) string {
	if d.Profile == nil {
		if d.Group != nil {
			return p.T("New group profile for {{.Name}}", "Name", d.Group.Name)
		}
		return p.T("New personal profile for {{.Name}}", "Name", d.User.Name)
	}
	if d.Profile.Kind == roster.ProfileGroup {
		return p.T("the group profile {{.Name}}", "Name", d.Profile.Name)
	}
	return p.T("the personal profile {{.Name}}", "Name", d.Profile.Name)
}

func (s *Server) editProfilePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadProfile(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Edit {{.Name}}", "Name", profileTitle(p, d)), profileSection(d), d
	return s.show(w, r, "profile_edit", p)
}

// profileSection marks the owner's navigation entry.
func profileSection(d *profileData) string {
	if d.Group != nil {
		return "groups"
	}
	return "users"
}

// readProfileRows reads the editor: rows of skill, level and a remove box.
// It returns the input for the core and, for each skill of the input, the
// row it came from (so the core's "skills[i]" errors land on their row).
func readProfileRows(r *http.Request) ([]skillRow, roster.ProfileInput, []int) {
	ids, levels := r.PostForm["skill_id"], r.PostForm["level"]
	remove := map[int]bool{}
	for _, v := range r.PostForm["remove"] {
		if i, err := strconv.Atoi(v); err == nil {
			remove[i] = true
		}
	}
	var rows []skillRow
	skills := []roster.ProfileSkillInput{}
	var from []int
	for i := range max(len(ids), len(levels)) {
		row := skillRow{Remove: remove[i]}
		if i < len(ids) {
			row.SkillID, _ = strconv.ParseInt(ids[i], 10, 64)
		}
		if i < len(levels) {
			row.Level = strings.TrimSpace(levels[i])
		}
		rows = append(rows, row)
		if row.SkillID == 0 || row.Remove {
			continue // an unused row, or a skill taken out
		}
		level, err := strconv.Atoi(row.Level)
		if err != nil {
			level = 0 // not a number: the core names the range
		}
		skills = append(skills, roster.ProfileSkillInput{SkillID: row.SkillID, Level: level})
		from = append(from, i)
	}
	in := roster.ProfileInput{Name: roster.Some(r.PostFormValue("name")), Skills: roster.Some(skills)}
	return rows, in, from
}

var skillFieldPattern = regexp.MustCompile(`^skills\[(\d+)\]\.(skill_id|level)$`)

// rowErrors moves the core's "skills[i].level" errors to the fields of the
// form row they came from: "level-ROW", "skill-ROW".
func rowErrors(errs fieldErrors, from []int) fieldErrors {
	out := fieldErrors{}
	for k, msg := range errs {
		m := skillFieldPattern.FindStringSubmatch(k)
		if m == nil {
			out[k] = msg
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(from) {
			out["skills"] = msg
			continue
		}
		name := "level-"
		if m[2] == "skill_id" {
			name = "skill-"
		}
		out[name+strconv.Itoa(from[i])] = msg
	}
	return out
}

func (s *Server) editProfile(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadProfile(r, p)
	if err != nil {
		return err
	}
	rows, in, from := readProfileRows(r)
	prof, err := s.svc.UpdateProfile(r.Context(), p.Actor, d.Profile.ID, in)
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		p.Errors = rowErrors(p.Errors, from)
		d.Name, d.Rows = in.Name.V, rows
		p.Title, p.Section, p.Data = p.T("Edit {{.Name}}", "Name", profileTitle(p, d)), profileSection(d), d
		s.render(w, r, status, "profile_edit", p)
		return nil
	}
	saved := p.T("Group profile {{.Name}} saved.", "Name", prof.Name)
	if prof.Kind == roster.ProfilePersonal {
		saved = p.T("Personal profile {{.Name}} saved.", "Name", prof.Name)
	}
	return s.redirect(w, r, d.Back, saved)
}

// maxUsersChecked bounds the users a group profile's delete page looks at
// one by one to name those who had it switched on.
const maxUsersChecked = 50

// profileLosers fills in who loses a group profile: the users of the group
// and its subgroups, and of those the ones who had it switched on.
func (s *Server) profileLosers(r *http.Request, p *page, d *profileData) error {
	if d.Group == nil {
		return nil
	}
	ctx, a := r.Context(), p.Actor
	users, err := s.svc.ListUsers(ctx, a, roster.UserQuery{Group: itoa(d.Group.ID), PerPage: strconv.Itoa(maxUsersChecked)})
	if roster.ErrorCode(err) == roster.EForbidden || roster.ErrorCode(err) == roster.EInvalid {
		return nil // the page says it in general terms
	}
	if err != nil {
		return err
	}
	d.Total = users.Total
	if users.Total > len(users.Items) {
		return nil
	}
	off, err := s.svc.GroupProfileSwitchedOff(ctx, a, d.Profile.ID)
	if err != nil {
		return err
	}
	d.Checked = true
	for _, u := range users.Items {
		if !slices.Contains(off, u.ID) {
			d.On = append(d.On, u)
		}
	}
	return nil
}

func (s *Server) deleteProfilePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadProfile(r, p)
	if err != nil {
		return err
	}
	if err := s.profileLosers(r, p, d); err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Delete {{.Name}}?", "Name", profileTitle(p, d)), profileSection(d), d
	return s.show(w, r, "profile_delete", p)
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadProfile(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteProfile(r.Context(), p.Actor, d.Profile.ID); err != nil {
		if door.StatusOf(roster.ErrorCode(err)) >= http.StatusInternalServerError {
			return err
		}
		if lerr := s.profileLosers(r, p, d); lerr != nil {
			return lerr
		}
		return s.refused(w, r, p, err, "profile_delete", p.T("Delete {{.Name}}?", "Name", profileTitle(p, d)), profileSection(d), d)
	}
	msg := p.T("Personal profile {{.Name}} deleted.", "Name", d.Profile.Name)
	if d.Group != nil {
		msg = p.T("Group profile {{.Name}} deleted; the users of {{.Group}} no longer have it.", "Name", d.Profile.Name, "Group", d.Group.Name)
	}
	return s.redirect(w, r, d.Back, msg)
}

// ---- property definitions ----

type propertyEditData struct {
	Prop *roster.Property
	Form map[string]string
}

func propertyEditForm(prop *roster.Property) map[string]string {
	return map[string]string{"label": prop.Label, "default": formValue(prop.Default), "choices": strings.Join(prop.Choices, "\n")}
}

// choiceLines reads one choice per line; a choice may hold commas.
func choiceLines(text string) []string {
	out := []string{}
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (s *Server) editPropertyPage(w http.ResponseWriter, r *http.Request, p *page) error {
	prop, err := s.findProperty(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Edit the property {{.Name}}", "Name", prop.Label), "properties", &propertyEditData{Prop: prop, Form: propertyEditForm(prop)}
	return s.show(w, r, "property_edit", p)
}

func (s *Server) editProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	prop, err := s.findProperty(r, p)
	if err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range []string{"label", "default", "choices"} {
		form[k] = r.PostFormValue(k)
	}
	// Key and type stay as they are: the form does not offer them. The
	// default and the choices are sent only when they were edited, so a
	// label change never rewrites them through the form's text.
	in := roster.PropertyInput{Label: roster.Some(form["label"])}
	shown := propertyEditForm(prop)
	if form["default"] != shown["default"] {
		in.Default = roster.Some(jsonValue(prop, form["default"]))
	}
	if prop.Type == roster.PropChoice && form["choices"] != shown["choices"] {
		in.Choices = roster.Some(choiceLines(form["choices"]))
	}
	updated, err := s.svc.UpdateProperty(r.Context(), p.Actor, prop.Key, in)
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		p.Title, p.Section, p.Data = p.T("Edit the property {{.Name}}", "Name", prop.Label), "properties", &propertyEditData{Prop: prop, Form: form}
		s.render(w, r, status, "property_edit", p)
		return nil
	}
	return s.redirect(w, r, "/properties", p.T("Property {{.Name}} saved.", "Name", updated.Label))
}
