package console

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Invite users (seeds 000 and 002): several rows on one page, each with
// roles, home group, teams and, for agents, agent IDs; then a confirmation
// of what was sent. Invited users are resent, their link copied or their
// invitation cancelled from the Users list.

// inviteRow is one row of the invite form, as typed.
type inviteRow struct {
	N                               string // the row's index in field names
	Name, Email, Username, Language string
	GroupID                         string
	Roles                           []string
	Teams                           []int64
	AgentIDs                        []int64
	Errors                          fieldErrors // this row's field errors, by bare field name
}

// Field is the form name of one of the row's fields.
func (r inviteRow) Field(name string) string { return "invitations[" + r.N + "]." + name }

// ID is the element id of one of the row's fields.
func (r inviteRow) ID(name string) string { return "f-inv-" + r.N + "-" + idSafe(name) }

type inviteData struct {
	Rows         []inviteRow
	Template     inviteRow // the empty row "Add a user" copies
	Roles        []roster.Role
	GroupOptions []groupOption
	Languages    []string
	AgentsURL    string // the typeahead's source
	AgentLabels  map[int64]string
}

var rowField = regexp.MustCompile(`^invitations\[(\d{1,3})\]\.`)

func (s *Server) newInviteRow(p *page, n string) inviteRow {
	row := inviteRow{N: n, Roles: []string{roster.RoleUser}}
	if langs := p.Tenant.Settings.Languages; len(langs) > 0 {
		row.Language = langs[0]
	}
	return row
}

func (s *Server) inviteData(r *http.Request, p *page, rows []inviteRow) (*inviteData, error) {
	ctx, a := r.Context(), p.Actor
	d := &inviteData{Rows: rows, Template: s.newInviteRow(p, "__N__"), Languages: p.Tenant.Settings.Languages, AgentsURL: s.agentLookupURL()}
	groups, err := s.groupNames(r, a)
	if err != nil {
		return nil, err
	}
	d.GroupOptions = groupOptions(groups)
	var picked []int64
	for _, row := range rows {
		picked = append(picked, row.AgentIDs...)
	}
	if d.AgentLabels, err = s.agentLabels(r, a, picked); err != nil {
		return nil, err
	}
	if len(d.GroupOptions) > 0 {
		d.Template.GroupID = itoa(d.GroupOptions[0].ID)
		for i := range d.Rows {
			if d.Rows[i].GroupID == "" && r.Method == http.MethodGet {
				d.Rows[i].GroupID = d.Template.GroupID
			}
		}
	}
	roles, err := s.svc.ListRoles(ctx, a)
	if err != nil {
		return nil, err
	}
	for _, role := range roles {
		if !role.Hidden { // Scorer is assigned through the API only (seed 004)
			d.Roles = append(d.Roles, role)
		}
	}
	return d, nil
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.inviteData(r, p, []inviteRow{s.newInviteRow(p, "0")})
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Invite users"), "invite", d
	return s.show(w, r, "invite", p)
}

// readInviteRows reads the rows in the order of their indexes, renumbered
// from 0 (rows removed in the browser leave gaps), skipping rows left empty.
func readInviteRows(r *http.Request) []inviteRow {
	seen := map[int]bool{}
	for k := range r.PostForm {
		if m := rowField.FindStringSubmatch(k); m != nil {
			n, _ := strconv.Atoi(m[1])
			seen[n] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for n := range seen {
		idx = append(idx, n)
	}
	slices.Sort(idx)
	var rows []inviteRow
	for _, n := range idx {
		get := func(f string) string {
			return strings.TrimSpace(r.PostFormValue(fmt.Sprintf("invitations[%d].%s", n, f)))
		}
		all := func(f string) []string { return r.PostForm[fmt.Sprintf("invitations[%d].%s", n, f)] }
		row := inviteRow{Name: get("name"), Email: get("email"), Username: get("username"), Language: get("language"),
			GroupID: get("group_id"), Roles: all("roles")}
		row.Teams = parseIDs(all("group_access"))
		row.AgentIDs = parseIDs(all("agent_ids"))
		if row.Name == "" && row.Email == "" && row.Username == "" && len(row.AgentIDs) == 0 {
			continue // an empty row: "Add a user" clicked once too often
		}
		row.N = strconv.Itoa(len(rows))
		rows = append(rows, row)
	}
	return rows
}

func parseIDs(vals []string) []int64 {
	var out []int64
	for _, v := range vals {
		if id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// input is the core's input for the row.
func (row inviteRow) input() roster.UserInput {
	in := roster.UserInput{
		Name: roster.Some(row.Name), Email: roster.Some(row.Email), Username: roster.Some(row.Username),
		Language: roster.Some(row.Language), Roles: roster.Some(append([]string{}, row.Roles...)),
		GroupAccess: roster.Some(append([]int64{}, row.Teams...)),
	}
	if row.GroupID != "" {
		in.GroupID = roster.Some(numberOr(row.GroupID, -1))
	}
	if len(row.AgentIDs) > 0 {
		setAgentIDs(&in, row.AgentIDs)
	}
	return in
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request, p *page) error {
	rows := readInviteRows(r)
	if len(rows) == 0 {
		rows = []inviteRow{s.newInviteRow(p, "0")}
		rows[0].GroupID = r.PostFormValue("invitations[0].group_id")
	}
	ins := make([]roster.UserInput, len(rows))
	for i, row := range rows {
		ins[i] = row.input()
	}
	links, err := s.svc.InviteUsers(r.Context(), p.Actor, ins)
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		// Hand each row its own errors ("invitations[1].email" -> row 1, "email").
		for i := range rows {
			prefix := rows[i].Field("")
			for f, msg := range p.Errors {
				if name, ok := strings.CutPrefix(f, prefix); ok {
					if rows[i].Errors == nil {
						rows[i].Errors = fieldErrors{}
					}
					rows[i].Errors[name] = msg
				}
			}
		}
		if msg := p.Errors["invitations"]; msg != "" {
			p.Error = msg
		}
		d, derr := s.inviteData(r, p, rows)
		if derr != nil {
			return derr
		}
		p.Title, p.Section, p.Data = p.T("Invite users"), "invite", d
		s.render(w, r, status, "invite", p)
		return nil
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = itoa(l.Invitation.ID)
	}
	return s.redirect(w, r, "/invitations/sent?ids="+strings.Join(ids, ","), p.N("{{.Count}} invitations sent.", len(links)))
}

type sentData struct {
	Invitations []*roster.Invitation
}

// invitationsSent confirms what was sent: to whom, and until when the link works.
func (s *Server) invitationsSent(w http.ResponseWriter, r *http.Request, p *page) error {
	var d sentData
	for i, v := range strings.Split(r.URL.Query().Get("ids"), ",") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || i >= roster.MaxInvitationsPerRequest {
			continue
		}
		inv, err := s.svc.Invitation(r.Context(), p.Actor, id)
		if roster.ErrorCode(err) == roster.ENotFound {
			continue
		}
		if err != nil {
			return err
		}
		d.Invitations = append(d.Invitations, inv)
	}
	p.Title, p.Section, p.Data = p.T("Invitations sent"), "invite", d
	return s.show(w, r, "invite_sent", p)
}

// userInvitation is the invitation of the invited user {id}.
func (s *Server) userInvitation(r *http.Request, p *page) (*roster.User, *roster.Invitation, error) {
	id, err := door.PathID(r, "user")
	if err != nil {
		return nil, nil, err
	}
	u, err := s.svc.User(r.Context(), p.Actor, id)
	if err != nil {
		return nil, nil, err
	}
	inv, err := s.svc.InvitationOfUser(r.Context(), p.Actor, id)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil, nil, roster.Errorf(roster.ENotFound, "%s has no open invitation", u.Name)
	}
	return u, inv, err
}

func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, p *page) error {
	u, inv, err := s.userInvitation(r, p)
	if err != nil {
		return err
	}
	inv, err = s.svc.ResendInvitation(r.Context(), p.Actor, inv.ID)
	if err != nil {
		return err
	}
	return s.redirect(w, r, localPath(r.PostFormValue("back"), "/users?tab=invited"),
		p.T("Invitation sent again to {{.Name}} <{{.Email}}>. The earlier link no longer works.", "Name", u.Name, "Email", inv.Email))
}

type linkData struct {
	User *roster.User
	URL  string
	Inv  *roster.Invitation
}

// invitationLink makes a fresh working link. Scripts ask for text and put it
// on the clipboard; without a script a page shows the link to copy.
func (s *Server) invitationLink(w http.ResponseWriter, r *http.Request, p *page) error {
	u, inv, err := s.userInvitation(r, p)
	if err != nil {
		return err
	}
	link, err := s.svc.InvitationLinkURL(r.Context(), p.Actor, inv.ID)
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "text/plain") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(link.URL))
		return nil
	}
	p.Title, p.Section, p.Data = p.T("Invitation link for {{.Name}}", "Name", u.Name), "users", linkData{User: u, URL: link.URL, Inv: link.Invitation}
	return s.show(w, r, "invite_link", p)
}

type cancelData struct {
	User *roster.User
	Inv  *roster.Invitation
}

func (s *Server) confirmCancelInvitation(w http.ResponseWriter, r *http.Request, p *page) error {
	u, inv, err := s.userInvitation(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Cancel the invitation of {{.Name}}?", "Name", u.Name), "users", cancelData{User: u, Inv: inv}
	return s.show(w, r, "invite_cancel", p)
}

func (s *Server) cancelInvitation(w http.ResponseWriter, r *http.Request, p *page) error {
	u, inv, err := s.userInvitation(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.CancelInvitation(r.Context(), p.Actor, inv.ID); err != nil {
		return s.refused(w, r, p, err, "invite_cancel", p.T("Cancel the invitation of {{.Name}}?", "Name", u.Name), "users", cancelData{User: u, Inv: inv})
	}
	return s.redirect(w, r, "/users?tab=invited", p.T("The invitation of {{.Name}} is cancelled; the link no longer works.", "Name", u.Name))
}
