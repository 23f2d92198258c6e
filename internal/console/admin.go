package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/roster-dev/roster/internal/door"
	"github.com/roster-dev/roster/internal/roster"
)

// Groups (seed 004: three levels; create, rename, move, delete with a
// warning first) and roles (built-in and custom, permission checkboxes with
// their descriptions).

// treeNode is a group with its children, for the tree.
type treeNode struct {
	roster.Group
	Children []*treeNode
	Path     string
}

type groupsData struct {
	Roots    []*treeNode
	Options  []groupOption
	Depth    int
	Form     map[string]string
	Selected int64
}

func buildTree(groups groupNames) []*treeNode {
	nodes := make(map[int64]*treeNode, len(groups))
	for id, g := range groups {
		nodes[id] = &treeNode{Group: g, Path: groups.Path(id)}
	}
	var roots []*treeNode
	for _, opt := range groupOptions(groups) { // depth-first, by name
		n := nodes[opt.ID]
		if n.ParentID == nil {
			roots = append(roots, n)
		} else if parent := nodes[*n.ParentID]; parent != nil {
			parent.Children = append(parent.Children, n)
		}
	}
	return roots
}

func (s *Server) groupsData(r *http.Request, p *page) (*groupsData, error) {
	groups, err := s.groupNames(r, p.Actor)
	if err != nil {
		return nil, err
	}
	return &groupsData{Roots: buildTree(groups), Options: groupOptions(groups), Depth: p.Tenant.Settings.GroupDepth, Form: map[string]string{}}, nil
}

func (s *Server) groupsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.groupsData(r, p)
	if err != nil {
		return err
	}
	d.Form["parent_id"] = r.URL.Query().Get("parent")
	p.Title, p.Section, p.Data = p.T("Groups"), "groups", d
	return s.show(w, r, "groups", p)
}

// optionalID reads a form's group id: "" is none (the top level).
func optionalID(v string) roster.Opt[int64] {
	if v == "" {
		return roster.Opt[int64]{Set: true, Null: true}
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		id = -1 // not a group: the core says so
	}
	return roster.Some(id)
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, p *page) error {
	name, parent := r.PostFormValue("name"), r.PostFormValue("parent_id")
	g, err := s.svc.CreateGroup(r.Context(), p.Actor, roster.GroupInput{Name: roster.Some(name), ParentID: optionalID(parent)})
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d, derr := s.groupsData(r, p)
		if derr != nil {
			return derr
		}
		d.Form["name"], d.Form["parent_id"] = name, parent
		p.Title, p.Section, p.Data = p.T("Groups"), "groups", d
		s.render(w, r, status, "groups", p)
		return nil
	}
	return s.redirect(w, r, "/groups#group-"+itoa(g.ID), p.T("Group {{.Name}} created.", "Name", g.Name))
}

type groupData struct {
	Group    *roster.Group
	Node     *treeNode
	Groups   groupNames
	Options  []groupOption
	Form     map[string]string
	Children int
	More     *ccData // properties and profiles
}

func (s *Server) loadGroup(r *http.Request, p *page) (*groupData, error) {
	id, err := door.PathID(r, "group")
	if err != nil {
		return nil, err
	}
	g, err := s.svc.Group(r.Context(), p.Actor, id)
	if err != nil {
		return nil, err
	}
	groups, err := s.groupNames(r, p.Actor)
	if err != nil {
		return nil, err
	}
	d := &groupData{Group: g, Groups: groups, Form: map[string]string{"name": g.Name}}
	var find func(ns []*treeNode) *treeNode
	find = func(ns []*treeNode) *treeNode {
		for _, n := range ns {
			if n.ID == id {
				return n
			}
			if f := find(n.Children); f != nil {
				return f
			}
		}
		return nil
	}
	d.Node = find(buildTree(groups))
	if d.Node != nil {
		d.Children = len(d.Node.Children)
	}
	// A group can move under any group outside its own subtree.
	for _, o := range groupOptions(groups) {
		if o.ID != id && !isUnder(groups, o.ID, id) {
			d.Options = append(d.Options, o)
		}
	}
	if g.ParentID != nil {
		d.Form["parent_id"] = itoa(*g.ParentID)
	}
	return d, nil
}

// isUnder reports whether group id lies below ancestor.
func isUnder(groups groupNames, id, ancestor int64) bool {
	for g, ok := groups[id]; ok && g.ParentID != nil; g, ok = groups[*g.ParentID] {
		if *g.ParentID == ancestor {
			return true
		}
	}
	return false
}

func (s *Server) groupPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	if err := s.groupMore(r, p, d); err != nil {
		return err
	}
	p.Title, p.Section, p.Data = d.Group.Name, "groups", d
	return s.show(w, r, "group", p)
}

func (s *Server) renameGroup(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	name := r.PostFormValue("name")
	g, err := s.svc.UpdateGroup(r.Context(), p.Actor, d.Group.ID, roster.GroupInput{Name: roster.Some(name)})
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d.Form["name"] = name
		if err := s.groupMore(r, p, d); err != nil {
			return err
		}
		p.Title, p.Section, p.Data = d.Group.Name, "groups", d
		s.render(w, r, status, "group", p)
		return nil
	}
	return s.redirect(w, r, "/groups/"+itoa(g.ID), p.T("Group renamed to {{.Name}}.", "Name", g.Name))
}

func (s *Server) moveGroupPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Move {{.Name}}", "Name", d.Group.Name), "groups", d
	return s.show(w, r, "group_move", p)
}

func (s *Server) moveGroup(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	parent := r.PostFormValue("parent_id")
	g, err := s.svc.UpdateGroup(r.Context(), p.Actor, d.Group.ID, roster.GroupInput{ParentID: optionalID(parent)})
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		d.Form["parent_id"] = parent
		p.Title, p.Section, p.Data = p.T("Move {{.Name}}", "Name", d.Group.Name), "groups", d
		s.render(w, r, status, "group_move", p)
		return nil
	}
	return s.redirect(w, r, "/groups#group-"+itoa(g.ID), p.T("Group {{.Name}} moved; it is on level {{.Level}} now.", "Name", g.Name, "Level", g.Level))
}

func (s *Server) deleteGroupPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Delete {{.Name}}?", "Name", d.Group.Name), "groups", d
	return s.show(w, r, "group_delete", p)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadGroup(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteGroup(r.Context(), p.Actor, d.Group.ID); err != nil {
		// The refusal says what is still in the group.
		return s.refused(w, r, p, err, "group_delete", p.T("Delete {{.Name}}?", "Name", d.Group.Name), "groups", d)
	}
	return s.redirect(w, r, "/groups", p.T("Group {{.Name}} deleted.", "Name", d.Group.Name))
}

// ---- roles ----

type rolesData struct {
	Roles []roster.Role
}

func (s *Server) rolesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	roles, err := s.svc.ListRoles(r.Context(), p.Actor)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Roles"), "roles", rolesData{Roles: roles}
	return s.show(w, r, "roles", p)
}

// roleForm is the role editor's form as typed.
type roleForm struct {
	Key, Name, Description, Scope string
	Permissions                   []string
	Assignable                    []string // role keys its holders may assign (the grant rule's delegation)
}

type roleData struct {
	Role    *roster.Role // nil when creating
	Form    roleForm
	Catalog []roster.Permission
	Scopes  []scopeChoice
	Roles   []roster.Role // the choices for Assignable
}

type scopeChoice struct{ Key, Label, Hint string }

var scopeChoices = []scopeChoice{
	{roster.ScopeTenant, msg("All data"), msg("Everything in the organisation.")},
	{roster.ScopeGroups, msg("The user's groups"), msg("The groups in the user's group access, subgroups included.")},
	{roster.ScopeSelf, msg("Only themselves"), msg("Only the interactions of the user's own agent IDs.")},
}

func (s *Server) roleData(r *http.Request, p *page, role *roster.Role, f roleForm) *roleData {
	d := &roleData{Role: role, Form: f, Catalog: s.svc.PermissionCatalogue(r.Context(), p.Actor), Scopes: scopeChoices}
	if roles, err := s.svc.ListRoles(r.Context(), p.Actor); err == nil {
		for _, other := range roles {
			if role == nil || other.ID != role.ID {
				d.Roles = append(d.Roles, other)
			}
		}
	}
	return d
}

func readRoleForm(r *http.Request) roleForm {
	return roleForm{Key: strings.TrimSpace(r.PostFormValue("key")), Name: r.PostFormValue("name"),
		Description: r.PostFormValue("description"), Scope: r.PostFormValue("scope"), Permissions: r.PostForm["permissions"],
		Assignable: r.PostForm["assignable_roles"]}
}

func (f roleForm) input() roster.RoleInput {
	perms := f.Permissions
	if perms == nil {
		perms = []string{}
	}
	assignable := f.Assignable
	if assignable == nil {
		assignable = []string{}
	}
	return roster.RoleInput{Name: roster.Some(f.Name), Description: roster.Some(f.Description),
		Scope: roster.Some(f.Scope), Permissions: roster.Some(perms), AssignableRoles: roster.Some(assignable)}
}

func (s *Server) newRolePage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := roleForm{Scope: roster.ScopeTenant}
	// "Copy as a new role": start from another role's permissions.
	if from := r.URL.Query().Get("from"); from != "" {
		roles, err := s.svc.ListRoles(r.Context(), p.Actor)
		if err != nil {
			return err
		}
		for _, role := range roles {
			if itoa(role.ID) == from {
				f = roleForm{Name: role.Name + " (copy)", Description: role.Description, Scope: role.Scope, Permissions: role.Permissions,
					Assignable: role.AssignableRoles}
			}
		}
	}
	p.Title, p.Section, p.Data = p.T("New role"), "roles", s.roleData(r, p, nil, f)
	return s.show(w, r, "role", p)
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, p *page) error {
	f := readRoleForm(r)
	in := f.input()
	in.Key = roster.Some(f.Key)
	role, err := s.svc.CreateRole(r.Context(), p.Actor, in)
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			return err
		}
		p.Title, p.Section, p.Data = p.T("New role"), "roles", s.roleData(r, p, nil, f)
		s.render(w, r, status, "role", p)
		return nil
	}
	return s.redirect(w, r, "/roles", p.T("Role {{.Name}} created.", "Name", role.Name))
}

func (s *Server) loadRole(r *http.Request, p *page) (*roster.Role, error) {
	id, err := door.PathID(r, "role")
	if err != nil {
		return nil, err
	}
	roles, err := s.svc.ListRoles(r.Context(), p.Actor)
	if err != nil {
		return nil, err
	}
	for i := range roles {
		if roles[i].ID == id {
			return &roles[i], nil
		}
	}
	return nil, roster.Errorf(roster.ENotFound, "no role with id %d", id)
}

func (s *Server) rolePage(w http.ResponseWriter, r *http.Request, p *page) error {
	role, err := s.loadRole(r, p)
	if err != nil {
		return err
	}
	f := roleForm{Key: role.Key, Name: role.Name, Description: role.Description, Scope: role.Scope, Permissions: role.Permissions,
		Assignable: role.AssignableRoles}
	p.Title, p.Section, p.Data = role.Name, "roles", s.roleData(r, p, role, f)
	return s.show(w, r, "role", p)
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request, p *page) error {
	role, err := s.loadRole(r, p)
	if err != nil {
		return err
	}
	f := readRoleForm(r)
	f.Key = role.Key
	updated, err := s.svc.UpdateRole(r.Context(), p.Actor, role.ID, f.input())
	if err != nil {
		status, ok := formFailed(p, err)
		if !ok {
			if status = door.StatusOf(roster.ErrorCode(err)); status >= http.StatusInternalServerError {
				return err
			}
			p.Error = errorMessage(p.L, err)
		}
		p.Title, p.Section, p.Data = role.Name, "roles", s.roleData(r, p, role, f)
		s.render(w, r, status, "role", p)
		return nil
	}
	return s.redirect(w, r, "/roles", p.T("Role {{.Name}} saved.", "Name", updated.Name))
}

func (s *Server) deleteRolePage(w http.ResponseWriter, r *http.Request, p *page) error {
	role, err := s.loadRole(r, p)
	if err != nil {
		return err
	}
	p.Title, p.Section, p.Data = p.T("Delete the role {{.Name}}?", "Name", role.Name), "roles", role
	return s.show(w, r, "role_delete", p)
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, p *page) error {
	role, err := s.loadRole(r, p)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteRole(r.Context(), p.Actor, role.ID); err != nil {
		return s.refused(w, r, p, err, "role_delete", p.T("Delete the role {{.Name}}?", "Name", role.Name), "roles", role)
	}
	return s.redirect(w, r, "/roles", p.T("Role {{.Name}} deleted.", "Name", role.Name))
}
