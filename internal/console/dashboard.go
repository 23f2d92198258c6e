package console

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

type dashboardData struct {
	Stats      roster.UserCounts
	LastLogins []roster.User
	Groups     groupNames
}

// home is the admin dashboard. People who cannot see users go to the page
// their role is about (My Team, their own page) or a short welcome.
func (s *Server) home(w http.ResponseWriter, r *http.Request, p *page) error {
	a := p.Actor
	if !a.Can(roster.PermUsersView) {
		for _, item := range p.Nav() {
			http.Redirect(w, r, item.Href, http.StatusSeeOther)
			return nil
		}
		p.Title = p.T("Welcome")
		return s.show(w, r, "welcome", p)
	}
	ctx := r.Context()
	stats, err := s.svc.Stats(ctx, a)
	if err != nil {
		return err
	}
	logins, err := s.svc.ListUsers(ctx, a, roster.UserQuery{Status: roster.StatusActive + "," + roster.StatusDeactivated, Sort: "last_login_at", Order: "desc", PerPage: "10"})
	if err != nil {
		return err
	}
	d := dashboardData{Stats: stats}
	for _, u := range logins.Items {
		if u.LastLoginAt != nil {
			d.LastLogins = append(d.LastLogins, u)
		}
	}
	if d.Groups, err = s.groupNames(r, a); err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Dashboard"), "dashboard", d
	return s.show(w, r, "dashboard", p)
}

// groupNames maps group ids to names (and paths) for the lists.
type groupNames map[int64]roster.Group

// Name is the group's name, or "#id" if it is gone.
func (g groupNames) Name(id int64) string {
	if gr, ok := g[id]; ok {
		return gr.Name
	}
	return "#" + itoa(id)
}

// Path is the group's name with its ancestors: "Demo Corp › Sales › North".
func (g groupNames) Path(id int64) string {
	gr, ok := g[id]
	if !ok {
		return g.Name(id)
	}
	if gr.ParentID == nil {
		return gr.Name
	}
	return g.Path(*gr.ParentID) + " › " + gr.Name
}

func (s *Server) groupNames(r *http.Request, a *roster.Actor) (groupNames, error) {
	groups, err := s.svc.ListGroups(r.Context(), a)
	if err != nil {
		return nil, err
	}
	m := make(groupNames, len(groups))
	for _, g := range groups {
		m[g.ID] = g
	}
	return m, nil
}
