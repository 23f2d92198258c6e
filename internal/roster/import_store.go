package roster

import "context"

// ImportReader and ImportTx hold the queries of bulk import and export
// (import*.go).
type ImportReader interface {
	// UsersByUsernames returns the tenant's users whose lower-case
	// usernames are among names, with roles, group access and agent IDs.
	UsersByUsernames(ctx context.Context, tenantID int64, names []string) ([]User, error)
	// UserHolders tells which users hold these emails and agent numbers.
	UserHolders(ctx context.Context, tenantID int64, emails []string, numbers []int64) (UserHolders, error)

	// AgentKeysByID names agent IDs by source and external id (export).
	AgentKeysByID(ctx context.Context, tenantID int64, ids []int64) (map[int64]AgentKey, error)

	// OpenImportJobs are the tenant's jobs that are not done, oldest first.
	OpenImportJobs(ctx context.Context, tenantID int64) ([]ImportJob, error)
}

// ImportTx holds the writes; a transaction has both.
type ImportTx interface {
	// CreateUsers inserts new users (CreateUser for many; the ids are
	// filled in), their roles and group access.
	CreateUsers(ctx context.Context, tenantID int64, users []*User) error
	// AddAudits adds many audit events.
	AddAudits(ctx context.Context, events []*AuditEvent) error
	// HoldAgentIDs gives unassigned agent IDs to users; a conflict when
	// one is held already.
	HoldAgentIDs(ctx context.Context, tenantID int64, holds []AgentHold) error

	CreateImportJob(ctx context.Context, j *ImportJob) error
	// LockImportJob reads a job and locks it until the transaction ends.
	LockImportJob(ctx context.Context, tenantID, id int64) (*ImportJob, error)
	// UpdateImportJob stores a job's state, counts and updated_at.
	UpdateImportJob(ctx context.Context, j *ImportJob) error
	// DeleteImportJob removes a job and its staged rows.
	DeleteImportJob(ctx context.Context, tenantID, id int64) error
	StageImportRows(ctx context.Context, tenantID, jobID int64, rows []StagedImportRow) error
	// StagedImportRows returns up to limit staged rows of a job after row
	// after, in row order.
	StagedImportRows(ctx context.Context, tenantID, jobID int64, after, limit int) ([]StagedImportRow, error)
	// DeleteStagedImportRows removes a job's staged rows after from, up to upTo.
	DeleteStagedImportRows(ctx context.Context, tenantID, jobID int64, from, upTo int) error
}

// UserHolders maps emails and agent numbers to the users holding them.
type UserHolders struct {
	Emails  map[string]int64
	Numbers map[int64]int64
}

// AgentHold gives agent ID AgentID to user UserID.
type AgentHold struct{ AgentID, UserID int64 }
