package roster

import (
	"context"
	"encoding/json"
	"time"
)

// ContactCentreReader and ContactCentreTx hold the queries of properties,
// skills, profiles and coaching plans.
type ContactCentreReader interface {
	ListProperties(ctx context.Context, tenantID int64) ([]Property, error)
	// PropertyValuesOf lists every group and user value of one property.
	PropertyValuesOf(ctx context.Context, tenantID, propertyID int64) ([]PropertyValue, error)

	// GroupChain returns groupID and its ancestors, nearest first.
	GroupChain(ctx context.Context, tenantID, groupID int64) ([]int64, error)
	GroupPropertyValues(ctx context.Context, tenantID int64, groupIDs []int64) ([]PropertyValue, error)
	UserPropertyValues(ctx context.Context, tenantID, userID int64) ([]PropertyValue, error)

	Skill(ctx context.Context, tenantID, id int64) (*Skill, error)
	ListSkills(ctx context.Context, tenantID int64) ([]Skill, error)
	// SkillUsage counts the profiles that use a skill.
	SkillUsage(ctx context.Context, tenantID, id int64) (int, error)

	Profile(ctx context.Context, tenantID, id int64) (*Profile, error)
	ListProfiles(ctx context.Context, tenantID int64, f ProfileFilter) ([]Profile, error)
	// DisabledGroupProfiles lists the group profiles the user switched off.
	DisabledGroupProfiles(ctx context.Context, tenantID, userID int64) ([]int64, error)
	// GroupProfileSwitchedOff lists the users who switched the group profile off.
	GroupProfileSwitchedOff(ctx context.Context, tenantID, profileID int64) ([]int64, error)

	// CoachingPlan and ListCoachingPlans return plans with their notes.
	CoachingPlan(ctx context.Context, tenantID, id int64) (*CoachingPlan, error)
	ListCoachingPlans(ctx context.Context, tenantID int64, f CoachingPlanFilter) ([]CoachingPlan, int, error)

	// My Team. TeamMembers is one page of a team by name, with roles and
	// group access.
	TeamMembers(ctx context.Context, tenantID int64, f TeamFilter) ([]User, int, error)
	AgentIDsOfUsers(ctx context.Context, tenantID int64, userIDs []int64) ([]AgentID, error)
	// AgentActivity counts the interactions of each agent ID that started
	// in [from, to), with the start of the latest.
	AgentActivity(ctx context.Context, tenantID int64, agentIDs []int64, from, to time.Time) ([]AgentActivity, error)
	// OpenCoachingPlans lists the plans of the users that are not done, with notes.
	OpenCoachingPlans(ctx context.Context, tenantID int64, userIDs []int64) ([]CoachingPlan, error)
}

// ContactCentreTx holds the writes; a transaction has both.
type ContactCentreTx interface {
	CreateProperty(ctx context.Context, p *Property) error
	UpdateProperty(ctx context.Context, p *Property) error
	DeleteProperty(ctx context.Context, tenantID, id int64) error

	SetGroupPropertyValue(ctx context.Context, tenantID, groupID, propertyID int64, value json.RawMessage, at time.Time) error
	DeleteGroupPropertyValue(ctx context.Context, tenantID, groupID, propertyID int64) error
	SetUserPropertyValue(ctx context.Context, tenantID, userID, propertyID int64, value json.RawMessage, at time.Time) error
	DeleteUserPropertyValue(ctx context.Context, tenantID, userID, propertyID int64) error

	CreateSkill(ctx context.Context, s *Skill) error
	UpdateSkill(ctx context.Context, s *Skill) error
	DeleteSkill(ctx context.Context, tenantID, id int64) error

	// CreateProfile and UpdateProfile store the profile with its skills.
	CreateProfile(ctx context.Context, p *Profile) error
	UpdateProfile(ctx context.Context, p *Profile) error
	DeleteProfile(ctx context.Context, tenantID, id int64) error
	SetDisabledGroupProfiles(ctx context.Context, tenantID, userID int64, profileIDs []int64) error

	CreateCoachingPlan(ctx context.Context, p *CoachingPlan) error
	UpdateCoachingPlan(ctx context.Context, p *CoachingPlan) error
	AddCoachingNote(ctx context.Context, n *CoachingNote) error
}
