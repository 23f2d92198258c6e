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

// groupDoc loads a group (with its members when withMembers) and renders it.
func (s *Server) groupDoc(r *http.Request, a *roster.Actor, id int64, withMembers bool) (*roster.SCIMGroup, map[string]any, error) {
	if !withMembers {
		g, err := s.svc.Group(r.Context(), a, id)
		if err != nil {
			return nil, nil, err
		}
		return &roster.SCIMGroup{Group: *g}, s.renderGroup(r, g, nil), nil
	}
	g, err := s.svc.GroupSCIM(r.Context(), a, id)
	if err != nil {
		return nil, nil, err
	}
	if g.Members == nil {
		g.Members = []roster.MemberRef{}
	}
	return g, s.renderGroup(r, &g.Group, g.Members), nil
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
	_, doc, err := s.groupDoc(r, a, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if notModified(w, r, doc) {
		return
	}
	writeProjected(w, http.StatusOK, doc, p)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	p, err := paramsFromQuery(r) // attributes/excludedAttributes shape the answer (RFC 7644 §3.9)
	if err != nil {
		writeError(w, err)
		return
	}
	doc, err := readDocument(r, groupSchema())
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
	g, err := s.svc.CreateGroupSCIM(r.Context(), a, name, members)
	if err != nil {
		s.fail(w, r, fromCore(err, map[string]string{"name": "displayName", "parent_id": "scim_group_parent"}))
		return
	}
	_, out, err := s.groupDoc(r, a, g.ID, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeProjected(w, http.StatusCreated, out, p)
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

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	s.changeGroup(w, r, a, func(before map[string]any) (map[string]any, error) {
		doc, err := readDocument(r, groupSchema())
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

// changeGroup runs a PUT or PATCH of a group: the new document from change,
// and the rename and membership moves it asks for as one core call. With
// If-Match, the group as read here goes with it, and the core refuses
// (412) if it is no longer so in the change's transaction.
func (s *Server) changeGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor, change func(before map[string]any) (map[string]any, error)) {
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
	cur, before, err := s.groupDoc(r, a, id, true)
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
	var ch roster.SCIMGroupChange
	if r.Header.Get("If-Match") != "" {
		ch.Seen = cur
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
		ch.Name = &name
	}
	current, _ := memberIDs(before["members"])
	wanted, err := memberIDs(after["members"])
	if err != nil {
		writeError(w, err)
		return
	}
	for _, id := range wanted {
		if !slices.Contains(current, id) {
			ch.Add = append(ch.Add, id)
		}
	}
	for _, id := range current {
		if !slices.Contains(wanted, id) {
			ch.Remove = append(ch.Remove, id)
		}
	}
	if err := s.svc.ChangeGroupSCIM(r.Context(), a, id, ch); err != nil {
		s.fail(w, r, fromCore(err, map[string]string{"name": "displayName"}))
		return
	}
	_, out, err := s.groupDoc(r, a, id, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeProjected(w, http.StatusOK, out, p)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, a *roster.Actor) {
	id, err := door.PathID(r, "group")
	if err != nil {
		writeError(w, err)
		return
	}
	if r.Header.Get("If-Match") != "" {
		_, doc, err := s.groupDoc(r, a, id, true)
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
