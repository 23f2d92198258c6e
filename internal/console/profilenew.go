package console

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// newProfileFailed answers a new profile the core refused: the profile
// editor, empty of a profile yet, with what was typed and each problem at
// its field (a duplicate skill at its row), instead of a banner over the
// owner's page that loses the values.
func (s *Server) newProfileFailed(w http.ResponseWriter, r *http.Request, p *page, d *profileData, err error) error {
	rows, in, from := readProfileRows(r)
	status, ok := formFailed(p, err)
	if !ok {
		return err
	}
	p.Errors = rowErrors(p.Errors, from)
	skills, err := s.svc.ListSkills(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	for len(rows) < len(profileRows) {
		rows = append(rows, skillRow{})
	}
	d.Skills, d.Name, d.Rows = skills, in.Name.V, rows
	p.Title, p.Section, p.Data = profileTitle(p, d), profileSection(d), d
	s.render(w, r, status, "profile_edit", p)
	return nil
}

// newGroupProfileData is the editor's data for a new profile of group id.
func (s *Server) newGroupProfileData(r *http.Request, p *page, id int64) (*profileData, error) {
	g, err := s.svc.Group(r.Context(), p.Actor, id)
	if err != nil {
		return nil, err
	}
	d := &profileData{Group: g, GroupPath: g.Name, Action: "/groups/" + itoa(id) + "/profiles", Back: "/groups/" + itoa(id) + "#profiles-h"}
	if names, err := s.groupNames(r, p.Actor); err == nil {
		d.GroupPath = names.Path(g.ID)
	}
	return d, nil
}

// newUserProfileData is the editor's data for a new personal profile of user id.
func (s *Server) newUserProfileData(r *http.Request, p *page, id int64) (*profileData, error) {
	u, err := s.svc.User(r.Context(), p.Actor, id)
	if err != nil {
		return nil, err
	}
	return &profileData{User: u, Action: "/users/" + itoa(id) + "/profiles", Back: "/users/" + itoa(id) + "/edit#profiles-h"}, nil
}

// isFormError tells a refusal the form can show from one it cannot.
func isFormError(err error) bool {
	code := roster.ErrorCode(err)
	return code == roster.EInvalid || code == roster.EConflict
}
