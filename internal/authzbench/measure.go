package authzbench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/api"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
)

// Latency summarises timed operations.
type Latency struct {
	N             int
	P50, P99, Max time.Duration
	Mean          time.Duration // wall time / N
	PerSecond     float64
}

// Summarise sorts samples and summarises them; wall is the time they took.
func Summarise(samples []time.Duration, wall time.Duration) Latency {
	l := Latency{N: len(samples)}
	if len(samples) == 0 {
		return l
	}
	slices.Sort(samples)
	pct := func(p float64) time.Duration {
		i := int(math.Ceil(p/100*float64(len(samples)))) - 1
		return samples[min(max(i, 0), len(samples)-1)]
	}
	l.P50, l.P99, l.Max = pct(50), pct(99), samples[len(samples)-1]
	l.Mean = wall / time.Duration(len(samples))
	l.PerSecond = float64(len(samples)) / wall.Seconds()
	return l
}

// checkPerms are the permissions the generated checks ask about.
var checkPerms = []string{roster.PermInsightsView, roster.PermTeamView, roster.PermSelfView, roster.PermUsersView}

// Checks returns n decision requests over the dataset: a third without a
// resource, a third about a group, a third about an agent ID.
func (ds *Dataset) Checks(n int) []roster.CheckInput {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]roster.CheckInput, n)
	for i := range out {
		in := roster.CheckInput{UserID: ds.Users[rng.IntN(len(ds.Users))], Permission: checkPerms[rng.IntN(len(checkPerms))]}
		switch i % 3 {
		case 1:
			in.GroupID = ds.Groups[rng.IntN(len(ds.Groups))]
		case 2:
			in.AgentID = ds.Agents[rng.IntN(len(ds.Agents))]
		}
		out[i] = in
	}
	return out
}

// Warm loads the tenant's partition of the decision index (the first check
// of a tenant reads it from the database) and returns how long that took.
func Warm(ctx context.Context, svc *roster.Service, ds *Dataset) (time.Duration, error) {
	t0 := time.Now()
	_, err := svc.Check(ctx, roster.SystemActor(ds.TenantID), roster.CheckInput{UserID: ds.Lead, Permission: roster.PermTeamView})
	return time.Since(t0), err
}

// CheckInProcess times n calls of the core's Check, one at a time: once
// with a clock read around each call (percentiles), once without (mean).
func CheckInProcess(ctx context.Context, svc *roster.Service, ds *Dataset, n int) (Latency, int, error) {
	a := roster.SystemActor(ds.TenantID)
	reqs := ds.Checks(n)
	allowed := 0
	samples := make([]time.Duration, n)
	for i, in := range reqs {
		t0 := time.Now()
		ok, err := svc.Check(ctx, a, in)
		samples[i] = time.Since(t0)
		if err != nil {
			return Latency{}, 0, err
		}
		if ok {
			allowed++
		}
	}
	t0 := time.Now()
	for _, in := range reqs {
		if _, err := svc.Check(ctx, a, in); err != nil {
			return Latency{}, 0, err
		}
	}
	return Summarise(samples, time.Since(t0)), allowed, nil
}

// ScopeInProcess times n scope calls for a user.
func ScopeInProcess(ctx context.Context, svc *roster.Service, ds *Dataset, user int64, n int) (Latency, int, error) {
	a := roster.SystemActor(ds.TenantID)
	samples := make([]time.Duration, n)
	agents := 0
	start := time.Now()
	for i := range samples {
		t0 := time.Now()
		v, err := svc.Scope(ctx, a, user, "")
		samples[i] = time.Since(t0)
		if err != nil {
			return Latency{}, 0, err
		}
		agents = len(v.AgentIDs)
	}
	return Summarise(samples, time.Since(start)), agents, nil
}

// Server is an HTTP server on a loopback port.
type Server struct {
	URL  string
	srv  *http.Server
	done chan struct{}
}

// Close stops the server.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}

func listen(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{})}
	go func() { defer close(s.done); _ = s.srv.Serve(ln) }()
	return s, nil
}

// StartRoster serves the REST API as `roster serve` does: the route table
// behind the metrics middleware.
func StartRoster(svc *roster.Service) (*Server, error) {
	log := slog.New(slog.DiscardHandler)
	metrics := api.NewMetrics(prometheus.NewRegistry())
	mux := http.NewServeMux()
	api.New(svc, log).Register(mux)
	return listen(metrics.Middleware(log, mux))
}

// StartBare serves the floor: a bare net/http handler that reads the body
// and answers what a check answers.
func StartBare() (*Server, error) {
	body := []byte(`{"allowed":true}` + "\n")
	return listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
}

// Request is one request of a load run.
type Request struct {
	Method, Path string
	Body         []byte
}

// CheckRequests turns decision requests into HTTP requests.
func CheckRequests(reqs []roster.CheckInput) []Request {
	out := make([]Request, len(reqs))
	for i, in := range reqs {
		b, _ := json.Marshal(in)
		out[i] = Request{"POST", "/api/v1/authz/check", b}
	}
	return out
}

// Run sends reqs (round robin) from clients concurrent clients for d after a
// warm-up, each waiting for its answer before the next request, and returns
// the latency of every measured request. Every answer must be 200.
func Run(ctx context.Context, baseURL, token string, reqs []Request, clients int, warmup, d time.Duration) ([]time.Duration, error) {
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	begin := time.Now()
	measureFrom, end := begin.Add(warmup), begin.Add(warmup+d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples := make([]time.Duration, 0, 1<<16)
			for i := c; ; i += clients {
				now := time.Now()
				if now.After(end) || ctx.Err() != nil {
					break
				}
				rq := reqs[i%len(reqs)]
				req, err := http.NewRequestWithContext(ctx, rq.Method, baseURL+rq.Path, bytes.NewReader(rq.Body))
				if err == nil {
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					var resp *http.Response
					if resp, err = client.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("%s %s: status %d", rq.Method, rq.Path, resp.StatusCode)
						}
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if now.After(measureFrom) {
					samples = append(samples, time.Since(now))
				}
			}
			mu.Lock()
			all = append(all, samples...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, firstErr
}

// IngestRows makes n interaction rows of the given number of agents (voice
// agent IDs of the unassigned pool), each working in one team as agents do,
// with external ids unique to the run.
func (ds *Dataset) IngestRows(n, agents int, run string) []json.RawMessage {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	// Spread over the hours before now, one per second (ingest refuses starts
	// more than a day ahead).
	start := time.Now().UTC().Add(-time.Duration(n)*time.Second - time.Hour)
	firstFree := 2 * len(ds.Users) // agent IDs past the held ones are unassigned voice IDs
	out := make([]json.RawMessage, n)
	for i := range out {
		agent := firstFree + rng.IntN(max(1, min(agents, ds.AgentIDs-firstFree)))
		b, _ := json.Marshal(map[string]any{
			"source": "voice", "external_id": fmt.Sprintf("%s-%d", run, i), "agent_external_id": fmt.Sprintf("%07d", agent),
			"agent_name": fmt.Sprintf("Agent %07d", agent), "group_id": ds.Groups[1+agent%(len(ds.Groups)-1)], "channel": "voice",
			"started_at": start.Add(time.Duration(i) * time.Second).Format(time.RFC3339), "duration_s": 30 + rng.IntN(600),
		})
		out[i] = b
	}
	return out
}

// Analyze refreshes the planner's statistics of the tables ingest reads and
// writes. PostgreSQL's autovacuum does this by itself; the test server runs
// without it, and a table that was never analyzed gets poor plans.
func Analyze(ctx context.Context, db *store.DB) error {
	if db.Dialect() != store.Postgres {
		return nil
	}
	_, err := db.SQL().ExecContext(ctx, `ANALYZE interactions, agent_ids`)
	return err
}

// Ingest stores rows through the core in batches, from clients goroutines
// at once (each takes the next batch), and returns rows per second.
func Ingest(ctx context.Context, svc *roster.Service, ds *Dataset, rows []json.RawMessage, batch, clients int) (float64, error) {
	a := roster.SystemActor(ds.TenantID)
	return inBatches(rows, batch, clients, func(part []json.RawMessage) error {
		res, err := svc.IngestInteractions(ctx, a, part)
		if err != nil {
			return err
		}
		if res.Rejected > 0 {
			return fmt.Errorf("ingest rejected %d rows: %+v", res.Rejected, res.Errors[0])
		}
		return nil
	})
}

// IngestHTTP posts rows to POST /api/v1/interactions/batch in batches from
// clients goroutines at once and returns rows per second (JSON on both sides
// included; the request bodies are made before the clock starts).
func IngestHTTP(ctx context.Context, baseURL, token string, rows []json.RawMessage, batch, clients int) (float64, error) {
	bodies := map[*json.RawMessage][]byte{}
	for r := rows; len(r) > 0; {
		part := r[:min(batch, len(r))]
		r = r[len(part):]
		b, err := json.Marshal(map[string]any{"interactions": part})
		if err != nil {
			return 0, err
		}
		bodies[&part[0]] = b
	}
	return inBatches(rows, batch, clients, func(part []json.RawMessage) error {
		req, err := http.NewRequestWithContext(ctx, "POST", baseURL+"/api/v1/interactions/batch", bytes.NewReader(bodies[&part[0]]))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var res roster.IngestResult
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || res.Rejected > 0 {
			return fmt.Errorf("ingest over HTTP: status %d, %+v, %v", resp.StatusCode, res, err)
		}
		return nil
	})
}

// inBatches hands rows, batch by batch, to clients goroutines calling send
// and returns rows per second over the whole run.
func inBatches(rows []json.RawMessage, batch, clients int, send func([]json.RawMessage) error) (float64, error) {
	parts := make(chan []json.RawMessage, len(rows)/max(batch, 1)+1)
	for r := rows; len(r) > 0; {
		part := r[:min(batch, len(r))]
		r = r[len(part):]
		parts <- part
	}
	close(parts)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	for range max(clients, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for part := range parts {
				if err := send(part); err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(len(rows)) / time.Since(t0).Seconds(), nil
}
