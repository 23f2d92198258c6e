package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/roster-dev/roster/internal/roster"
)

// Bulk actions on the Users list (issue 16): users ticked on the page, or
// every user matching the view, get one action. GET /users/bulk is the
// confirmation: the core's dry run says how many users the action reaches
// and which of them a rule protects, and why; POST does it and shows the
// same account of what was done.

// bulkAction is a bulk action as the console offers it.
type bulkAction struct {
	Key, Label, Button string
	Danger             bool
	Explain            []string
}

var bulkActions = []bulkAction{
	{Key: roster.BulkDeactivate, Label: msg("Deactivate"), Button: "Deactivate", Danger: true, Explain: []string{
		"They can no longer sign in; sessions they have open end at once.",
		"Their roles, groups and agent IDs are kept: reactivating gives their access back."}},
	{Key: roster.BulkReactivate, Label: msg("Reactivate"), Button: "Reactivate", Explain: []string{
		"They can sign in again with the roles and groups they had."}},
	{Key: roster.BulkSetRole, Label: msg("Change role"), Button: "Change the role of", Explain: []string{
		"The role you choose becomes their only role; the roles they hold now are taken away."}},
	{Key: roster.BulkMove, Label: msg("Move to group"), Button: "Move", Explain: []string{
		"They leave their home group for the group you choose.",
		"Their roles and group access stay as they are: check that they still fit."}},
	{Key: roster.BulkResendInvitation, Label: msg("Resend invitations"), Button: "Resend the invitations of", Explain: []string{
		"Each invited user gets a new email with a new link; links sent before stop working."}},
	{Key: roster.BulkDelete, Label: msg("Delete"), Button: "Delete for good", Danger: true, Explain: []string{
		"They are removed for good and disappear from every list; their usernames and email addresses become free.",
		"The audit log keeps a record of each user and of the deletion."}},
}

// bulkActionsFor are the bulk actions a's permissions allow; the core
// checks each again.
func bulkActionsFor(a *roster.Actor) []bulkAction {
	var out []bulkAction
	for _, act := range bulkActions {
		perm := roster.PermUsersManage
		if act.Key == roster.BulkResendInvitation {
			perm = roster.PermUsersInvite
		}
		if a.Can(perm) {
			out = append(out, act)
		}
	}
	return out
}

func bulkActionOf(key string) (bulkAction, bool) {
	for _, a := range bulkActions {
		if a.Key == key {
			return a, true
		}
	}
	return bulkAction{}, false
}

// bulkReasons put the core's refusals in a person's words.
var bulkReasons = map[string]string{
	roster.ReasonTargetMorePowerful: "They hold rights you do not have, so only someone with at least their rights can change them.",
	roster.ReasonRoleNotGrantable:   "You may not give this role.",
	roster.ReasonUserOnQueue:        "They are logged on to a queue: log them off the queue first.",
	roster.ReasonSelf:               "This is you: you cannot do this to yourself.",
	roster.ReasonUserDeactivated:    "They are deactivated already.",
	roster.ReasonUserNotDeactivated: "They are not deactivated.",
	roster.ReasonUserNotInvited:     "They are not waiting on an invitation: they have an account.",
	roster.ReasonInvitationClosed:   "Their invitation was accepted or cancelled.",
	roster.ENotFound:                "They no longer exist, or are outside the groups you see.",
}

// bulkData is the confirmation and the result page.
type bulkData struct {
	Action   bulkAction
	Actions  []bulkAction
	Form     url.Values // the selection and the action's choices, carried to the POST
	IDs      []string
	All      bool // every user matching the view, not ticked ones
	Result   *roster.BulkResult
	Refused  []bulkRefusal
	More     int  // refusals not listed
	Ran      bool // the action was carried out (not a confirmation)
	NeedPick bool // the action needs a role or a group, not chosen yet
	Roles    []roster.Role
	Groups   []groupOption
	Back     string // the list the selection came from
}

type bulkRefusal struct {
	Name, Username, Why string
}

// bulkRefusalsShown is how many refusals a page lists by name.
const bulkRefusalsShown = 200

// bulkRequest reads the selection and the action from the query (GET) or
// the form (POST).
func (s *Server) bulkRequest(r *http.Request, p *page, form url.Values) (*bulkData, roster.BulkInput, error) {
	d := &bulkData{Actions: bulkActions, Form: url.Values{}}
	act, ok := bulkActionOf(form.Get("action"))
	if !ok {
		return nil, roster.BulkInput{}, roster.Errorf(roster.EInvalid, "choose what to do with the users you selected")
	}
	d.Action = act
	in := roster.BulkInput{Action: act.Key, Role: form.Get("role")}
	d.Form.Set("action", act.Key)
	if in.Role != "" {
		d.Form.Set("role", in.Role)
	}
	if g := form.Get("group_id"); g != "" {
		id, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return d, in, roster.Errorf(roster.EInvalid, "choose the group to move the users to")
		}
		in.GroupID = id
		d.Form.Set("group_id", g)
	}
	if form.Get("move_interactions") != "" {
		in.MoveInteractions = true
		d.Form.Set("move_interactions", "on")
	}
	// The view the selection came from; its role filter is "role_filter",
	// since "role" is the role to give.
	view := url.Values{}
	for _, k := range []string{"tab", "q", "status", "group", "scoring", "roaming"} {
		if v := form.Get(k); v != "" {
			view.Set(k, v)
			d.Form.Set(k, v)
		}
	}
	if v := form.Get("role_filter"); v != "" {
		view.Set("role", v)
		d.Form.Set("role_filter", v)
	}
	uq := readUserListQuery(view)
	view.Set("f", "1")
	d.Back = "/users?" + view.Encode()
	if form.Get("scope") == "all" {
		d.All = true
		d.Form.Set("scope", "all")
		q := uq.core()
		in.Filter = &q
	} else {
		for _, v := range form["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id < 1 {
				return d, in, roster.Errorf(roster.EInvalid, "the selection holds %q, which is not a user", v)
			}
			in.IDs = append(in.IDs, id)
			d.IDs = append(d.IDs, v)
		}
		if len(in.IDs) == 0 {
			return d, in, roster.Errorf(roster.EInvalid, "tick the users to act on first, or choose all users matching the view")
		}
	}
	d.NeedPick = (act.Key == roster.BulkSetRole && in.Role == "") || (act.Key == roster.BulkMove && in.GroupID == 0)
	return d, in, nil
}

func (s *Server) confirmBulk(w http.ResponseWriter, r *http.Request, p *page) error {
	d, in, err := s.bulkRequest(r, p, r.URL.Query())
	if err != nil {
		return s.bulkRefused(w, r, d, err)
	}
	if err := s.bulkPickers(r, p, d); err != nil {
		return err
	}
	if !d.NeedPick {
		res, err := s.svc.BulkUsers(r.Context(), p.Actor, in, true)
		if err != nil {
			return s.bulkRefused(w, r, d, err)
		}
		d.setResult(res)
	}
	p.Title, p.Section, p.Data = d.Action.Label+": "+selectionWords(d), "users", d
	return s.show(w, r, "users_bulk", p)
}

func (s *Server) runBulk(w http.ResponseWriter, r *http.Request, p *page) error {
	d, in, err := s.bulkRequest(r, p, r.PostForm)
	if err != nil {
		return s.bulkRefused(w, r, d, err)
	}
	res, err := s.svc.BulkUsers(r.Context(), p.Actor, in, false)
	if err != nil {
		return s.bulkRefused(w, r, d, err)
	}
	if err := s.bulkPickers(r, p, d); err != nil {
		return err
	}
	d.Ran = true
	d.setResult(res)
	p.Title, p.Section, p.Data = d.Action.Label+": done", "users", d
	return s.show(w, r, "users_bulk", p)
}

// bulkPickers fills the role or group choices of the actions that need one.
func (s *Server) bulkPickers(r *http.Request, p *page, d *bulkData) error {
	switch d.Action.Key {
	case roster.BulkSetRole:
		roles, err := s.svc.ListRoles(r.Context(), p.Actor)
		if err != nil {
			return err
		}
		for _, role := range roles {
			if !role.Hidden {
				d.Roles = append(d.Roles, role)
			}
		}
	case roster.BulkMove:
		groups, err := s.groupNames(r, p.Actor)
		if err != nil {
			return err
		}
		d.Groups = groupOptions(groups)
	}
	return nil
}

func (d *bulkData) setResult(res *roster.BulkResult) {
	d.Result = res
	for _, f := range res.Refused {
		if len(d.Refused) == bulkRefusalsShown {
			d.More++
			continue
		}
		why, ok := bulkReasons[f.Reason]
		if !ok {
			why = f.Message
		}
		name := f.Name
		if name == "" {
			name = "User " + strconv.FormatInt(f.ID, 10)
		}
		d.Refused = append(d.Refused, bulkRefusal{Name: name, Username: f.Username, Why: why})
	}
}

// bulkRefused answers a refusal of the whole request: bad input goes back
// to the list with the reason; a missing right or a role the actor may not
// give is the console's refusal page, which says why.
func (s *Server) bulkRefused(w http.ResponseWriter, r *http.Request, d *bulkData, err error) error {
	if roster.ErrorCode(err) != roster.EInvalid {
		return err
	}
	msg := roster.ErrorMessage(err) // the bulk pages are not translated yet
	if fe := roster.ErrorFields(err); len(fe) > 0 {
		msg = fe[0].Message
		if fe[0].Field == "filter" {
			msg = "The view " + msg + "."
		}
	}
	back := "/users"
	if d != nil {
		back = d.Back
	}
	s.flash(w, r, "error", msg)
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

// selectionWords says how many users a bulk action reaches.
func selectionWords(d *bulkData) string {
	n := len(d.IDs)
	if d.Result != nil {
		n = d.Result.Total
	}
	if d.All && d.Result == nil {
		return "all users matching the view"
	}
	if n == 1 {
		return "1 user"
	}
	return strconv.Itoa(n) + " users"
}
