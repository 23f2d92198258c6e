package console

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// "Import users": upload a CSV, see the first rows and every problem by row
// and column (a dry run of the core's import), then import it. Between the
// preview and the import the file waits in a temporary file whose name binds
// it to the uploader; it is removed after the import, or after an hour.

const importFormLimit = 64 << 20 // as the API's import

type importData struct {
	Mode     string
	Invite   bool
	Upload   string // the waiting file's key
	FileName string
	Header   []string
	Rows     []importPreviewRow
	Report   *roster.ImportReport
	Done     bool
}

type importPreviewRow struct {
	Row   int
	Cells []importCell
}

type importCell struct {
	Text string
	Bad  string // the problem of this cell, if any
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title, p.Section, p.Data = p.T("Import users"), "users", &importData{Mode: roster.ImportCreate}
	return s.show(w, r, "user_import", p)
}

// uploadPath is where a waiting upload of the actor lives.
func uploadPath(a *roster.Actor, key string) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("roster-upload-%d-%s-%d-%s.csv", a.TenantID, a.Kind, a.ID, key))
}

func (s *Server) importPreview(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &importData{Mode: r.PostFormValue("mode"), Invite: r.PostFormValue("invite") == "on"}
	opts := roster.ImportOptions{Mode: d.Mode, Invite: d.Invite, DryRun: true}
	if err := s.svc.CheckImport(p.Actor, &opts); err != nil {
		return err
	}
	d.Mode = opts.Mode
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return roster.Errorf(roster.EInvalid, "choose a CSV file to import")
	}
	defer file.Close()
	removeStaleUploads()
	key := make([]byte, 16)
	rand.Read(key)
	d.Upload, d.FileName = hex.EncodeToString(key), hdr.Filename
	path := uploadPath(p.Actor, d.Upload)
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, file)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	if err := s.previewFile(r, p, d, path, opts); err != nil {
		os.Remove(path)
		return err
	}
	if d.Report.Failed > 0 {
		os.Remove(path) // it cannot be imported as it is
		d.Upload = ""
	}
	p.Title, p.Section, p.Data = p.T("Import users"), "users", d
	return s.show(w, r, "user_import", p)
}

// previewFile fills d with the file's first rows and the dry run's report,
// marking each cell a problem names.
func (s *Server) previewFile(r *http.Request, p *page, d *importData, path string, opts roster.ImportOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if d.Report, err = s.svc.ImportUsers(r.Context(), p.Actor, f, opts); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	header, rows, err := roster.PreviewCSV(f, 0, 20)
	if err != nil {
		return nil // the report says what is wrong with the header
	}
	d.Header = header
	bad := map[[2]string]string{}
	for _, e := range d.Report.Errors {
		bad[[2]string{fmt.Sprint(e.Row), e.Field}] = e.Message
	}
	for i, rec := range rows {
		row := importPreviewRow{Row: i + 2}
		for j, v := range rec {
			col := ""
			if j < len(header) {
				col = header[j]
			}
			row.Cells = append(row.Cells, importCell{Text: v, Bad: bad[[2]string{fmt.Sprint(row.Row), col}]})
		}
		d.Rows = append(d.Rows, row)
	}
	return nil
}

func (s *Server) importRun(w http.ResponseWriter, r *http.Request, p *page) error {
	key := r.PostFormValue("upload")
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		return roster.Errorf(roster.EInvalid, "the uploaded file is gone; upload it again")
	}
	path := uploadPath(p.Actor, key) // another user's key names another file
	f, err := os.Open(path)
	if err != nil {
		return roster.Errorf(roster.EInvalid, "the uploaded file is gone (files wait an hour); upload it again")
	}
	if _, err := s.startImport(r.Context(), p.Actor, key, path, r.PostFormValue("name"), f,
		roster.ImportOptions{Mode: r.PostFormValue("mode"), Invite: r.PostFormValue("invite") == "on"}); err != nil {
		f.Close()
		return err
	}
	// The import runs on; the progress page follows it.
	http.Redirect(w, r, "/users/import/progress?run="+key, http.StatusSeeOther)
	return nil
}

func removeStaleUploads() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "roster-upload-*.csv"))
	for _, path := range old {
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > time.Hour {
			os.Remove(path)
		}
	}
}
