package roster

import "time"

// Coaching plan statuses.
const (
	PlanOpen       = "open"
	PlanInProgress = "in_progress"
	PlanDone       = "done"
)

// PlanStatuses are the statuses of a coaching plan, in their usual order.
var PlanStatuses = []string{PlanOpen, PlanInProgress, PlanDone}

// CoachingPlan is an agent's development plan: goals, a status, a due date
// and timestamped notes. Agents keep their own; team leaders those of the
// agents in their groups; admins all.
type CoachingPlan struct {
	ID            int64          `json:"id"`
	TenantID      int64          `json:"-"`
	AgentUserID   int64          `json:"agent_user_id"`
	Title         string         `json:"title"`
	Goals         string         `json:"goals"`
	Status        string         `json:"status"`
	DueDate       *string        `json:"due_date"` // YYYY-MM-DD
	CreatedByKind string         `json:"created_by_kind"`
	CreatedByID   int64          `json:"created_by_id"`
	CreatedByName string         `json:"created_by"`
	Notes         []CoachingNote `json:"notes"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// CoachingNote is one timestamped note on a plan.
type CoachingNote struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"-"`
	PlanID     int64     `json:"-"`
	Text       string    `json:"text"`
	AuthorKind string    `json:"author_kind"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
}

// CoachingPlanInput creates or changes a plan. Note, when given, adds a
// timestamped note. The agent of a plan is fixed once created.
type CoachingPlanInput struct {
	AgentUserID Opt[int64]  `json:"agent_user_id"`
	Title       Opt[string] `json:"title"`
	Goals       Opt[string] `json:"goals"`
	Status      Opt[string] `json:"status"`
	DueDate     Opt[string] `json:"due_date"`
	Note        Opt[string] `json:"note"`
}

// CoachingPlanFilter selects plans. Scope nil: the whole tenant.
type CoachingPlanFilter struct {
	AgentUserID int64    // 0: any
	Statuses    []string // none: any
	Scope       *ScopeFilter
	Sort        string // "created_at" (default) or "due_date"
	Desc        bool
	Page        int
	PerPage     int
}

// CoachingPlanQuery is a plan list request as front doors receive it.
type CoachingPlanQuery struct {
	AgentUserID string
	Status      string // comma-separated
	Sort        string
	Order       string
	Page        string
	PerPage     string
}
