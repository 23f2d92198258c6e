package roster

import (
	"context"
	"slices"
	"strings"
)

// The profiles a user has: their group profiles (switched on or off one by
// one) and their personal ones.

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

// userProfiles computes the profiles a user has: the group profiles of the
// home group and its ancestors (chain), each on unless the user switched it
// off, and the user's personal profiles.
func userProfiles(ctx context.Context, tx Reader, tenantID, userID int64, chain []int64) ([]UserProfile, error) {
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
			if u.UpdatedAt, err = s.touch(ctx, tx, KindUser, u.TenantID, userID, u.UpdatedAt); err != nil {
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
