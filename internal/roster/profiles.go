package roster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Profile kinds.
const (
	ProfileGroup    = "group"    // defined on a group, available to its users and those of its subgroups
	ProfilePersonal = "personal" // belongs to one user
)

// Profile is a named set of skills with levels, defined on a group or for
// one user.
type Profile struct {
	ID        int64          `json:"id"`
	TenantID  int64          `json:"-"`
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	GroupID   *int64         `json:"group_id"`
	UserID    *int64         `json:"user_id"`
	Skills    []ProfileSkill `json:"skills"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ProfileSkill is one skill of a profile with its level (1-100).
type ProfileSkill struct {
	SkillID int64  `json:"skill_id"`
	Name    string `json:"name"`
	Level   int    `json:"level"`
}

// ProfileInput creates or changes a profile. Skills replace the whole set.
type ProfileInput struct {
	Name   Opt[string]              `json:"name"`
	Skills Opt[[]ProfileSkillInput] `json:"skills"`
}

// ProfileSkillInput names a skill and its level. Name is ignored, so a
// profile read from the API can be sent back as it is.
type ProfileSkillInput struct {
	SkillID int64  `json:"skill_id"`
	Level   int    `json:"level"`
	Name    string `json:"name,omitempty"`
}

// ProfileFilter selects profiles: those defined on any of GroupIDs, and the
// personal profiles of UserID (0: none).
type ProfileFilter struct {
	GroupIDs []int64
	UserID   int64
}

// Profile returns one profile.
func (s *Service) Profile(ctx context.Context, a *Actor, id int64) (*Profile, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	p, err := r.Profile(ctx, a.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := s.profileInScope(ctx, r, a, p, profileReadPerms...); err != nil {
		return nil, err
	}
	return p, nil
}

// GroupProfileSwitchedOff lists the users who switched a group profile off
// (group profiles are on for the group's users unless switched off): with
// a list of the group's users, who has it on, in one query.
func (s *Service) GroupProfileSwitchedOff(ctx context.Context, a *Actor, profileID int64) ([]int64, error) {
	p, err := s.Profile(ctx, a, profileID)
	if err != nil {
		return nil, err
	}
	if p.GroupID == nil {
		return []int64{}, nil
	}
	return s.store.Read().GroupProfileSwitchedOff(ctx, a.TenantID, profileID)
}

// profileReadPerms show profiles.
var profileReadPerms = []string{PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView}

// profileInScope answers ENotFound for a profile whose group, or whose user,
// lies outside what the actor reaches through the roles granting perms.
func (s *Service) profileInScope(ctx context.Context, tx Reader, a *Actor, p *Profile, perms ...string) error {
	var err error
	if p.GroupID != nil {
		err = s.groupInScope(ctx, a, *p.GroupID, perms...)
	} else {
		var u *User
		if u, err = tx.User(ctx, a.TenantID, *p.UserID); err == nil {
			err = s.userInScope(ctx, a, u, perms...)
		}
	}
	if ErrorCode(err) == ENotFound {
		return Errorf(ENotFound, "no profile with id %d", p.ID)
	}
	return err
}

// GroupProfiles lists the profiles defined on a group itself (not those it
// inherits).
func (s *Service) GroupProfiles(ctx context.Context, a *Actor, groupID int64) ([]Profile, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	if _, err := r.Group(ctx, a.TenantID, groupID); err != nil {
		return nil, err
	}
	if err := s.groupInScope(ctx, a, groupID, profileReadPerms...); err != nil {
		return nil, err
	}
	return r.ListProfiles(ctx, a.TenantID, ProfileFilter{GroupIDs: []int64{groupID}})
}

// CreateGroupProfile defines a profile on a group: it becomes available at
// once to every user of the group and of its subgroups.
func (s *Service) CreateGroupProfile(ctx context.Context, a *Actor, groupID int64, in ProfileInput) (*Profile, error) {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return nil, err
	}
	return s.createProfile(ctx, a, in, func(tx Reader, p *Profile) error {
		if _, err := tx.Group(ctx, a.TenantID, groupID); err != nil {
			return err
		}
		if err := s.groupInScope(ctx, a, groupID, PermGroupsManage); err != nil {
			return err
		}
		p.Kind, p.GroupID = ProfileGroup, &groupID
		return nil
	})
}

// CreateUserProfile adds a personal profile that only this user has.
func (s *Service) CreateUserProfile(ctx context.Context, a *Actor, userID int64, in ProfileInput) (*Profile, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	return s.createProfile(ctx, a, in, func(tx Reader, p *Profile) error {
		u, err := tx.User(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return err
		}
		p.Kind, p.UserID = ProfilePersonal, &userID
		return nil
	})
}

func (s *Service) createProfile(ctx context.Context, a *Actor, in ProfileInput, owner func(tx Reader, p *Profile) error) (*Profile, error) {
	if !in.Skills.Set {
		in.Skills = Some([]ProfileSkillInput{})
	}
	in, err := s.checkProfile(ctx, a, in, true) // before the transaction
	if err != nil {
		return nil, s.reachableFirst(err, func(r Reader) error { return owner(r, &Profile{}) })
	}
	now := s.Now()
	p := &Profile{TenantID: a.TenantID, Skills: []ProfileSkill{}, CreatedAt: now, UpdatedAt: now}
	err = s.inTx(ctx, func(tx Tx) error {
		if err := owner(tx, p); err != nil {
			return err
		}
		if err := applyProfileInput(ctx, tx, p, in, true); err != nil {
			return err
		}
		if err := tx.CreateProfile(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "profile.create", "profile", p.ID, nil, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateProfile renames a profile or replaces its skills. Group profiles need
// groups.manage, personal ones users.manage.
func (s *Service) UpdateProfile(ctx context.Context, a *Actor, id int64, in ProfileInput) (*Profile, error) {
	if err := a.requireWrite(PermGroupsManage, PermUsersManage); err != nil {
		return nil, err
	}
	in, err := s.checkProfile(ctx, a, in, false) // before the transaction
	if err != nil {
		return nil, s.reachableFirst(err, func(r Reader) error {
			p, err := r.Profile(ctx, a.TenantID, id)
			if err != nil {
				return err
			}
			return s.requireProfileOwner(ctx, r, a, p)
		})
	}
	var p *Profile
	err = s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindProfile, a.TenantID, id); err != nil {
			return err
		}
		before, err := tx.Profile(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := s.requireProfileOwner(ctx, tx, a, before); err != nil {
			return err
		}
		p = new(Profile)
		*p = *before
		p.Skills = slices.Clone(before.Skills)
		if err := applyProfileInput(ctx, tx, p, in, false); err != nil {
			return err
		}
		p.UpdatedAt = s.nextUpdate(p.UpdatedAt)
		if err := tx.UpdateProfile(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "profile.update", "profile", id, before, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeleteProfile removes a profile; its users lose it at once.
func (s *Service) DeleteProfile(ctx context.Context, a *Actor, id int64) error {
	if err := a.requireWrite(PermGroupsManage, PermUsersManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindProfile, a.TenantID, id); err != nil {
			return err
		}
		p, err := tx.Profile(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := s.requireProfileOwner(ctx, tx, a, p); err != nil {
			return err
		}
		if err := tx.DeleteProfile(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "profile.delete", "profile", id, p, nil)
	})
}

// requireProfileOwner: group profiles are changed by group managers,
// personal ones by user managers, each within their scope.
func (s *Service) requireProfileOwner(ctx context.Context, tx Reader, a *Actor, p *Profile) error {
	perm := PermUsersManage
	if p.Kind == ProfileGroup {
		perm = PermGroupsManage
	}
	if err := a.require(perm); err != nil {
		return err
	}
	if err := s.profileInScope(ctx, tx, a, p, perm); err != nil {
		return err
	}
	if p.UserID == nil {
		return nil
	}
	u, err := tx.User(ctx, a.TenantID, *p.UserID)
	if err != nil {
		return err
	}
	return s.actOn(ctx, tx, a, u)
}

// checkProfile checks a profile's input before the transaction: its name,
// the number of skills and their levels (checkProfileInput). When something
// is wrong, the skills are looked up on a plain read too, so the answer
// names every bad field.
func (s *Service) checkProfile(ctx context.Context, a *Actor, in ProfileInput, create bool) (ProfileInput, error) {
	in, v := checkProfileInput(in, create)
	if v.OK() {
		return in, nil
	}
	if in.Skills.Set && len(in.Skills.V) <= MaxProfileSkills {
		if _, err := resolveProfileSkills(ctx, s.store.Read(), a.TenantID, in.Skills.V, v); err != nil {
			return in, err
		}
	}
	return in, v.Err()
}

// checkProfileInput checks what needs no database: the name (trimmed), the
// number of skills, then each level.
func checkProfileInput(in ProfileInput, create bool) (ProfileInput, *Validation) {
	v := &Validation{}
	if create || in.Name.Set {
		in.Name.V = strings.TrimSpace(in.Name.V)
		if in.Name.V == "" || tooLong(in.Name.V, MaxProfileNameLen) {
			v.Add("name", "must be 1 to %d characters", MaxProfileNameLen)
		}
	}
	if in.Skills.Set && !tooMany(v, "skills", len(in.Skills.V), MaxProfileSkills, "skills") {
		for i, ps := range in.Skills.V {
			if ps.Level < MinSkillLevel || ps.Level > MaxSkillLevel {
				v.Add(fmt.Sprintf("skills[%d].level", i), "must be a whole number from %d to %d", MinSkillLevel, MaxSkillLevel)
			}
		}
	}
	return in, v
}

// resolveProfileSkills finds the skills of a profile's input in the tenant's
// catalogue (another tenant's skill is an unknown skill), each at most once.
func resolveProfileSkills(ctx context.Context, tx Reader, tenantID int64, in []ProfileSkillInput, v *Validation) ([]ProfileSkill, error) {
	skills, err := tx.ListSkills(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*Skill, len(skills))
	for i := range skills {
		byID[skills[i].ID] = &skills[i]
	}
	out := []ProfileSkill{}
	seen := make(map[int64]bool, len(in))
	for i, ps := range in {
		field := fmt.Sprintf("skills[%d]", i)
		sk := byID[ps.SkillID]
		switch {
		case sk == nil:
			v.Add(field+".skill_id", "no skill with id %d in this tenant's catalogue", ps.SkillID)
		case seen[ps.SkillID]:
			v.Add(field+".skill_id", "the skill %q is listed twice", sk.Name)
		default:
			seen[ps.SkillID] = true
			out = append(out, ProfileSkill{SkillID: sk.ID, Name: sk.Name, Level: ps.Level})
		}
	}
	slices.SortFunc(out, func(x, y ProfileSkill) int {
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// applyProfileInput writes in, checked already by checkProfileInput, into p:
// the skills are looked up, and the name must be free at p's owner.
func applyProfileInput(ctx context.Context, tx Tx, p *Profile, in ProfileInput, create bool) error {
	var v Validation
	if create || in.Name.Set {
		p.Name = in.Name.V
	}
	if in.Skills.Set {
		skills, err := resolveProfileSkills(ctx, tx, p.TenantID, in.Skills.V, &v)
		if err != nil {
			return err
		}
		p.Skills = skills
	}
	if err := v.Err(); err != nil {
		return err
	}
	// Names are unique per owner (a group, or a user).
	f := ProfileFilter{}
	if p.GroupID != nil {
		f.GroupIDs = []int64{*p.GroupID}
	} else {
		f.UserID = *p.UserID
	}
	siblings, err := tx.ListProfiles(ctx, p.TenantID, f)
	if err != nil {
		return err
	}
	for _, o := range siblings {
		if o.ID != p.ID && strings.EqualFold(o.Name, p.Name) {
			return conflictField(ReasonProfileNameTaken, "name", "a profile named %q exists already here", o.Name)
		}
	}
	return nil
}
