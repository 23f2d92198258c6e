package roster

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds of every list and string the core accepts (docs/rules.md, "Bounds").
// Each is checked before any other work on the field and before a write
// transaction begins: a hostile request costs what its bound allows, never
// what its size would, and never holds the database's write lock.
const (
	MaxUsernameLen    = 64
	MaxUserNameLen    = 200 // a person's display name
	MaxEmailLen       = 254 // RFC 5321's path limit
	MaxPhoneInputLen  = 40  // a typed number with spaces and dashes; 15 digits in E.164
	MaxLanguageLen    = 16
	MaxUserRoles      = 50
	MaxRoleKeyLen     = 40
	MaxNicknames      = 20
	MaxNicknameLen    = 64
	MaxGroupAccess    = 1000
	MaxAgentIDsOfUser = 100
	MaxAgentSourceLen = 32
	MaxAgentExtIDLen  = 200

	MaxRoleNameLen        = 100
	MaxRoleDescriptionLen = 500
	MaxRolePermissions    = 100
	MaxAssignableRoles    = 50
	MaxPermissionLen      = 64

	MaxGroupNameLen = 100

	MaxPropertyLabelLen = 100
	MaxChoices          = 100
	MaxChoiceLen        = 100
	MaxValueBytes       = 16 << 10 // a property value or default as JSON: 1000 characters, escaped

	MaxSkillNameLen     = 100
	MaxProfileNameLen   = 100
	MaxProfileSkills    = 200
	MaxEnabledProfiles  = 500
	MaxPlanTitleLen     = 200
	MaxPlanGoalsLen     = 4000
	MaxPlanNoteLen      = 4000
	maxFieldErrors      = 100 // problems listed in one answer; the rest are counted
	maxEchoedInputBytes = 80  // how much of a bad value an error message quotes
)

// tooMany records that a list is longer than its bound; the caller then
// skips the items, so the work stays bounded.
func tooMany(v *Validation, field string, n, max int, what string) bool {
	if n <= max {
		return false
	}
	v.Add(field, "at most %d %s (got %d)", max, what, n)
	return true
}

// runeLen is the length of s in characters, counting at most limit+1 of them:
// a megabyte of text costs no more to refuse than a short one.
func runeLen(s string, limit int) int {
	if len(s) <= limit {
		return utf8.RuneCountInString(s)
	}
	if len(s) > 4*(limit+1) { // more than limit characters of four bytes
		return limit + 1
	}
	return utf8.RuneCountInString(s)
}

// tooLong reports whether s is longer than max characters.
func tooLong(s string, max int) bool { return runeLen(s, max) > max }

// echo quotes a bad value in a message, shortened.
func echo(s string) string {
	if len(s) > maxEchoedInputBytes {
		cut := maxEchoedInputBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// foldKey is the key of a case-insensitive duplicate check.
func foldKey(s string) string { return strings.ToLower(s) }

// checkRoleBounds refuses a role input past its bounds before anything else
// looks at it; the role's own rules come after.
func checkRoleBounds(in RoleInput) error {
	var v Validation
	if len(in.Key.V) > MaxRoleKeyLen {
		v.Add("key", "must be 2 to %d characters of a-z, 0-9 and _, starting with a letter", MaxRoleKeyLen)
	}
	if tooLong(strings.TrimSpace(in.Name.V), MaxRoleNameLen) {
		v.Add("name", "must be 1 to %d characters", MaxRoleNameLen)
	}
	if tooLong(strings.TrimSpace(in.Description.V), MaxRoleDescriptionLen) {
		v.Add("description", "must be at most %d characters", MaxRoleDescriptionLen)
	}
	if len(in.Scope.V) > MaxPermissionLen {
		v.Add("scope", "must be one of tenant, groups, self")
	}
	if !tooMany(&v, "assignable_roles", len(in.AssignableRoles.V), MaxAssignableRoles, "roles") {
		for i, k := range in.AssignableRoles.V {
			if len(k) > MaxRoleKeyLen {
				v.Add("assignable_roles", "item %d: no role with the key %s", i, echo(k))
			}
		}
	}
	if !tooMany(&v, "permissions", len(in.Permissions.V), MaxRolePermissions, "permissions") {
		for i, p := range in.Permissions.V {
			if len(p) > MaxPermissionLen {
				v.Add("permissions", "item %d: %s is not a permission; see GET /api/v1/permissions", i, echo(p))
			}
		}
	}
	return v.Err()
}
