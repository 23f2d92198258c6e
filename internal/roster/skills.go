package roster

import (
	"context"
	"strings"
	"time"
)

// The tenant's skill catalogue: the skills profiles are made of.

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

// Skill levels.
const (
	MinSkillLevel = 1
	MaxSkillLevel = 100
)

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
		return nil, s.reachableFirst(err, func(r Reader) error { _, err := r.Skill(ctx, a.TenantID, id); return err })
	}
	var sk *Skill
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindSkill, a.TenantID, id); err != nil {
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
		if err := s.checkVersion(ctx, tx, KindSkill, a.TenantID, id); err != nil {
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
