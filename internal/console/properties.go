package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Property values on the group and user pages, and the Properties page
// (definitions and the skill catalogue).

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
func (s *Server) propertyChanged(w http.ResponseWriter, r *http.Request, p *page, to, ok string, err error) error {
	if err != nil {
		if door.StatusOf(roster.ErrorCode(err)) >= http.StatusInternalServerError {
			return err
		}
		msg := errorMessage(p.L, err)
		for _, f := range roster.ErrorFields(err) {
			msg = f.Field + ": " + fieldMessage(p.L, f)
		}
		s.flash(w, r, "error", msg)
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	return s.redirect(w, r, to, ok)
}

func (s *Server) setGroupProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "group")
	if err != nil {
		return err
	}
	to := "/groups/" + itoa(id) + "#properties-h"
	prop, err := s.findProperty(r, p)
	if err != nil {
		return s.propertyChanged(w, r, p, to, "", err)
	}
	_, err = s.svc.SetGroupProperty(r.Context(), p.Actor, id, prop.Key, jsonValue(prop, r.PostFormValue("value")))
	return s.propertyChanged(w, r, p, to, prop.Label+" set on this group; its subgroups and users inherit it.", err)
}

func (s *Server) clearGroupProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "group")
	if err != nil {
		return err
	}
	_, err = s.svc.ClearGroupProperty(r.Context(), p.Actor, id, r.PathValue("key"))
	return s.propertyChanged(w, r, p, "/groups/"+itoa(id)+"#properties-h", p.T("The group's own value is removed; it inherits again."), err)
}

func (s *Server) setUserProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	to := "/users/" + itoa(id) + "/edit#properties-h"
	prop, err := s.findProperty(r, p)
	if err != nil {
		return s.propertyChanged(w, r, p, to, "", err)
	}
	_, err = s.svc.SetUserProperty(r.Context(), p.Actor, id, prop.Key, jsonValue(prop, r.PostFormValue("value")))
	return s.propertyChanged(w, r, p, to, prop.Label+" set on this user. It stays when they move to another group.", err)
}

func (s *Server) clearUserProperty(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	_, err = s.svc.ClearUserProperty(r.Context(), p.Actor, id, r.PathValue("key"))
	return s.propertyChanged(w, r, p, "/users/"+itoa(id)+"/edit#properties-h", p.T("The user's own value is removed; they inherit it again."), err)
}

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
	p.Title, p.Section, p.Data = p.T("Properties & skills"), "properties", d
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
		p.Title, p.Section, p.Data = p.T("Properties & skills"), "properties", d
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
		p.Title, p.Section, p.Data = p.T("Properties & skills"), "properties", d
		s.render(w, r, status, "properties", p)
		return nil
	}
	return s.redirect(w, r, "/properties#skills-h", "Skill "+sk.Name+" added.")
}
