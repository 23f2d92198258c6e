package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// One user: view, then Edit (seed 000, 001); create without an invitation
// (seed 003); deactivate, reactivate, delete and move, each behind a page
// that says what will happen.

// userForm is the create/edit form as typed, so a refused form comes back
// exactly as the admin left it.
type userForm struct {
	Username, Name, Email, Mobile, Language, GroupID, AgentNumber, Nicknames, RingTo string
	Roles                                                                            []string
	GroupAccess                                                                      []int64
	AgentIDs                                                                         []int64
	ScoringEnabled, Roaming                                                          bool
}

func formFromUser(u *roster.User) userForm {
	f := userForm{Username: u.Username, Name: u.Name, Email: u.Email, Mobile: u.Mobile, Language: u.Language,
		GroupID: itoa(u.GroupID), Nicknames: strings.Join(u.Nicknames, "\n"), RingTo: u.RingTo,
		Roles: slices.Clone(u.Roles), GroupAccess: slices.Clone(u.GroupAccess), AgentIDs: slices.Clone(u.AgentIDs),
		ScoringEnabled: u.ScoringEnabled, Roaming: u.Roaming}
	if u.AgentNumber != nil {
		f.AgentNumber = itoa(*u.AgentNumber)
	}
	return f
}

func readUserForm(r *http.Request) userForm {
	f := userForm{
		Username: r.PostFormValue("username"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Mobile: r.PostFormValue("mobile"), Language: r.PostFormValue("language"), GroupID: r.PostFormValue("group_id"),
		AgentNumber: strings.TrimSpace(r.PostFormValue("agent_number")), Nicknames: r.PostFormValue("nicknames"),
		RingTo: r.PostFormValue("ring_to"), Roles: r.PostForm["roles"],
		ScoringEnabled: r.PostFormValue("scoring_enabled") != "", Roaming: r.PostFormValue("roaming") != "",
	}
	f.GroupAccess = parseIDs(r.PostForm["group_access"])
	f.AgentIDs = parseIDs(r.PostForm["agent_ids"])
	return f
}

// input turns the form into the core's input. Text that is not a number
// where a number belongs goes on as an impossible number, so the core names
// it together with every other bad field and nothing is written.
func (f userForm) input(create bool) roster.UserInput {
	in := roster.UserInput{
		Name: roster.Some(f.Name), Email: roster.Some(f.Email), Mobile: roster.Some(f.Mobile),
		Language: roster.Some(f.Language), Roles: roster.Some(f.Roles), RingTo: roster.Some(f.RingTo),
		ScoringEnabled: roster.Some(f.ScoringEnabled), Roaming: roster.Some(f.Roaming),
		GroupAccess: roster.Some(append([]int64{}, f.GroupAccess...)),
		Nicknames:   roster.Some(splitLines(f.Nicknames)),
		Username:    roster.Some(f.Username),
	}
	if create && f.GroupID != "" {
		in.GroupID = roster.Some(numberOr(f.GroupID, -1))
	}
	switch {
	case f.AgentNumber != "":
		in.AgentNumber = roster.Some(numberOr(f.AgentNumber, -1))
	case !create:
		in.AgentNumber = roster.Opt[int64]{Set: true, Null: true}
	}
	if in.Roles.V == nil {
		in.Roles.V = []string{}
	}
	if !create || len(f.AgentIDs) > 0 {
		setAgentIDs(&in, f.AgentIDs) // on edit, the picker's list replaces the user's
	}
	return in
}

// numberOr reads a whole number, or returns def.
func numberOr(s string, def int64) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// splitLines reads one entry per line (or comma), dropping empty ones.
func splitLines(s string) []string {
	out := []string{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

type userFormData struct {
	User         *roster.User // nil when creating
	Form         userForm
	Languages    []string
	GroupOptions []groupOption
	Roles        []roster.Role
	UsedNumbers  []int64
	Groups       groupNames
	AgentLabels  map[int64]string
	AgentsURL    string
	CC           *ccData // properties and profiles, when editing
}

// formData loads what the create and edit forms offer.
func (s *Server) formData(r *http.Request, p *page, u *roster.User, f userForm) (*userFormData, error) {
	ctx, a := r.Context(), p.Actor
	d := &userFormData{User: u, Form: f, Languages: p.Tenant.Settings.Languages}
	var err error
	if d.Groups, err = s.groupNames(r, a); err != nil {
		return nil, err
	}
	d.GroupOptions = groupOptions(d.Groups)
	if d.Roles, err = s.svc.ListRoles(ctx, a); err != nil {
		return nil, err
	}
	if d.UsedNumbers, err = s.svc.UsedAgentNumbers(ctx, a); err != nil {
		return nil, err
	}
	d.AgentsURL = s.agentLookupURL()
	if d.AgentLabels, err = s.agentLabels(r, a, f.AgentIDs); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := userForm{Roles: []string{roster.DefaultRoleKey}}
	if len(p.Tenant.Settings.Languages) > 0 {
		f.Language = p.Tenant.Settings.Languages[0]
	}
	if g := r.URL.Query().Get("group"); g != "" {
		f.GroupID = g
	}
	d, err := s.formData(r, p, nil, f)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Create new user"), "users", d
	return s.show(w, r, "user_form", p)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p *page) error {
	f := readUserForm(r)
	u, err := s.svc.CreateUser(r.Context(), p.Actor, f.input(true))
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d, derr := s.formData(r, p, nil, f)
		if derr != nil {
			return derr
		}
		p.Title, p.Section, p.Data = p.T("Create new user"), "users", d
		s.render(w, r, status, "user_form", p)
		return nil
	}
	return s.redirect(w, r, "/users/"+itoa(u.ID), p.T("User {{.Username}} created. Ask them to use “Forgot password” on the sign-in page to set a password.", "Username", u.Username))
}

type userViewData struct {
	User      *roster.User
	Groups    groupNames
	RoleNames map[string]string
	Agents    []roster.AgentID
	CC        *ccData
	// ExternalID is the identity provider's id of a provisioned user: edits
	// made here may be overwritten by its next sync.
	ExternalID string
}

func (s *Server) userView(r *http.Request, p *page) (*userViewData, error) {
	id, err := door.PathID(r, "user")
	if err != nil {
		return nil, err
	}
	su, err := s.svc.UserSCIM(r.Context(), p.Actor, id) // the user with the identity provider's id of them
	if err != nil {
		return nil, err
	}
	u := &su.User
	d := &userViewData{User: u, ExternalID: su.ExternalID}
	if d.Groups, err = s.groupNames(r, p.Actor); err != nil {
		return nil, err
	}
	roles, err := s.svc.ListRoles(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	d.RoleNames = roleNames(roles)
	if d.Agents, err = s.svc.AgentIDsByID(r.Context(), p.Actor, u.AgentIDs); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Agents, func(x, y roster.AgentID) int { return strings.Compare(agentLabel(x), agentLabel(y)) })
	if d.CC, err = s.userCC(r, p, u, d.Groups); err != nil {
		return nil, err
	}
	return d, nil
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.userView(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = d.User.Name, "users", *d
	return s.show(w, r, "user", p)
}

// sendPasswordCode sends an active user a one-time code to set a new
// password with (seed 004). The core's refusal (the grant rule, no address)
// is shown on the user page.
func (s *Server) sendPasswordCode(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.userView(r, p)
	if err != nil {
		return err
	}
	u, channel := d.User, r.PostFormValue("channel")
	if err := s.svc.SendPasswordCode(r.Context(), p.Actor, u.ID, channel); err != nil {
		status := door.StatusOf(roster.ErrorCode(err))
		if status >= http.StatusInternalServerError {
			return err
		}
		p.Error = errorMessage(p.L, err)
		if fields := roster.ErrorFields(err); len(fields) > 0 {
			p.Error = fields[0].Message
		}
		p.Title, p.Section, p.Data = u.Name, "users", *d
		s.render(w, r, status, "user", p)
		return nil
	}
	to := u.Email
	if channel == roster.ChannelSMS {
		to = u.Mobile + " by SMS"
	}
	return s.redirect(w, r, "/users/"+itoa(u.ID), "A one-time code is on its way to "+to+": "+u.Name+" can set a new password with it.")
}

func (s *Server) editUserPage(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	u, err := s.svc.User(r.Context(), p.Actor, id)
	if err != nil {
		return err
	}
	d, err := s.formData(r, p, u, formFromUser(u))
	if err != nil {
		return err
	}
	if d.CC, err = s.userCC(r, p, u, d.Groups); err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Edit {{.Name}}", "Name", u.Name), "users", d
	return s.show(w, r, "user_form", p)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	f := readUserForm(r)
	u, err := s.svc.UpdateUser(r.Context(), p.Actor, id, f.input(false))
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		cur, gerr := s.svc.User(r.Context(), p.Actor, id)
		if gerr != nil {
			return gerr
		}
		d, derr := s.formData(r, p, cur, f)
		if derr != nil {
			return derr
		}
		if d.CC, derr = s.userCC(r, p, cur, d.Groups); derr != nil {
			return derr
		}
		p.Title, p.Section, p.Data = p.T("Edit {{.Name}}", "Name", cur.Name), "users", d
		s.render(w, r, status, "user_form", p)
		return nil
	}
	return s.redirect(w, r, "/users/"+itoa(u.ID), p.T("Changes to {{.Name}} saved.", "Name", u.Name))
}

// userAction is a change behind a confirmation page.
type userAction struct {
	Key, Title, Button string
	Confirm            string // the page's title, a question naming the user ({{.Name}})
	Danger             bool
	Explain            func(p *page, u *roster.User, groups groupNames) []string
}

var userActions = map[string]userAction{
	"deactivate": {Key: "deactivate", Title: msg("Deactivate"), Button: msg("Deactivate user"), Confirm: msg("Deactivate {{.Name}}?"), Danger: true,
		Explain: func(p *page, u *roster.User, _ groupNames) []string {
			return []string{
				p.T("{{.Name}} can no longer sign in; sessions they have open end at once.", "Name", u.Name),
				p.T("They leave the All users tab and are listed under Inactive."),
				p.T("Their roles, groups and agent IDs are kept: Reactivate gives their access back."),
			}
		}},
	"reactivate": {Key: "reactivate", Title: msg("Reactivate"), Button: msg("Reactivate user"), Confirm: msg("Reactivate {{.Name}}?"),
		Explain: func(p *page, u *roster.User, _ groupNames) []string {
			return []string{
				p.T("{{.Name}} can sign in again with their password, with the roles and groups they had.", "Name", u.Name),
				p.T("They move back from Inactive to the All users tab."),
			}
		}},
	"move": {Key: "move", Title: msg("Move"), Button: msg("Move user"), Confirm: msg("Move {{.Name}}?"),
		Explain: func(p *page, u *roster.User, groups groupNames) []string {
			return []string{
				p.T("{{.Name}} leaves {{.Group}} for the group you choose below.", "Name", u.Name, "Group", groups.Path(u.GroupID)),
				p.T("The group profiles available to them change with the group: tell them."),
				p.T("Property values set on the user themself are kept; values they inherited now come from the new group."),
				p.T("Their roles and group access stay as they are: check that they still fit."),
			}
		}},
	"reset-mfa": {Key: "reset-mfa", Title: msg("Reset two-step sign-in"), Button: msg("Reset two-step sign-in"), Confirm: msg("Reset the two-step sign-in of {{.Name}}?"), Danger: true,
		Explain: func(p *page, u *roster.User, _ groupNames) []string {
			return []string{
				p.T("The authenticator app and recovery codes of {{.Name}} are removed; sessions they have open end at once.", "Name", u.Name),
				p.T("They are told by email."),
				p.T("If your organisation requires two-step sign-in of them, they set it up again the next time they sign in."),
			}
		}},
	"delete": {Key: "delete", Title: msg("Delete"), Button: msg("Delete user for good"), Confirm: msg("Delete {{.Name}}?"), Danger: true,
		Explain: func(p *page, u *roster.User, _ groupNames) []string {
			return []string{
				p.T("{{.Name}} ({{.Username}}) is removed for good: they can no longer sign in and disappear from every list.", "Name", u.Name, "Username", u.Username),
				p.T("Their username and email address become free for someone else."),
				p.T("The audit log keeps a record of the user and of this deletion."),
				p.T("To take access away for now only, deactivate the user instead."),
			}
		}},
}

type confirmData struct {
	User    *roster.User
	Action  userAction
	Explain []string
	Warning string
	Groups  groupNames
	Options []groupOption
	Form    map[string]string
}

func (s *Server) confirmData(r *http.Request, p *page) (*confirmData, error) {
	id, err := door.PathID(r, "user")
	if err != nil {
		return nil, err
	}
	act, ok := userActions[r.PathValue("action")]
	if !ok {
		return nil, roster.Errorf(roster.ENotFound, "there is no page at %s", r.URL.Path)
	}
	u, err := s.svc.User(r.Context(), p.Actor, id)
	if err != nil {
		return nil, err
	}
	d := &confirmData{User: u, Action: act, Form: map[string]string{}}
	if d.Groups, err = s.groupNames(r, p.Actor); err != nil {
		return nil, err
	}
	d.Options = groupOptions(d.Groups)
	d.Explain = act.Explain(p, u, d.Groups)
	if u.QueueLoggedOn && (act.Key == "delete" || act.Key == "move") {
		d.Warning = p.T("{{.Name}} is logged on to a queue right now. A user logged on to a queue cannot be moved: log them off the queue first.", "Name", u.Name)
		if act.Key == "delete" {
			d.Warning = p.T("{{.Name}} is logged on to a queue right now. A user logged on to a queue cannot be deleted: log them off the queue first.", "Name", u.Name)
		}
	}
	return d, nil
}

func (s *Server) confirmUserAction(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.confirmData(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T(d.Action.Confirm, "Name", d.User.Name), "users", d
	return s.show(w, r, "user_confirm", p)
}

func (s *Server) doUserAction(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.confirmData(r, p)
	if err != nil {
		return err
	}
	ctx, a, u := r.Context(), p.Actor, d.User
	var msg, to string
	switch d.Action.Key {
	case "deactivate":
		_, err = s.svc.DeactivateUser(ctx, a, u.ID)
		msg, to = u.Name+" is deactivated and can no longer sign in.", "/users?tab=inactive"
	case "reactivate":
		_, err = s.svc.ReactivateUser(ctx, a, u.ID)
		msg, to = u.Name+" is active again.", "/users/"+itoa(u.ID)
	case "delete":
		err = s.svc.DeleteUser(ctx, a, u.ID)
		msg, to = u.Name+" ("+u.Username+") was deleted.", "/users"
	case "move":
		err = s.moveUser(r, p, d, &msg, &to)
	case "reset-mfa":
		err = s.svc.ResetMFA(ctx, a, u.ID)
		msg, to = "The two-step sign-in of "+u.Name+" is reset: they were signed out and told by email.", "/users/"+itoa(u.ID)
	}
	if err != nil {
		// The core's refusal (logged on to a queue, deactivating oneself, no
		// permission) is shown on the confirmation page, which says why.
		status, ok := formFailed(p, err)
		if !ok {
			status = door.StatusOf(roster.ErrorCode(err))
			if status >= http.StatusInternalServerError {
				return err
			}
			p.Error = errorMessage(p.L, err)
		}
		p.Title, p.Section, p.Data = p.T(d.Action.Confirm, "Name", u.Name), "users", d
		s.render(w, r, status, "user_confirm", p)
		return nil
	}
	return s.redirect(w, r, to, msg)
}
