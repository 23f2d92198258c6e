package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// An import started from the console runs in the background, so a large
// file does not hold the request open: the page shows a progress bar that
// polls GET /users/import/progress.json (the page works without script:
// reloading it shows the progress, and the result once done). The runs are
// this process's; a run the process did not finish is an interrupted job
// in the database, which `roster user import --resume` finishes.

// importRuns are the console's imports of this process, by upload key.
type importRuns struct {
	mu   sync.Mutex
	runs map[string]*importRun
}

// importRun is one import and how far it got.
type importRun struct {
	owner    string // who started it: only they see it
	fileName string
	total    int // data rows in the file (lines after the header)

	mu       sync.Mutex
	stage    string // "checked", "staged", "written"
	rows     int
	done     bool
	report   *roster.ImportReport
	err      error
	finished time.Time
}

// importProgress is the progress as the page's script reads it.
type importProgress struct {
	Stage   string `json:"stage"`
	Label   string `json:"label"` // the stage in words
	Rows    int    `json:"rows"`
	Total   int    `json:"total"`
	Percent int    `json:"percent"` // of the whole import: checking, staging and writing
	Done    bool   `json:"done"`
}

// importStages weigh the stages in the bar: checking and writing take
// most of the time.
var importStages = []struct{ key, label string }{
	{"checked", "Checking rows"},
	{"staged", "Preparing rows"},
	{"written", "Writing users"},
}

func (run *importRun) progress() importProgress {
	run.mu.Lock()
	defer run.mu.Unlock()
	p := importProgress{Stage: run.stage, Label: "Starting", Rows: run.rows, Total: run.total, Done: run.done}
	for i, st := range importStages {
		if st.key != run.stage {
			continue
		}
		p.Label = st.label
		frac := 1.0
		if run.total > 0 {
			frac = min(float64(run.rows)/float64(run.total), 1)
		}
		p.Percent = int((float64(i) + frac) * 100 / float64(len(importStages)))
	}
	if run.done {
		p.Percent, p.Label = 100, "Done"
	}
	return p
}

func ownerOf(a *roster.Actor) string { return fmt.Sprintf("%d/%s/%d", a.TenantID, a.Kind, a.ID) }

// start runs the import of f in the background under key; f is closed and
// the upload at path removed when it ends.
func (s *Server) startImport(ctx context.Context, a *roster.Actor, key, path, fileName string, f *os.File, opts roster.ImportOptions) (*importRun, error) {
	total, err := roster.CountImportRows(f)
	if err != nil {
		return nil, err
	}
	run := &importRun{owner: ownerOf(a), fileName: fileName, total: total}
	opts.Progress = func(stage string, rows int) {
		run.mu.Lock()
		run.stage, run.rows = stage, rows
		run.mu.Unlock()
	}
	s.imports.mu.Lock()
	if s.imports.runs == nil {
		s.imports.runs = map[string]*importRun{}
	}
	for k, old := range s.imports.runs { // finished runs are kept an hour for their page
		old.mu.Lock()
		if old.done && time.Since(old.finished) > time.Hour {
			delete(s.imports.runs, k)
		}
		old.mu.Unlock()
	}
	s.imports.runs[key] = run
	s.imports.mu.Unlock()
	go func() {
		defer os.Remove(path)
		defer f.Close()
		// The import outlives the request: its values (the request id, for
		// the log and the audit events) but not its cancellation.
		ctx := context.WithoutCancel(ctx)
		rep, err := s.svc.ImportUsers(ctx, a, f, opts)
		if err != nil {
			s.log.ErrorContext(ctx, "console: import failed", "err", err)
		}
		run.mu.Lock()
		run.report, run.err, run.done, run.finished = rep, err, true, time.Now()
		run.mu.Unlock()
	}()
	return run, nil
}

// importRunOf is the run named by the request's "run", if it is the actor's.
func (s *Server) importRunOf(r *http.Request, a *roster.Actor) (*importRun, string, error) {
	key := r.URL.Query().Get("run")
	s.imports.mu.Lock()
	run := s.imports.runs[key]
	s.imports.mu.Unlock()
	if run == nil || run.owner != ownerOf(a) {
		return nil, key, roster.Errorf(roster.ENotFound, "this import is not running here; it may have finished over an hour ago — see the Users list or the audit log")
	}
	return run, key, nil
}

// importProgressPage shows the bar while the import runs; once it is done,
// it leads to the Users list with the counts, or shows what went wrong.
func (s *Server) importProgressPage(w http.ResponseWriter, r *http.Request, p *page) error {
	run, key, err := s.importRunOf(r, p.Actor)
	if err != nil {
		return err
	}
	prog := run.progress()
	if !prog.Done {
		p.Title, p.Section = p.T("Importing users"), "users"
		p.Data = map[string]any{"Progress": prog, "FileName": run.fileName, "Key": key}
		return s.show(w, r, "user_import_progress", p)
	}
	run.mu.Lock()
	rep, runErr := run.report, run.err
	run.mu.Unlock()
	if runErr != nil {
		return runErr
	}
	if rep.Failed == 0 {
		return s.redirect(w, r, "/users", fmt.Sprintf("Imported %s: created %d, updated %d, unchanged %d.",
			run.fileName, rep.Created, rep.Updated, rep.Unchanged))
	}
	d := &importData{Done: true, FileName: run.fileName, Report: rep} // the tenant changed since the preview
	p.Title, p.Section, p.Data = p.T("Import users"), "users", d
	return s.show(w, r, "user_import", p)
}

func (s *Server) importProgressJSON(w http.ResponseWriter, r *http.Request, p *page) error {
	run, _, err := s.importRunOf(r, p.Actor)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(run.progress())
}
