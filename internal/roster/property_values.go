package roster

import (
	"context"
	"encoding/json"
	"strconv"
)

// Property values: set on a group (inherited down the tree) or a user, and
// the effective value that applies to each.

// PropertyValue is a value stored on one group or one user (the other id is 0).
type PropertyValue struct {
	PropertyID int64
	GroupID    int64
	UserID     int64
	Value      json.RawMessage
}

// Sources of an effective value.
const (
	SourceUser    = "user"
	SourceDefault = "default"
)

// SourceGroup names the group an effective value is inherited from.
func SourceGroup(id int64) string { return "group:" + strconv.FormatInt(id, 10) }

// EffectiveValue is the value that applies to a user or group, and where it
// comes from: "user" (set on the user), "group:ID" (set on that group, the
// nearest one up the tree that has it) or "default".
type EffectiveValue struct {
	Value  json.RawMessage `json:"value"`
	Source string          `json:"source"`
}

// GroupDetails is a group with the effective value of every property.
type GroupDetails struct {
	Group
	Properties map[string]EffectiveValue `json:"properties"`
}

// effectiveValues resolves every property: the user's own value first, then
// the nearest group of chain (home group first, then its ancestors) that has
// one, then the default. userVals is nil for a group.
func effectiveValues(props []Property, chain []int64, groupVals, userVals []PropertyValue) map[string]EffectiveValue {
	depth := make(map[int64]int, len(chain))
	for i, g := range chain {
		depth[g] = i
	}
	type pick struct {
		ev    EffectiveValue
		depth int // -1: user; len(chain): default
	}
	best := make(map[int64]pick, len(props))
	for _, p := range props {
		best[p.ID] = pick{EffectiveValue{p.Default, SourceDefault}, len(chain)}
	}
	for _, gv := range groupVals {
		d, ok := depth[gv.GroupID]
		if cur, known := best[gv.PropertyID]; ok && known && d < cur.depth {
			best[gv.PropertyID] = pick{EffectiveValue{gv.Value, SourceGroup(gv.GroupID)}, d}
		}
	}
	for _, uv := range userVals {
		if _, known := best[uv.PropertyID]; known {
			best[uv.PropertyID] = pick{EffectiveValue{uv.Value, SourceUser}, -1}
		}
	}
	out := make(map[string]EffectiveValue, len(props))
	for _, p := range props {
		out[p.Key] = best[p.ID].ev
	}
	return out
}

// groupProperties computes the effective values of a group.
func groupProperties(ctx context.Context, tx Reader, g *Group) (*GroupDetails, error) {
	chain, err := tx.GroupChain(ctx, g.TenantID, g.ID)
	if err != nil {
		return nil, err
	}
	props, err := tx.ListProperties(ctx, g.TenantID)
	if err != nil {
		return nil, err
	}
	vals, err := tx.GroupPropertyValues(ctx, g.TenantID, chain)
	if err != nil {
		return nil, err
	}
	return &GroupDetails{Group: *g, Properties: effectiveValues(props, chain, vals, nil)}, nil
}

// GroupProperties returns a group with the effective value of every property.
func (s *Service) GroupProperties(ctx context.Context, a *Actor, groupID int64) (*GroupDetails, error) {
	if err := a.require(PermUsersView, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	r := s.store.Read()
	g, err := r.Group(ctx, a.TenantID, groupID)
	if err != nil {
		return nil, err
	}
	if err := s.groupInScope(ctx, a, groupID, PermUsersView, PermGroupsManage, PermTeamView); err != nil {
		return nil, err
	}
	return groupProperties(ctx, r, g)
}

// SetGroupProperty sets a property's value on a group; its subgroups and
// users inherit it unless they set their own.
func (s *Service) SetGroupProperty(ctx context.Context, a *Actor, groupID int64, key string, value json.RawMessage) (*GroupDetails, error) {
	return s.changeGroupProperty(ctx, a, groupID, key, value, true)
}

// ClearGroupProperty removes a group's value: the group and whoever inherited
// from it fall back to the next group up, or the default.
func (s *Service) ClearGroupProperty(ctx context.Context, a *Actor, groupID int64, key string) (*GroupDetails, error) {
	return s.changeGroupProperty(ctx, a, groupID, key, nil, false)
}

func (s *Service) changeGroupProperty(ctx context.Context, a *Actor, groupID int64, key string, value json.RawMessage, set bool) (*GroupDetails, error) {
	if err := a.requireWrite(PermGroupsManage); err != nil {
		return nil, err
	}
	if len(value) > MaxValueBytes { // before the transaction
		return nil, s.reachableFirst(oneFieldError("value", "must be at most %d bytes of JSON", MaxValueBytes), func(r Reader) error {
			if _, err := r.Group(ctx, a.TenantID, groupID); err != nil {
				return err
			}
			return s.groupInScope(ctx, a, groupID, PermGroupsManage)
		})
	}
	var out *GroupDetails
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindGroup, a.TenantID, groupID); err != nil {
			return err
		}
		g, err := tx.Group(ctx, a.TenantID, groupID)
		if err != nil {
			return err
		}
		if err := s.groupInScope(ctx, a, groupID, PermGroupsManage); err != nil {
			return err
		}
		p, err := propertyForValue(ctx, tx, a.TenantID, key)
		if err != nil {
			return err
		}
		old, err := tx.GroupPropertyValues(ctx, a.TenantID, []int64{groupID})
		if err != nil {
			return err
		}
		before := valueOf(old, p.ID)
		var after json.RawMessage
		if set {
			val, msg := p.normalizeValue(value)
			if msg != "" {
				var v Validation
				v.Add("value", "%s (property %q is of type %s)", msg, p.Key, p.Type)
				return v.Err()
			}
			after = val
			if err := tx.SetGroupPropertyValue(ctx, a.TenantID, groupID, p.ID, val, s.Now()); err != nil {
				return err
			}
		} else if before != nil {
			if err := tx.DeleteGroupPropertyValue(ctx, a.TenantID, groupID, p.ID); err != nil {
				return err
			}
		}
		if set || before != nil {
			if g.UpdatedAt, err = s.touch(ctx, tx, KindGroup, g.TenantID, groupID, g.UpdatedAt); err != nil {
				return err
			}
			action := "group.property.set"
			if !set {
				action = "group.property.clear"
			}
			if err := s.audit(ctx, tx, a, action, "group", groupID,
				map[string]any{"property": key, "value": before}, map[string]any{"property": key, "value": after}); err != nil {
				return err
			}
		}
		out, err = groupProperties(ctx, tx, g)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// valueOf returns the value of property id in vals, nil when none.
func valueOf(vals []PropertyValue, id int64) json.RawMessage {
	for _, v := range vals {
		if v.PropertyID == id {
			return v.Value
		}
	}
	return nil
}

// SetUserProperty overrides a property for one user. The override is the
// user's own: it stays when the user moves to another group.
func (s *Service) SetUserProperty(ctx context.Context, a *Actor, userID int64, key string, value json.RawMessage) (*User, error) {
	return s.changeUserProperty(ctx, a, userID, key, value, true)
}

// ClearUserProperty removes a user's override: the value is inherited again.
func (s *Service) ClearUserProperty(ctx context.Context, a *Actor, userID int64, key string) (*User, error) {
	return s.changeUserProperty(ctx, a, userID, key, nil, false)
}

func (s *Service) changeUserProperty(ctx context.Context, a *Actor, userID int64, key string, value json.RawMessage, set bool) (*User, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	if len(value) > MaxValueBytes { // before the transaction
		return nil, s.reachableFirst(oneFieldError("value", "must be at most %d bytes of JSON", MaxValueBytes), s.userReachable(ctx, a, userID))
	}
	var u *User
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.checkVersion(ctx, tx, KindUser, a.TenantID, userID); err != nil {
			return err
		}
		var err error
		if u, err = tx.User(ctx, a.TenantID, userID); err != nil {
			return err
		}
		if err := s.userInScope(ctx, a, u, PermUsersManage); err != nil {
			return err
		}
		if err := s.actOn(ctx, tx, a, u); err != nil {
			return err
		}
		p, err := propertyForValue(ctx, tx, a.TenantID, key)
		if err != nil {
			return err
		}
		old, err := tx.UserPropertyValues(ctx, a.TenantID, userID)
		if err != nil {
			return err
		}
		before := valueOf(old, p.ID)
		var after json.RawMessage
		if set {
			val, msg := p.normalizeValue(value)
			if msg != "" {
				var v Validation
				v.Add("value", "%s (property %q is of type %s)", msg, p.Key, p.Type)
				return v.Err()
			}
			after = val
			if err := tx.SetUserPropertyValue(ctx, a.TenantID, userID, p.ID, val, s.Now()); err != nil {
				return err
			}
		} else if before != nil {
			if err := tx.DeleteUserPropertyValue(ctx, a.TenantID, userID, p.ID); err != nil {
				return err
			}
		}
		if set || before != nil {
			if u.UpdatedAt, err = s.touch(ctx, tx, KindUser, u.TenantID, userID, u.UpdatedAt); err != nil {
				return err
			}
			action := "user.property.set"
			if !set {
				action = "user.property.clear"
			}
			if err := s.audit(ctx, tx, a, action, "user", userID,
				map[string]any{"property": key, "value": before}, map[string]any{"property": key, "value": after}); err != nil {
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

// fillUserDetails computes what single-user reads show beyond the row: the
// effective value of every property and the available profiles. List pages
// leave them out (one user's details cost a handful of indexed queries).
func (s *Service) fillUserDetails(ctx context.Context, tx Reader, u *User) error {
	chain, err := tx.GroupChain(ctx, u.TenantID, u.GroupID)
	if err != nil {
		return err
	}
	props, err := tx.ListProperties(ctx, u.TenantID)
	if err != nil {
		return err
	}
	groupVals, err := tx.GroupPropertyValues(ctx, u.TenantID, chain)
	if err != nil {
		return err
	}
	userVals, err := tx.UserPropertyValues(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	u.Properties = effectiveValues(props, chain, groupVals, userVals)
	u.Profiles, err = userProfiles(ctx, tx, u.TenantID, u.ID, chain)
	return err
}
