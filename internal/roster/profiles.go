package roster

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Skill is an entry of the tenant's skill catalogue.
type Skill struct {
	ID        int64     `json:"id"`
	TenantID  int64     `json:"-"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SkillInput creates or renames a skill.
type SkillInput struct {
	Name Opt[string] `json:"name"`
}

// Profile kinds.
const (
	ProfileGroup    = "group"    // defined on a group, available to its users and those of its subgroups
	ProfilePersonal = "personal" // belongs to one user
)

// Skill levels.
const (
	MinSkillLevel = 1
	MaxSkillLevel = 100
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

// UserProfile is a profile as a user has it: kind, and whether it is
// switched on. Personal profiles are always on.
type UserProfile struct {
	ID      int64          `json:"id"`
	Name    string         `json:"name"`
	Kind    string         `json:"kind"`
	Enabled bool           `json:"enabled"`
	GroupID *int64         `json:"group_id,omitempty"`
	Skills  []ProfileSkill `json:"skills"`
}

// ProfileFilter selects profiles: those defined on any of GroupIDs, and the
// personal profiles of UserID (0: none).
type ProfileFilter struct {
	GroupIDs []int64
	UserID   int64
}

// ListSkills returns the tenant's skill catalogue by name.
func (s *Service) ListSkills(ctx context.Context, a *Actor) ([]Skill, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	return s.store.Read().ListSkills(ctx, a.TenantID)
}

// Skill returns one skill of the catalogue, to whoever may list it.
func (s *Service) Skill(ctx context.Context, a *Actor, id int64) (*Skill, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	return s.store.Read().Skill(ctx, a.TenantID, id)
}

// CreateSkill adds a skill to the catalogue; names are unique
// case-insensitively.
func (s *Service) CreateSkill(ctx context.Context, a *Actor, in SkillInput) (*Skill, error) {
	if err := s.requireCatalogueWrite(ctx, a, "adding skills"); err != nil {
		return nil, err
	}
	now := s.Now()
	sk := &Skill{TenantID: a.TenantID, CreatedAt: now, UpdatedAt: now}
	var v Validation
	sk.Name = checkSkillName(&v, in.Name.V)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		if err := skillNameFree(ctx, tx, sk); err != nil {
			return err
		}
		if err := tx.CreateSkill(ctx, sk); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "skill.create", "skill", sk.ID, nil, sk)
	})
	if err != nil {
		return nil, err
	}
	return sk, nil
}

// UpdateSkill renames a skill; the profiles that use it follow.
func (s *Service) UpdateSkill(ctx context.Context, a *Actor, id int64, in SkillInput) (*Skill, error) {
	if err := s.requireCatalogueWrite(ctx, a, "renaming skills"); err != nil {
		return nil, err
	}
	var v Validation // before the transaction
	var name string
	if in.Name.Set {
		name = checkSkillName(&v, in.Name.V)
	}
	if err := v.Err(); err != nil {
		return nil, s.reachableFirst(err, func(r Tx) error { _, err := r.Skill(ctx, a.TenantID, id); return err })
	}
	var sk *Skill
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindSkill, a.TenantID, id); err != nil { // versions.go
			return err
		}
		before, err := tx.Skill(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		sk = new(Skill)
		*sk = *before
		if in.Name.Set {
			sk.Name = name
		}
		if err := skillNameFree(ctx, tx, sk); err != nil {
			return err
		}
		sk.UpdatedAt = s.nextUpdate(sk.UpdatedAt)
		if err := tx.UpdateSkill(ctx, sk); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "skill.update", "skill", id, before, sk)
	})
	if err != nil {
		return nil, err
	}
	return sk, nil
}

// DeleteSkill removes a skill no profile uses.
func (s *Service) DeleteSkill(ctx context.Context, a *Actor, id int64) error {
	if err := s.requireCatalogueWrite(ctx, a, "deleting skills"); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindSkill, a.TenantID, id); err != nil { // versions.go
			return err
		}
		sk, err := tx.Skill(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		n, err := tx.SkillUsage(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return conflict(ReasonSkillInUse, "the skill %q is used in %d profile(s); take it out of them first", sk.Name, n)
		}
		if err := tx.DeleteSkill(ctx, a.TenantID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "skill.delete", "skill", id, sk, nil)
	})
}

// SkillUsage counts the profiles (group and personal, in the whole tenant)
// that use a skill, so a front door can say before a delete that it will be
// refused.
func (s *Service) SkillUsage(ctx context.Context, a *Actor, id int64) (int, error) {
	if err := a.require(PermUsersView, PermUsersManage, PermGroupsManage, PermTeamView); err != nil {
		return 0, err
	}
	r := s.store.Read()
	if _, err := r.Skill(ctx, a.TenantID, id); err != nil {
		return 0, err
	}
	return r.SkillUsage(ctx, a.TenantID, id)
}

func checkSkillName(v *Validation, name string) string {
	name = strings.TrimSpace(name)
	if name == "" || tooLong(name, MaxSkillNameLen) {
		v.Add("name", "must be 1 to %d characters", MaxSkillNameLen)
	}
	return name
}

func skillNameFree(ctx context.Context, tx Tx, sk *Skill) error {
	skills, err := tx.ListSkills(ctx, sk.TenantID)
	if err != nil {
		return err
	}
	for _, o := range skills {
		if o.ID != sk.ID && strings.EqualFold(o.Name, sk.Name) {
			return conflictField(ReasonSkillNameTaken, "name", "a skill named %q exists already", o.Name)
		}
	}
	return nil
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
func (s *Service) profileInScope(ctx context.Context, tx Tx, a *Actor, p *Profile, perms ...string) error {
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
	return s.createProfile(ctx, a, in, func(tx Tx, p *Profile) error {
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
	return s.createProfile(ctx, a, in, func(tx Tx, p *Profile) error {
		u, err := tx.User(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil { // grants.go
			return err
		}
		p.Kind, p.UserID = ProfilePersonal, &userID
		return nil
	})
}

func (s *Service) createProfile(ctx context.Context, a *Actor, in ProfileInput, owner func(tx Tx, p *Profile) error) (*Profile, error) {
	if !in.Skills.Set {
		in.Skills = Some([]ProfileSkillInput{})
	}
	in, err := s.checkProfile(ctx, a, in, true) // before the transaction
	if err != nil {
		return nil, s.reachableFirst(err, func(r Tx) error { return owner(r, &Profile{}) })
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
		return nil, s.reachableFirst(err, func(r Tx) error {
			p, err := r.Profile(ctx, a.TenantID, id)
			if err != nil {
				return err
			}
			return s.requireProfileOwner(ctx, r, a, p)
		})
	}
	var p *Profile
	err = s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindProfile, a.TenantID, id); err != nil { // versions.go
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
		if err := s.checkVersion(ctx, tx, KindProfile, a.TenantID, id); err != nil { // versions.go
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
func (s *Service) requireProfileOwner(ctx context.Context, tx Tx, a *Actor, p *Profile) error {
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
	return s.actOn(ctx, tx, a, u) // grants.go
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
func resolveProfileSkills(ctx context.Context, tx Tx, tenantID int64, in []ProfileSkillInput, v *Validation) ([]ProfileSkill, error) {
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

// userProfiles computes the profiles a user has: the group profiles of the
// home group and its ancestors (chain), each on unless the user switched it
// off, and the user's personal profiles.
func userProfiles(ctx context.Context, tx Tx, tenantID, userID int64, chain []int64) ([]UserProfile, error) {
	profiles, err := tx.ListProfiles(ctx, tenantID, ProfileFilter{GroupIDs: chain, UserID: userID})
	if err != nil {
		return nil, err
	}
	off, err := tx.DisabledGroupProfiles(ctx, tenantID, userID)
	if err != nil {
		return nil, err
	}
	out := make([]UserProfile, 0, len(profiles))
	for _, p := range profiles {
		out = append(out, UserProfile{ID: p.ID, Name: p.Name, Kind: p.Kind, GroupID: p.GroupID, Skills: p.Skills,
			Enabled: p.Kind == ProfilePersonal || !slices.Contains(off, p.ID)})
	}
	// Group profiles first, the nearest group's last; then personal ones.
	depth := func(p UserProfile) int {
		if p.GroupID == nil {
			return -1
		}
		return slices.Index(chain, *p.GroupID)
	}
	slices.SortStableFunc(out, func(x, y UserProfile) int {
		if dx, dy := depth(x), depth(y); dx != dy {
			return dy - dx
		}
		return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
	})
	return out, nil
}

// SetUserGroupProfiles switches the user's available group profiles: those
// listed are on, the others off. Listing a profile the user does not have
// available (another group's, a personal one, an unknown id) is bad input.
func (s *Service) SetUserGroupProfiles(ctx context.Context, a *Actor, userID int64, enabled []int64) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	var pre Validation
	if tooMany(&pre, "enabled", len(enabled), MaxEnabledProfiles, "profiles"); !pre.OK() { // before the transaction
		return nil, s.reachableFirst(pre.Err(), s.userReachable(ctx, a, userID))
	}
	var u *User
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, userID); err != nil { // versions.go
			return err
		}
		var err error
		if u, err = tx.User(ctx, a.TenantID, userID); err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil { // grants.go
			return err
		}
		chain, err := tx.GroupChain(ctx, a.TenantID, u.GroupID)
		if err != nil {
			return err
		}
		available, err := tx.ListProfiles(ctx, a.TenantID, ProfileFilter{GroupIDs: chain})
		if err != nil {
			return err
		}
		isAvailable := make(map[int64]bool, len(available))
		for _, p := range available {
			isAvailable[p.ID] = true
		}
		var v Validation
		for i, id := range enabled {
			if !isAvailable[id] {
				v.Add("enabled", "item %d: profile %d is not a group profile available to %s (home group and the groups above it)", i, id, u.Username)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		oldOff, err := tx.DisabledGroupProfiles(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		wasOff := make(map[int64]bool, len(oldOff))
		for _, id := range oldOff {
			wasOff[id] = true
		}
		isOn := make(map[int64]bool, len(enabled))
		for _, id := range enabled {
			isOn[id] = true
		}
		// Switch-offs of profiles of other groups (from before a move) are
		// kept: they apply again if the user comes back.
		var off []int64
		var beforeOn, afterOn []int64
		for _, p := range available {
			if !wasOff[p.ID] {
				beforeOn = append(beforeOn, p.ID)
			}
			if isOn[p.ID] {
				afterOn = append(afterOn, p.ID)
			} else {
				off = append(off, p.ID)
			}
		}
		for _, id := range oldOff {
			if !isAvailable[id] {
				off = append(off, id)
			}
		}
		if err := tx.SetDisabledGroupProfiles(ctx, a.TenantID, userID, off); err != nil {
			return err
		}
		if !slices.Equal(beforeOn, afterOn) {
			if u.UpdatedAt, err = s.touch(ctx, tx, KindUser, u.TenantID, userID, u.UpdatedAt); err != nil { // versions.go
				return err
			}
			if err := s.audit(ctx, tx, a, "user.group_profiles.set", "user", userID,
				map[string]any{"enabled": nonNil(beforeOn)}, map[string]any{"enabled": nonNil(afterOn)}); err != nil {
				return err
			}
		}
		return s.fillUserDetails(ctx, tx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// ProfileChange is what moving a user to another group does to their
// available group profiles.
type ProfileChange struct {
	Gained []UserProfile `json:"gained"`
	Lost   []UserProfile `json:"lost"`
}

// Changed reports whether the available profiles differ.
func (c *ProfileChange) Changed() bool { return len(c.Gained) > 0 || len(c.Lost) > 0 }

func profileNames(ps []UserProfile, none string) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = strconv.Quote(p.Name)
	}
	if len(n) == 0 {
		return none
	}
	return strings.Join(n, ", ")
}

// ProfilesChangedByMove compares the group profiles available to a user in
// oldGroup with those in newGroup (each group and its ancestors). The move
// (users.go) calls it in its transaction; personal profiles never change.
func (s *Service) ProfilesChangedByMove(ctx context.Context, tx Tx, u *User, oldGroupID, newGroupID int64) (*ProfileChange, error) {
	c := &ProfileChange{Gained: []UserProfile{}, Lost: []UserProfile{}}
	if oldGroupID == newGroupID {
		return c, nil
	}
	oldChain, err := tx.GroupChain(ctx, u.TenantID, oldGroupID)
	if err != nil {
		return nil, err
	}
	newChain, err := tx.GroupChain(ctx, u.TenantID, newGroupID)
	if err != nil {
		return nil, err
	}
	before, err := userProfiles(ctx, tx, u.TenantID, u.ID, oldChain)
	if err != nil {
		return nil, err
	}
	after, err := userProfiles(ctx, tx, u.TenantID, u.ID, newChain)
	if err != nil {
		return nil, err
	}
	has := func(ps []UserProfile, id int64) bool {
		return slices.ContainsFunc(ps, func(p UserProfile) bool { return p.ID == id })
	}
	for _, p := range after {
		if p.Kind == ProfileGroup && !has(before, p.ID) {
			c.Gained = append(c.Gained, p)
		}
	}
	for _, p := range before {
		if p.Kind == ProfileGroup && !has(after, p.ID) {
			c.Lost = append(c.Lost, p)
		}
	}
	return c, nil
}

// warnProfilesChanged is called by the move (moves.go) in its transaction,
// with u already in the new group: when the available group profiles
// change, the answer carries a warning and the user gets a message through
// the outbox (seed 003: "you should always tell the user since the available
// profiles will change").
func (s *Service) warnProfilesChanged(ctx context.Context, tx Tx, a *Actor, u *User, oldGroupID int64) error {
	c, err := s.ProfilesChangedByMove(ctx, tx, u, oldGroupID, u.GroupID)
	if err != nil || !c.Changed() {
		return err
	}
	g, err := tx.Group(ctx, a.TenantID, u.GroupID)
	if err != nil {
		return err
	}
	t, err := tx.TenantByID(ctx, a.TenantID)
	if err != nil {
		return err
	}
	told := "; the user was not told (no email address or mobile number, or not active)"
	channel, recipient := ChannelEmail, u.Email
	if recipient == "" {
		channel, recipient = ChannelSMS, u.Mobile
	}
	if recipient != "" && u.Status == StatusActive {
		subject, text := profilesChangedMessage(u, g, t, c, channel)
		now := s.Now()
		m := &OutboxMessage{TenantID: a.TenantID, Channel: channel, Recipient: recipient, Language: u.Language,
			Kind: "profiles_changed", Ref: "user:" + strconv.FormatInt(u.ID, 10) + ":profiles", Subject: subject, Text: text,
			Status: OutboxPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := tx.EnqueueMessage(ctx, m); err != nil {
			return err
		}
		told = "; the user is told by " + channel
	}
	u.Warnings = append(u.Warnings, fmt.Sprintf("The group profiles available to %s changed: now also %s; no longer %s%s.",
		u.Username, profileNames(c.Gained, "none"), profileNames(c.Lost, "none"), told))
	return nil
}

// profilesChangedMessage is the message to a moved user, in their language.
func profilesChangedMessage(u *User, g *Group, t *Tenant, c *ProfileChange, channel string) (subject, text string) {
	name := cmp.Or(u.Name, u.Username)
	brand := cmp.Or(t.Settings.BrandingName, t.Name)
	if u.Language == "de" {
		subject = "Ihre Skill-Profile haben sich geändert"
		text = fmt.Sprintf("Hallo %s,\n\nSie sind jetzt in der Gruppe %q. Damit haben sich Ihre Gruppenprofile geändert.\nNeu: %s\nNicht mehr verfügbar: %s\n\n%s\n",
			name, g.Name, profileNames(c.Gained, "keine"), profileNames(c.Lost, "keine"), brand)
	} else {
		subject = "Your skill profiles changed"
		text = fmt.Sprintf("Hello %s,\n\nyou are now in the group %q, so the group profiles available to you changed.\nNew: %s\nNo longer available: %s\n\n%s\n",
			name, g.Name, profileNames(c.Gained, "none"), profileNames(c.Lost, "none"), brand)
	}
	if channel == ChannelSMS {
		text = subject + ": " + strings.ReplaceAll(strings.TrimSpace(text[strings.Index(text, "\n\n")+2:]), "\n", " ")
	}
	return subject, text
}
