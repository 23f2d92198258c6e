package scim

import (
	"net/http"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// renderContext loads what rendering needs for users.
func (s *Server) renderContext(r *http.Request, a *roster.Actor, users []roster.SCIMUser) (*userContext, error) {
	ctx := r.Context()
	t, err := s.svc.Tenant(ctx, a)
	if err != nil {
		return nil, err
	}
	c := &userContext{base: s.baseURL(r), tenant: t.Name, languages: t.Settings.Languages}
	var agentIDs, groupIDs []int64
	for _, u := range users {
		agentIDs = append(agentIDs, u.AgentIDs...)
		groupIDs = append(groupIDs, u.GroupID)
	}
	if c.groups, err = s.svc.GroupNames(ctx, a, groupIDs); err != nil {
		return nil, err
	}
	if c.agentKeys, err = s.svc.AgentKeys(ctx, a, agentIDs); err != nil {
		return nil, err
	}
	return c, nil
}

// userDoc loads one user and renders them.
func (s *Server) userDoc(r *http.Request, a *roster.Actor, id int64) (*roster.SCIMUser, map[string]any, *userContext, error) {
	u, err := s.svc.UserSCIM(r.Context(), a, id)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.renderContext(r, a, []roster.SCIMUser{*u})
	if err != nil {
		return nil, nil, nil, err
	}
	return u, renderUser(u, c), c, nil
}

func (s *Server) queryUsers(w http.ResponseWriter, r *http.Request, a *roster.Actor, p listParams) {
	q := roster.SCIMUserQuery{Desc: p.desc, Offset: p.startIndex - 1, Limit: p.count}
	var err error
	if q.SortBy, err = userSortField(p.sortBy); err != nil {
		writeError(w, err)
		return
	}
	if p.filter != nil {
		if q.Filter, err = userFilter(p.filter); err != nil {
			writeError(w, err)
			return
		}
	}
	users, total, err := s.svc.ListUsersSCIM(r.Context(), a, q)
	if err != nil {
		if roster.ErrorCode(err) == roster.EInvalid && len(roster.ErrorFields(err)) == 0 {
			err = errInvalidFilter("%s", roster.ErrorMessage(err)) // the store refused a comparison
		}
		s.fail(w, r, err)
		return
	}
	c, err := s.renderContext(r, a, users)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, 0, len(users))
	for i := range users {
		items = append(items, project(renderUser(&users[i], c), p.attributes, p.excluded))
	}
	writeJSON(w, http.StatusOK, listResponse(total, p.startIndex, items))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	id, err := door.PathID(r, "user")
	if err != nil {
		writeError(w, err)
		return
	}
	_, doc, _, err := s.userDoc(r, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if notModified(w, r, doc) {
		return
	}
	p, err := paramsFromQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeProjected(w, http.StatusOK, doc, p)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	p, err := paramsFromQuery(r) // attributes/excludedAttributes shape the answer (RFC 7644 §3.9)
	if err != nil {
		writeError(w, err)
		return
	}
	doc, err := readDocument(r, userSchema())
	if err != nil {
		writeError(w, err)
		return
	}
	if userName, _ := doc["userName"].(string); strings.TrimSpace(userName) == "" {
		writeError(w, errInvalidValue("userName is required"))
		return
	}
	password, err := getString(doc, "password", "password") // before withoutReadOnly drops it
	if err != nil {
		writeError(w, err)
		return
	}
	t, err := s.svc.Tenant(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := diffUser(map[string]any{}, withoutReadOnly(doc), t.Settings.Languages)
	if err != nil {
		writeError(w, err)
		return
	}
	ext := ""
	if ch.externalID != nil {
		ext = *ch.externalID
	}
	u, err := s.svc.CreateUserSCIM(r.Context(), a, ch.in, roster.SCIMCreate{ExternalID: ext, Password: password, Inactive: ch.active != nil && !*ch.active})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, out, _, err := s.userDoc(r, a, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeProjected(w, http.StatusCreated, out, p)
}

// withoutReadOnly drops what a client may send but not set (RFC 7643
// §2.2: read-only values in a POST or PUT are ignored).
func withoutReadOnly(doc map[string]any) map[string]any {
	for _, k := range []string{"id", "meta", "groups", "schemas", "password"} {
		delete(doc, k)
	}
	for urn, attrs := range map[string][]attr{SchemaRoster: rosterAttrs(nil), SchemaEnterprise: enterpriseAttrs()} {
		if m, ok := doc[urn].(map[string]any); ok {
			for _, at := range attrs {
				if at.readOnly() {
					delete(m, at.name)
				}
			}
		}
	}
	return doc
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.changeUser(w, r, a, func(before map[string]any) (map[string]any, error) {
		doc, err := readDocument(r, userSchema())
		if err != nil {
			return nil, err
		}
		doc = withoutReadOnly(doc) // and the password: it is taken on create only
		if userName, _ := doc["userName"].(string); strings.TrimSpace(userName) == "" {
			return nil, errInvalidValue("userName is required")
		}
		// What the client leaves out is not asserted and stays (RFC 7644
		// §3.5.1); an extension it sends replaces the attributes it names.
		after := cloneDoc(before)
		for k, v := range doc {
			if m, ok := v.(map[string]any); ok && strings.HasPrefix(k, "urn:") {
				ext, _ := after[k].(map[string]any)
				if ext == nil {
					ext = map[string]any{}
					after[k] = ext
				}
				for sk, sv := range m {
					ext[sk] = sv
				}
				continue
			}
			after[k] = v
		}
		return after, nil
	})
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.changeUser(w, r, a, func(before map[string]any) (map[string]any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		ops, err := parsePatch(body)
		if err != nil {
			return nil, err
		}
		after := cloneDoc(before)
		if err := applyPatch(after, ops, userSchema()); err != nil {
			return nil, err
		}
		if err := checkReadOnly(before, after); err != nil {
			return nil, err
		}
		return canonical(after, userSchema())
	})
}

// changeUser runs a PUT or PATCH: the If-Match check, the new document
// from change, and the core calls for what differs; it answers the user.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request, a *roster.Actor, change func(before map[string]any) (map[string]any, error)) {
	id, err := door.PathID(r, "user")
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := paramsFromQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	cur, before, c, err := s.userDoc(r, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ifMatch(w, r, before) {
		return
	}
	// With If-Match, the version read here goes to the core, which checks
	// it in the change's transaction with the row locked: a change that came
	// between this read and the write answers 412, not overwritten.
	ctx := r.Context()
	if r.Header.Get("If-Match") != "" {
		ctx = roster.IfVersion(ctx, roster.Version(cur.UpdatedAt))
	}
	after, err := change(cloneDoc(before))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := diffUser(before, after, c.languages)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.svc.ChangeUserSCIM(ctx, a, id, ch.core()); err != nil {
		s.fail(w, r, err)
		return
	}
	_, out, _, err := s.userDoc(r, a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeProjected(w, http.StatusOK, out, p)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	id, err := door.PathID(r, "user")
	if err != nil {
		writeError(w, err)
		return
	}
	if r.Header.Get("If-Match") != "" {
		_, doc, _, err := s.userDoc(r, a, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ifMatch(w, r, doc) {
			return
		}
	}
	if err := s.svc.DeleteUser(r.Context(), a, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
