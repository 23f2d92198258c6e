package console_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

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
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d", resp.StatusCode)
	}
	after, _ = a.svc.ListUsers(t.Context(), a.sys, roster.UserQuery{})
	if after.Total != before.Total+2 {
		t.Fatalf("users %d, want %d", after.Total, before.Total+2)
	}
}
