package scim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// SCIM groups are Roster groups; a group's members are the users whose home
// group it is (docs/scim.md): adding a member moves them into the group,
// removing one moves them to the tenant's scim_default_group.

func groupSchema() map[string][]attr {
	return map[string][]attr{"": append(groupAttrs(), commonAttrs()...)}
}

func (s *Server) renderGroup(r *http.Request, g *roster.Group, members []roster.MemberRef) map[string]any {
	base := s.baseURL(r)
	doc := map[string]any{
		"schemas":     []any{SchemaGroup},
		"id":          idText(g.ID),
		"displayName": g.Name,
		"meta": map[string]any{"resourceType": "Group", "created": timeText(g.CreatedAt), "lastModified": timeText(g.UpdatedAt),
			"location": base + "/Groups/" + idText(g.ID)},
	}
	if members == nil {
		return doc // without members there is no version: it covers them
	}
	list := []any{}
	for _, m := range members {
		list = append(list, map[string]any{"value": idText(m.ID), "$ref": base + "/Users/" + idText(m.ID), "display": m.Username, "type": "User"})
	}
	doc["members"] = list
	setVersion(doc)
	return doc
}

// wantsMembers reports whether an answer needs the members loaded.
func wantsMembers(p listParams) bool {
	if p.filterText != "" && strings.Contains(strings.ToLower(p.filterText), "members") {
		return true
	}
	for _, a := range p.excluded {
		if strings.EqualFold(a, "members") || strings.EqualFold(a, SchemaGroup+":members") {
			return false
		}
	}
	if len(p.attributes) == 0 {
		return true
	}
	return slices.ContainsFunc(p.attributes, func(a string) bool { return strings.Contains(strings.ToLower(a), "members") })
}

func (s *Server) groupDoc(r *http.Request, a *roster.Actor, id int64, withMembers bool) (map[string]any, error) {
	g, err := s.svc.Group(r.Context(), a, id)
	if err != nil {
		return nil, err
	}
	var members []roster.MemberRef
	if withMembers {
		if members, err = s.svc.GroupMembers(r.Context(), a, id); err != nil {
			return nil, err
		}
	}
	return s.renderGroup(r, g, members), nil
}

// queryGroups filters, sorts and pages the tenant's groups in memory: a
// group tree holds thousands of groups at most.
func (s *Server) queryGroups(w http.ResponseWriter, r *http.Request, a *roster.Actor, p listParams) {
	sortKey := strings.ToLower(strings.TrimPrefix(strings.ToLower(p.sortBy), strings.ToLower(SchemaGroup)+":"))
	if sortKey != "" && sortKey != "id" && sortKey != "displayname" && sortKey != "meta.created" {
		writeError(w, errInvalidValue("sortBy %q is not supported; sort groups by id, displayName or meta.created", p.sortBy))
		return
	}
	groups, err := s.svc.ListGroups(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.SortFunc(groups, func(x, y roster.Group) int {
		if sortKey == "displayname" {
			if c := strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)); c != 0 {
				return c
			}
		}
		return int(x.ID - y.ID)
	})
	if p.desc {
		slices.Reverse(groups)
	}
	withMembers := wantsMembers(p)
	var docs []map[string]any
	for i := range groups {
		var members []roster.MemberRef
		if withMembers {
			if members, err = s.svc.GroupMembers(r.Context(), a, groups[i].ID); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		doc := s.renderGroup(r, &groups[i], members)
		if p.filter == nil || matches(p.filter, doc) {
			docs = append(docs, doc)
		}
	}
	total := len(docs)
	from := min(p.startIndex-1, total)
	to := min(from+p.count, total)
	items := []map[string]any{}
	for _, d := range docs[from:to] {
		items = append(items, project(d, p.attributes, p.excluded))
	}
	writeJSON(w, http.StatusOK, listResponse(total, p.startIndex, items))
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	id, err := door.PathID(r, "group")
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := paramsFromQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	doc, err := s.groupDoc(r, a, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if notModified(w, r, doc) {
		return
	}
	writeResource(w, http.StatusOK, project(doc, p.attributes, p.excluded))
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	doc, err := canonical(body, groupSchema())
	if err != nil {
		writeError(w, err)
		return
	}
	name, err := getString(doc, "displayName", "displayName")
	if err != nil || strings.TrimSpace(name) == "" {
		writeError(w, errInvalidValue("displayName is required"))
		return
	}
	members, err := memberIDs(doc["members"])
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := s.svc.SCIMDefaults(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := roster.GroupInput{Name: roster.Some(name)}
	if d.GroupParent != 0 {
		in.ParentID = roster.Some(d.GroupParent)
	}
	g, err := s.svc.CreateGroup(r.Context(), a, in)
	if err != nil {
		s.fail(w, r, fromCore(err, map[string]string{"name": "displayName", "parent_id": "scim_group_parent"}))
		return
	}
	if err := s.setMembers(r, a, g.ID, nil, members, nil, d); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.groupDoc(r, a, g.ID, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusCreated, out)
}

// memberIDs reads a list of members [{"value": "12"}].
func memberIDs(v any) ([]int64, error) {
	var ids []int64
	for i, el := range elements(v) {
		m, _ := el.(map[string]any)
		raw := lookup(m, "value")
		id, err := getInt(raw, "members["+strconv.Itoa(i)+"].value")
		if err != nil || id < 1 {
			return nil, errInvalidValue("members[%d].value must be the id of a user", i)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// setMembers moves add into group id and remove out of it (to the default
// group); current is who is in it now.
func (s *Server) setMembers(r *http.Request, a *roster.Actor, id int64, current, add, remove []int64, d roster.SCIMSettings) error {
	for _, uid := range add {
		if slices.Contains(current, uid) {
			continue
		}
		if _, err := s.svc.MoveUser(r.Context(), a, uid, roster.MoveInput{GroupID: id}); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound {
				return errInvalidValue("members: no user with id %d", uid)
			}
			return err
		}
	}
	for _, uid := range remove {
		if !slices.Contains(current, uid) {
			continue
		}
		if d.DefaultGroup == id {
			return errInvalidValue("members: user %d cannot leave group %d, the tenant's scim_default_group, where removed members go; add them to another group instead", uid, id)
		}
		if _, err := s.svc.MoveUser(r.Context(), a, uid, roster.MoveInput{GroupID: d.DefaultGroup}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.changeGroup(w, r, a, func(before map[string]any) (map[string]any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		doc, err := canonical(body, groupSchema())
		if err != nil {
			return nil, err
		}
		after := cloneDoc(before)
		for _, k := range []string{"displayName", "members"} {
			if v, ok := doc[k]; ok {
				after[k] = v
			}
		}
		return after, nil
	})
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.changeGroup(w, r, a, func(before map[string]any) (map[string]any, error) {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		ops, err := parsePatch(body)
		if err != nil {
			return nil, err
		}
		after := cloneDoc(before)
		for _, o := range ops {
			if err := patchGroupOp(after, o); err != nil {
				return nil, err
			}
		}
		return after, nil
	})
}

// patchGroupOp applies one operation to a group document. A remove of
// members with a value list removes those members (Entra ID, Okta).
func patchGroupOp(doc map[string]any, o patchOp) error {
	if o.op == "remove" && o.value != nil {
		if p, err := filter.ParsePath([]byte(o.path)); err == nil && p.ValueExpression == nil && strings.EqualFold(p.AttributePath.AttributeName, "members") {
			drop, err := memberIDs(o.value)
			if err != nil {
				return err
			}
			var kept []any
			for _, el := range elements(doc["members"]) {
				m, _ := el.(map[string]any)
				if id, err := getInt(lookup(m, "value"), ""); err != nil || !slices.Contains(drop, id) {
					kept = append(kept, el)
				}
			}
			doc["members"] = kept
			return nil
		}
	}
	return applyOp(doc, o.op, o.path, o.value, groupSchema())
}

// changeGroup runs a PUT or PATCH of a group: rename, then membership.
func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor, change func(before map[string]any) (map[string]any, error)) {
	id, err := door.PathID(r, "group")
	if err != nil {
		writeError(w, err)
		return
	}
	before, err := s.groupDoc(r, a, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ifMatch(w, r, before) {
		return
	}
	after, err := change(cloneDoc(before))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name, err := getString(after, "displayName", "displayName")
	if err != nil {
		writeError(w, err)
		return
	}
	if name != before["displayName"] {
		if strings.TrimSpace(name) == "" {
			writeError(w, errInvalidValue("displayName is required"))
			return
		}
		if _, err := s.svc.UpdateGroup(r.Context(), a, id, roster.GroupInput{Name: roster.Some(name)}); err != nil {
			s.fail(w, r, fromCore(err, map[string]string{"name": "displayName"}))
			return
		}
	}
	current, _ := memberIDs(before["members"])
	wanted, err := memberIDs(after["members"])
	if err != nil {
		writeError(w, err)
		return
	}
	var add, remove []int64
	for _, id := range wanted {
		if !slices.Contains(current, id) {
			add = append(add, id)
		}
	}
	for _, id := range current {
		if !slices.Contains(wanted, id) {
			remove = append(remove, id)
		}
	}
	if len(add)+len(remove) > 0 {
		d, err := s.svc.SCIMDefaults(r.Context(), a)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.setMembers(r, a, id, current, add, remove, d); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p, _ := paramsFromQuery(r)
	out, err := s.groupDoc(r, a, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, project(out, p.attributes, p.excluded))
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	id, err := door.PathID(r, "group")
	if err != nil {
		writeError(w, err)
		return
	}
	if r.Header.Get("If-Match") != "" {
		doc, err := s.groupDoc(r, a, id, true)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ifMatch(w, r, doc) {
			return
		}
	}
	if err := s.svc.DeleteGroup(r.Context(), a, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
