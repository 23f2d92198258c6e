package api

import (
	"net/http"

	"github.com/roster-dev/roster/internal/roster"
)

// bulkUsersBody is POST /api/v1/users/bulk: one action on the users of ids,
// or on every user the filter selects (the user list's filters).
type bulkUsersBody struct {
	roster.BulkInput
	Filter *struct {
		Status  string `json:"status"`
		Role    string `json:"role"`
		Group   string `json:"group"`
		Q       string `json:"q"`
		Scoring string `json:"scoring"`
		Roaming string `json:"roaming"`
	} `json:"filter"`
	DryRun bool `json:"dry_run"`
}

// bulkUsers answers what was done and who a rule protected, and why; a
// refusal of one user is not an error of the request (200).
func (s *Server) bulkUsers(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	var body bulkUsersBody
	if err := decode(w, r, &body); err != nil {
		s.error(w, r, err)
		return
	}
	in := body.BulkInput
	if f := body.Filter; f != nil {
		in.Filter = &roster.UserQuery{Status: f.Status, Role: f.Role, Group: f.Group, Q: f.Q, Scoring: f.Scoring, Roaming: f.Roaming}
	}
	res, err := s.svc.BulkUsers(r.Context(), a, in, body.DryRun)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
