package roster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Bulk import of users from CSV (docs/architecture.md, "Bulk import"):
//
//  1. Every row is read and checked before anything is written, outside
//     any transaction: formats and bounds (checkUserInput, as for one
//     user), group paths, roles and the grant rule (one grantor for the
//     whole file), the actor's scope, duplicates inside the file and
//     against the database (looked up in batches). Every bad row is
//     reported; if there is one, nothing is written.
//  2. The checked rows are staged in import_rows under a job, in bounded
//     transactions; then merged into users in chunks of mergeChunk rows,
//     each chunk one short transaction that writes the users through the
//     same store paths as CreateUser and UpdateUser (so triggers keep the
//     decision index's change log), their audit events, and deletes its
//     staged rows and counts them on the job. A job that dies while staging
//     is rolled back by ResumeImports; one that dies while merging is
//     finished by it.

// ImportOptions configure an import.
type ImportOptions struct {
	Mode      string // ImportCreate (default) or ImportUpsert
	Invite    bool   // new users are invited (an invitation email each) instead of created active
	DryRun    bool   // check only; write nothing
	Delimiter rune   // ',' or ';'; 0: detected from the header
	// Progress, when set, is told how many rows are done of the stage
	// ("checked", "staged", "written").
	Progress func(stage string, rows int)
}

const (
	ImportCreate = "create"
	ImportUpsert = "upsert"
)

// ImportRowError is one problem of one row; row 1 is the header.
type ImportRowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func rowError(row int, field, format string, args ...any) ImportRowError {
	return ImportRowError{Row: row, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ImportReport is what an import did, or (dry run, or rows failed) would do.
type ImportReport struct {
	Created   int              `json:"created"`
	Updated   int              `json:"updated"`
	Unchanged int              `json:"unchanged"`
	Failed    int              `json:"failed"`
	Errors    []ImportRowError `json:"errors"`
	// ErrorsNotListed counts the problems past MaxImportErrors.
	ErrorsNotListed int   `json:"errors_not_listed,omitempty"`
	JobID           int64 `json:"job_id,omitempty"`
}

// MaxImportErrors is how many row problems a report lists.
const MaxImportErrors = 10_000

// importInvalid carries the problems of the header.
type importInvalid []ImportRowError

func (e importInvalid) Error() string { return "the file's header is not valid" }

// ImportUsers imports the users of a CSV file. A report with Failed > 0
// means nothing was written; err is for refusals and outages.
func (s *Service) ImportUsers(ctx context.Context, a *Actor, src io.Reader, opts ImportOptions) (*ImportReport, error) {
	if err := s.CheckImport(a, &opts); err != nil {
		return nil, err
	}
	var spool *os.File
	var w *bufio.Writer
	if !opts.DryRun {
		f, err := os.CreateTemp("", "roster-import-*.jsonl")
		if err != nil {
			return nil, fmt.Errorf("import: spool: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		spool, w = f, bufio.NewWriterSize(f, 256<<10)
	}
	c, err := s.newImportCheck(ctx, a, opts, w)
	if err != nil {
		return nil, err
	}
	rep, staged, err := c.run(ctx, src)
	if err == nil && rep.Failed > 0 {
		rep.Created, rep.Updated, rep.Unchanged = 0, 0, 0 // nothing is written
	}
	if err != nil || rep.Failed > 0 || opts.DryRun {
		return rep, err
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("import: spool: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("import: spool: %w", err)
	}
	job := &ImportJob{TenantID: a.TenantID, State: ImportStaging, Mode: opts.Mode, Invite: opts.Invite,
		ActorKind: a.Kind, ActorID: a.ID, ActorName: a.Name, Total: staged, Unchanged: rep.Unchanged}
	if err := s.stageImport(ctx, job, spool, opts.Progress); err != nil {
		return nil, err
	}
	if err := s.mergeImport(ctx, a, job, opts.Progress); err != nil {
		return nil, err
	}
	return &ImportReport{Created: job.Created, Updated: job.Updated, Unchanged: job.Unchanged, Errors: []ImportRowError{}, JobID: job.ID}, nil
}

// CheckImport makes the checks an import starts with (permissions and
// options), so a front door can refuse before it reads a body. It fills in
// the default mode.
func (s *Service) CheckImport(a *Actor, opts *ImportOptions) error {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return err
	}
	if opts.Invite {
		if err := a.requireWrite(PermUsersInvite); err != nil {
			return err
		}
	}
	if opts.Mode == "" {
		opts.Mode = ImportCreate
	}
	if opts.Mode != ImportCreate && opts.Mode != ImportUpsert {
		return badField("mode", "must be create or upsert")
	}
	if opts.Delimiter != 0 && opts.Delimiter != ',' && opts.Delimiter != ';' {
		return badField("delimiter", "must be , or ;")
	}
	return nil
}

// ImportJob is an import being written (import_jobs).
type ImportJob struct {
	ID        int64
	TenantID  int64
	State     string // ImportStaging, ImportMerging, ImportDone
	Mode      string
	Invite    bool
	ActorKind string
	ActorID   int64
	ActorName string
	Total     int // rows staged
	Created   int
	Updated   int
	Unchanged int
	MergedRow int // the last row merged
	CreatedAt time.Time
	UpdatedAt time.Time
}

const (
	ImportStaging = "staging"
	ImportMerging = "merging"
	ImportDone    = "done"
)

// StagedImportRow is one checked row waiting in import_rows.
type StagedImportRow struct {
	Row  int
	Data []byte // a stagedUser as JSON
}

// stagedUser is a checked row: the user to create (ID 0) or the fields of
// user ID that the file changes (nil: kept).
type stagedUser struct {
	Row         int         `json:"row"`
	ID          int64       `json:"id,omitempty"`
	Username    string      `json:"username"`
	Name        *string     `json:"name,omitempty"`
	Email       *string     `json:"email,omitempty"`
	Mobile      *string     `json:"mobile,omitempty"`
	Language    *string     `json:"language,omitempty"`
	GroupID     *int64      `json:"group_id,omitempty"`
	Roles       []string    `json:"roles,omitempty"`
	AgentNumber *int64      `json:"agent_number,omitempty"`
	NoNumber    bool        `json:"no_agent_number,omitempty"` // clears it
	Nicknames   *[]string   `json:"nicknames,omitempty"`
	RingTo      *string     `json:"ring_to,omitempty"`
	Scoring     *bool       `json:"scoring_enabled,omitempty"`
	Roaming     *bool       `json:"roaming,omitempty"`
	GroupAccess *[]int64    `json:"group_access,omitempty"`
	Agents      *[]AgentKey `json:"agent_ids,omitempty"`
}

// stageChunk rows go into one staging transaction.
const stageChunk = 5000

// stageImport records job and copies the spooled rows into import_rows in
// bounded transactions, then marks the job merging: from then on the rows
// are the database's, and ResumeImports can finish them.
func (s *Service) stageImport(ctx context.Context, job *ImportJob, spool io.Reader, progress func(string, int)) error {
	job.CreatedAt, job.UpdatedAt = s.Now(), s.Now()
	if err := s.inTx(ctx, func(tx Tx) error { return tx.CreateImportJob(ctx, job) }); err != nil {
		return err
	}
	sc := bufio.NewScanner(spool)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	batch := make([]StagedImportRow, 0, stageChunk)
	done := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.inTx(ctx, func(tx Tx) error { return tx.StageImportRows(ctx, job.TenantID, job.ID, batch) })
		done += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress("staged", done)
		}
		return err
	}
	for sc.Scan() {
		var head struct {
			Row int `json:"row"`
		}
		line := sc.Bytes()
		if err := json.Unmarshal(line, &head); err != nil {
			return fmt.Errorf("import: spool: %w", err)
		}
		batch = append(batch, StagedImportRow{Row: head.Row, Data: append([]byte(nil), line...)})
		if len(batch) == stageChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("import: spool: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	job.State = ImportMerging
	return s.inTx(ctx, func(tx Tx) error { return tx.UpdateImportJob(ctx, job) })
}

// ResumeImports finishes the tenant's interrupted imports: a job that was
// merging is merged to its end; one that was still staging (none of its
// users written) is rolled back. It returns the jobs it looked at.
func (s *Service) ResumeImports(ctx context.Context, a *Actor, progress func(string, int)) ([]ImportJob, error) {
	if err := a.requireWrite(PermUsersManage); err != nil {
		return nil, err
	}
	jobs, err := s.store.Read().OpenImportJobs(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	for i := range jobs {
		job := &jobs[i]
		if job.State == ImportStaging {
			if err := s.inTx(ctx, func(tx Tx) error { return tx.DeleteImportJob(ctx, job.TenantID, job.ID) }); err != nil {
				return jobs, err
			}
			continue
		}
		// The rows were checked with the grants of who started the import;
		// its events name them.
		by := &Actor{TenantID: job.TenantID, Kind: job.ActorKind, ID: job.ActorID, Name: job.ActorName, system: job.ActorKind == ActorSystem}
		if err := s.mergeImport(ctx, by, job, progress); err != nil {
			return jobs, err
		}
	}
	return jobs, nil
}
