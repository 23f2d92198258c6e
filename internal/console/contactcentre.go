package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Profiles (seed 003) on the group and user pages, and the contact-centre
// part of those pages.

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
	id, err := door.PathID(r, "group")
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
	return s.propertyChanged(w, r, p, "/groups/"+itoa(id)+"#profiles-h", p.T("Group profile {{.Name}} created.", "Name", name), err)
}

func (s *Server) createUserProfile(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
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
	return s.propertyChanged(w, r, p, "/users/"+itoa(id)+"/edit#profiles-h", p.T("Personal profile {{.Name}} created.", "Name", name), err)
}

func (s *Server) setUserGroupProfiles(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	_, err = s.svc.SetUserGroupProfiles(r.Context(), p.Actor, id, parseIDs(r.PostForm["enabled"]))
	return s.propertyChanged(w, r, p, "/users/"+itoa(id)+"/edit#profiles-h", p.T("Group profiles saved."), err)
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
		cc.Properties = propertyRows(p.L, props, gd.Properties, d.Groups, roster.SourceGroup(d.Group.ID))
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
	cc.Properties = propertyRows(p.L, props, u.Properties, groups, roster.SourceUser)
	if cc.Skills, err = s.svc.ListSkills(ctx, a); err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return nil, err
	}
	return cc, nil
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
