package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The OpenAPI document is checked by a real validator (kin-openapi, JSON
// Schema 2020-12 as OpenAPI 3.1 has it), and every exchange the tests of
// this package make through http.DefaultTransport is validated against it:
// requests that the server accepted (2xx, 304) must be valid requests, and
// every answer must be a documented status with a valid body and headers.
// A failure is the error of the test's own request, so it names the test.

var openAPI struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadValidatedOpenAPI() (*openapi3.T, routers.Router, error) {
	openAPI.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openAPIDocument)
		if err != nil {
			openAPI.err = fmt.Errorf("openapi.json does not load: %w", err)
			return
		}
		if err := doc.Validate(context.Background(), openapi3.EnableSchemaFormatValidation(), openapi3.EnableExamplesValidation()); err != nil {
			openAPI.err = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		doc.Servers = nil // match any host: the tests' servers listen on random ports
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			openAPI.err = fmt.Errorf("openapi.json routes: %w", err)
			return
		}
		openAPI.doc, openAPI.router = doc, router
	})
	return openAPI.doc, openAPI.router, openAPI.err
}

func TestOpenAPIValidDocument(t *testing.T) {
	doc, _, err := loadValidatedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json is %s, want 3.1", doc.OpenAPI)
	}
}

// validatingTransport checks each exchange under /api/ against the document.
type validatingTransport struct{ next http.RoundTripper }

// maxValidatedBody: larger (and unsized, streamed) request bodies are sent
// unread; the hostile-body tests send them on purpose.
const maxValidatedBody = 2 << 20

func (v validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return v.next.RoundTrip(req)
	}
	_, router, err := loadValidatedOpenAPI()
	if err != nil {
		return nil, err
	}
	var reqBody []byte
	bodyKnown := req.Body == nil || req.ContentLength >= 0 && req.ContentLength <= maxValidatedBody
	if req.Body != nil && bodyKnown {
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // a cut answer is the test's to judge
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return resp, nil // no such operation, and the server agrees
		}
		return nil, fmt.Errorf("openapi: %s %s answered %d but is not in openapi.json: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true,
		MultiError: true, SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020()}}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
	accepted := resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified
	if accepted && bodyKnown {
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			return nil, fmt.Errorf("openapi: the server accepted (%d) a request openapi.json calls invalid: %s %s: %v", resp.StatusCode, req.Method, req.URL, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		return nil, fmt.Errorf("openapi: %s %s answered %d, which openapi.json does not allow: %v\nbody: %.500s", req.Method, req.URL, resp.StatusCode, err, respBody)
	}
	return resp, nil
}

func TestMain(m *testing.M) {
	if _, _, err := loadValidatedOpenAPI(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.DefaultTransport = validatingTransport{next: http.DefaultTransport}
	os.Exit(m.Run())
}

// The validator fails an exchange the document does not allow: a body of
// the wrong shape, an undocumented status.
func TestOpenAPIValidatorRefuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/users/1" {
			_, _ = w.Write([]byte(`{"id":"one"}`))
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	for _, path := range []string{"/api/v1/users/1", "/api/v1/stats"} {
		resp, err := http.Get(srv.URL + path)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s: the validator let an answer through that openapi.json does not allow", path)
		} else if !strings.Contains(err.Error(), "openapi:") {
			t.Errorf("GET %s: %v", path, err)
		}
	}
}

// The query parameters each route reads are the ones its
// operation documents, no more and no fewer.
func TestOpenAPIQueryParameters(t *testing.T) {
	doc, _, err := loadValidatedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range New(nil, slog.New(slog.DiscardHandler)).Routes() {
		method, path, _ := strings.Cut(route, " ")
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s: no operation in openapi.json", route)
			continue
		}
		documented := map[string]bool{}
		for _, p := range append(item.Parameters, item.GetOperation(method).Parameters...) {
			if p.Value != nil && p.Value.In == "query" {
				documented[p.Value.Name] = true
			}
		}
		q := queries[route]
		reads := slices.Clone(q.params)
		if q.list {
			reads = append(reads, listParams...)
		}
		for _, name := range reads {
			if !documented[name] {
				t.Errorf("%s reads ?%s, which openapi.json does not document", route, name)
			}
			delete(documented, name)
		}
		for name := range documented {
			t.Errorf("openapi.json documents ?%s for %s, which the server refuses", name, route)
		}
	}
}
