package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Agent IDs (seeds 000 and 001): the agents list, the typeahead that assigns
// them, and the actions of a contact centre: move a user, log them off the
// queue, and "view as" a user.

// setAgentIDs puts picked agent IDs into a user input.
func setAgentIDs(in *roster.UserInput, ids []int64) {
	in.AgentIDs = roster.Some(roster.AgentIDRefs(ids...))
}

// agentLookupURL is the typeahead's source of agent IDs.
func (s *Server) agentLookupURL() string { return "/agents/lookup" }

// agentLabel names an agent ID for people: "voice:4711 · Anna K".
func agentLabel(g roster.AgentID) string {
	l := g.Source + ":" + g.ExternalID
	if g.Name != "" {
		l += " · " + g.Name
	}
	return l
}

// agentLabels labels picked agent IDs; ids the actor cannot see keep "#id".
func (s *Server) agentLabels(r *http.Request, a *roster.Actor, ids []int64) (map[int64]string, error) {
	labels := map[int64]string{}
	if len(ids) == 0 {
		return labels, nil
	}
	found, err := s.svc.AgentIDsByID(r.Context(), a, ids)
	if err != nil {
		if roster.ErrorCode(err) == roster.EForbidden {
			return labels, nil
		}
		return nil, err
	}
	for _, g := range found {
		labels[g.ID] = agentLabel(g)
	}
	return labels, nil
}

// holderNames names the users holding agent IDs; holders the actor may not
// look up keep "user #id".
func (s *Server) holderNames(r *http.Request, a *roster.Actor, agents []roster.AgentID) (map[int64]string, error) {
	names := map[int64]string{}
	for _, g := range agents {
		if g.UserID == nil {
			continue
		}
		if _, done := names[*g.UserID]; done {
			continue
		}
		u, err := s.svc.User(r.Context(), a, *g.UserID)
		switch roster.ErrorCode(err) {
		case "":
			names[u.ID] = u.Name + " (" + u.Username + ")"
		case roster.EForbidden, roster.ENotFound:
			names[*g.UserID] = "user #" + itoa(*g.UserID)
		default:
			return nil, err
		}
	}
	return names, nil
}

type lookupItem struct {
	ID           int64  `json:"id"`
	Label        string `json:"label"`
	Holder       string `json:"holder,omitempty"`
	HolderID     int64  `json:"holder_id,omitempty"`
	Interactions int64  `json:"interactions"`
}

// agentLookup answers the typeahead: agent IDs matching q, with who holds
// each one already.
func (s *Server) agentLookup(w http.ResponseWriter, r *http.Request, p *page) error {
	page, err := s.svc.ListAgents(r.Context(), p.Actor, roster.AgentQuery{Q: r.URL.Query().Get("q"), PerPage: "10", Sort: "name"})
	if err != nil {
		return s.jsonError(w, err)
	}
	names, err := s.holderNames(r, p.Actor, page.Items)
	if err != nil {
		return s.jsonError(w, err)
	}
	out := struct {
		Items []lookupItem `json:"items"`
		Total int          `json:"total"`
	}{Items: []lookupItem{}, Total: page.Total}
	for _, g := range page.Items {
		it := lookupItem{ID: g.ID, Label: agentLabel(g), Interactions: g.Interactions}
		if g.UserID != nil {
			it.Holder, it.HolderID = names[*g.UserID], *g.UserID
		}
		out.Items = append(out.Items, it)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(out)
}

// jsonError answers a script with the core's message.
func (s *Server) jsonError(w http.ResponseWriter, err error) error {
	status := door.StatusOf(roster.ErrorCode(err))
	if status >= http.StatusInternalServerError {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(map[string]any{"error": roster.ErrorMessage(err), "errors": roster.ErrorFields(err)})
}

type agentsData struct {
	Q, Assigned, Source string
	List                listView
	Agents              *roster.Page[roster.AgentID]
	Holders             map[int64]string
	Groups              groupNames
}

// Holder names the user holding g, "" when nobody does.
func (d agentsData) Holder(g roster.AgentID) string {
	if g.UserID == nil {
		return ""
	}
	return d.Holders[*g.UserID]
}

// Group names g's group, "" when it has none.
func (d agentsData) Group(g roster.AgentID) string {
	if g.GroupID == nil || d.Groups == nil {
		return ""
	}
	return d.Groups.Name(*g.GroupID)
}

func (s *Server) agentsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := agentsData{Q: q.Get("q"), Assigned: q.Get("assigned"), Source: q.Get("source"), List: newListView("/agents", q)}
	var err error
	d.Agents, err = s.svc.ListAgents(r.Context(), p.Actor, roster.AgentQuery{Q: d.Q, Assigned: d.Assigned, Source: d.Source,
		Sort: q.Get("sort"), Order: q.Get("order"), Page: q.Get("page"), PerPage: q.Get("per_page")})
	if err != nil {
		if _, ok := formFailed(p, err); !ok {
			return err
		}
		d = agentsData{List: newListView("/agents", nil)}
		if d.Agents, err = s.svc.ListAgents(r.Context(), p.Actor, roster.AgentQuery{}); err != nil {
			return err
		}
	}
	if d.Holders, err = s.holderNames(r, p.Actor, d.Agents.Items); err != nil {
		return err
	}
	d.Groups, err = s.groupNames(r, p.Actor)
	if err != nil && roster.ErrorCode(err) != roster.EForbidden {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Agents"), "agents", d
	return s.show(w, r, "agents", p)
}

// setQueue logs a user on to or off the queue.
func (s *Server) setQueue(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	on := r.PostFormValue("logged_on") == "true"
	u, err := s.svc.SetQueue(r.Context(), p.Actor, id, &on)
	if err != nil {
		return err
	}
	msg := u.Name + " is logged off the queue."
	if on {
		msg = u.Name + " is logged on to the queue."
	}
	return s.redirect(w, r, "/users/"+itoa(u.ID), msg)
}

// moveUser is the "move" action of the user page.
func (s *Server) moveUser(r *http.Request, p *page, d *confirmData, msg, to *string) error {
	d.Form["group_id"] = r.PostFormValue("group_id")
	if r.PostFormValue("move_interactions") != "" {
		d.Form["move_interactions"] = "on"
	}
	gid, err := strconv.ParseInt(d.Form["group_id"], 10, 64)
	if err != nil {
		return &roster.Error{Code: roster.EInvalid, Message: "the input is not valid",
			Fields: []roster.FieldError{{Field: "group_id", Message: "choose the new group", Key: "choose the new group"}}}
	}
	u, err := s.svc.MoveUser(r.Context(), p.Actor, d.User.ID, roster.MoveInput{GroupID: gid, MoveInteractions: d.Form["move_interactions"] != ""})
	if err != nil {
		return err
	}
	*msg = u.Name + " moved to " + d.Groups.Path(u.GroupID) + "."
	for _, warn := range u.Warnings {
		*msg += " " + warn
	}
	*to = "/users/" + itoa(u.ID)
	return nil
}

// viewAsCookie holds the secret of a "view as" while it lasts.
const viewAsCookie = "roster_view_as"

// startViewAs begins viewing the product as user {id} sees it, read-only.
func (s *Server) startViewAs(w http.ResponseWriter, r *http.Request, p *page) error {
	id, err := door.PathID(r, "user")
	if err != nil {
		return err
	}
	im, secret, err := s.svc.StartImpersonation(r.Context(), p.Actor, id)
	if err != nil {
		return err
	}
	s.setCookie(w, r, viewAsCookie, secret, int(time.Until(im.ExpiresAt).Seconds()))
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// endViewAs ends the view-as: one click, back to the viewed user's page.
func (s *Server) endViewAs(w http.ResponseWriter, r *http.Request, p *page) error {
	s.setCookie(w, r, viewAsCookie, "", -1)
	if p.Session == nil || !p.Session.ViewAs {
		return s.redirect(w, r, "/", "")
	}
	if err := s.svc.StopImpersonation(r.Context(), p.Actor); err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	return s.redirect(w, r, "/users/"+itoa(p.Actor.ID), p.T("You are back as yourself."))
}
