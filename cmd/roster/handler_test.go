package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// serveLikeMain serves what serve serves, plus the test's routes on the
// same mux, behind the same middleware.
func serveLikeMain(t *testing.T, db *store.DB, extra func(mux *http.ServeMux)) *httptest.Server {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	svc := roster.NewService(db, roster.Options{Logger: log})
	h := newHandlers(Config{}, db, svc, log, prometheus.NewRegistry(), false)
	extra(h.mux)
	srv := httptest.NewServer(h.root)
	t.Cleanup(srv.Close)
	return srv
}

// A download that fails halfway must reach the client as a failed one, not
// as a clean 200 with half a file; what was flushed arrives before the end.
func TestAbortMidBodyReachesTheClient(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		firstPartRead := make(chan struct{})
		srv := serveLikeMain(t, db, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /test/export", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				_, _ = io.WriteString(w, "id,name\n1,Ada\n")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("flush through the middleware: %v", err)
				}
				<-firstPartRead
				_, _ = io.WriteString(w, "2,Bo")
				panic(http.ErrAbortHandler)
			})
			mux.HandleFunc("GET /test/flusher", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "part\n")
				f, ok := w.(http.Flusher)
				if !ok {
					t.Error("the middleware hides http.Flusher")
					return
				}
				f.Flush()
				<-firstPartRead
			})
			mux.HandleFunc("GET /test/panic-early", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
			mux.HandleFunc("GET /test/panic-late", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, strings.Repeat("x", 100))
				http.NewResponseController(w).Flush()
				panic("boom")
			})
		})

		resp, err := http.Get(srv.URL + "/test/export")
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for _, want := range []string{"id,name\n", "1,Ada\n"} {
			if line, err := br.ReadString('\n'); line != want || err != nil {
				t.Fatalf("flushed line = %q, %v; want %q", line, err, want)
			}
		}
		close(firstPartRead) // the handler goes on only once the client has the flushed part
		rest, err := io.ReadAll(br)
		resp.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("aborted answer read to the end as %q, err %v; want io.ErrUnexpectedEOF", rest, err)
		}

		resp, err = http.Get(srv.URL + "/test/flusher")
		if err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(resp.Body).ReadString('\n'); line != "part\n" {
			t.Fatalf("through http.Flusher: %q", line)
		}
		resp.Body.Close()

		resp, err = http.Get(srv.URL + "/test/panic-early")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("panic before the answer: %d, want 500", resp.StatusCode)
		}
		resp, err = http.Get(srv.URL + "/test/panic-late")
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("panic after the answer began: %d, %v; want the connection cut", resp.StatusCode, err)
		}

		metrics := get(t, srv.URL+"/metrics")
		for _, want := range []string{
			`roster_http_requests_total{code="aborted",route="GET /test/export"} 1`,
			`roster_http_requests_total{code="aborted",route="GET /test/panic-late"} 1`,
			`roster_http_requests_total{code="500",route="GET /test/panic-early"} 1`,
			`roster_http_requests_total{code="200",route="GET /test/flusher"} 1`,
			`roster_http_request_duration_seconds_bucket{route="GET /test/export",le="+Inf"} 1`,
			"go_goroutines ", "process_start_time_seconds ",
			`go_sql_max_open_connections{db_name="` + string(db.Dialect()) + `"}`,
			"roster_outbox_pending_messages 0", "roster_outbox_oldest_pending_age_seconds 0",
			`roster_decision_index_entries{kind="users"} 0`, "roster_decision_index_lag_seconds 0",
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if t.Failed() {
			t.Logf("/metrics:\n%s", metrics)
		}
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With --metrics-addr, /metrics is served there and only there.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--data", t.TempDir()}, &stdout, &stderr)
	}()
	urls := regexp.MustCompile(`(?m)^(?:Roster is listening on|Metrics at) (http://\S+)$`)
	deadline := time.Now().Add(20 * time.Second)
	var found [][]string
	for len(found) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		found = urls.FindAllStringSubmatch(stdout.String(), -1)
	}
	if len(found) < 2 {
		cancel()
		t.Fatalf("serve did not print both addresses:\n%s\n%s", stdout.String(), stderr.String())
	}
	metricsURL, mainURL := found[0][1], found[1][1]
	if !strings.HasSuffix(metricsURL, "/metrics") {
		metricsURL, mainURL = found[1][1], found[0][1]
	}
	get(t, mainURL+"/healthz")
	if body := get(t, metricsURL); !strings.Contains(body, `roster_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Errorf("metrics listener:\n%.3000s", body)
	}
	resp, err := http.Get(mainURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(b, []byte("roster_http_requests_total")) {
		t.Errorf("the main listener still serves the metrics (%d)", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
}
