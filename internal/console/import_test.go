package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// upload posts a CSV file to the import page the way a browser does.
func (c *client) upload(file, mode string) (*http.Response, string) {
	c.t.Helper()
	tok := c.csrf("/users/import")
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", tok)
	mw.WriteField("mode", mode)
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/users/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var uploadKey = regexp.MustCompile(`name="upload" value="([0-9a-f]{32})"`)

// TestConsoleImport: a file with a bad row is previewed with the problem
// at its row and column and nothing written; the fixed file is previewed
// with its counts, then imported; another admin cannot run the first
// admin's waiting upload.
func TestConsoleImport(t *testing.T) {
	a := newApp(t)
	a.user("admin", roster.RoleAdmin)
	a.user("other", roster.RoleAdmin)
	c := a.client()
	c.signIn("admin")
	if _, body := c.get("/users"); !strings.Contains(body, `href="/users/import"`) {
		t.Fatalf("the users list has no import link")
	}
	before, _ := a.svc.ListUsers(t.Context(), a.sys, roster.UserQuery{})
	bad := "username,email,group,roles\nnina,nina@example.com,Acme Ltd,agent\nolaf,olaf@,Acme Ltd,agent\n"
	resp, body := c.upload(bad, "create")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="import-errors"`) || !strings.Contains(body, "<td>3</td><td>email</td>") ||
		!strings.Contains(body, `class="has-error" title="is not a valid email address">olaf@`) || uploadKey.MatchString(body) {
		t.Fatalf("preview of a bad file: %d %s", resp.StatusCode, body)
	}
	good := strings.Replace(bad, "olaf@,", "olaf@example.com,", 1)
	_, body = c.upload(good, "create")
	m := uploadKey.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "This import will create 2, update 0") || !strings.Contains(body, "<td>nina</td>") {
		t.Fatalf("preview of a good file: %s", body)
	}
	after, _ := a.svc.ListUsers(t.Context(), a.sys, roster.UserQuery{})
	if after.Total != before.Total {
		t.Fatalf("a preview wrote users")
	}
	o := a.client()
	o.signIn("other")
	if resp, _ := o.post("/users/import/run", url.Values{"csrf": {o.csrf("/users/import")}, "upload": {m[1]}, "mode": {"create"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("another admin ran the upload: %d", resp.StatusCode)
	}
	resp, _ = c.post("/users/import/run", url.Values{"csrf": {c.csrf("/users/import")}, "upload": {m[1]}, "mode": {"create"}, "name": {"people.csv"}})
	progress := "/users/import/progress?run=" + m[1]
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != progress {
		t.Fatalf("import: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The import runs in the background; its progress is the starter's alone.
	if resp, _ := o.get("/users/import/progress.json?run=" + m[1]); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another admin reads the progress: %d", resp.StatusCode)
	}
	var last struct {
		Stage       string
		Rows, Total int
		Percent     int
		Done        bool
	}
	for deadline := time.Now().Add(30 * time.Second); !last.Done; {
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %+v", last)
		}
		resp, body := c.get("/users/import/progress.json?run=" + m[1])
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &last) != nil || last.Total != 2 {
			t.Fatalf("progress: %d %s", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if last.Percent != 100 || last.Rows != 2 || last.Stage != "written" {
		t.Errorf("the finished import's progress: %+v", last)
	}
	if resp, _ := c.get(progress); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/users" {
		t.Fatalf("the finished import's page: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	after, _ = a.svc.ListUsers(t.Context(), a.sys, roster.UserQuery{})
	if after.Total != before.Total+2 {
		t.Fatalf("users %d, want %d", after.Total, before.Total+2)
	}
}
