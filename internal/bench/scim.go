package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/store"
)

// The SCIM benchmark: filter and page requests as identity providers send
// them, through the SCIM door's handler in-process (parse, translate, SQL,
// render), on the directory dataset's measured tenant.

// SCIMScenario is one SCIM request.
type SCIMScenario struct {
	Key, Label string
	Path       string // under /scim/v2, with its query
	// Walk, when set, are the paths of pages read one after another (Path
	// is the first): the load tool sends them in this order.
	Walk []string
}

// PrepareSCIM gives the measured tenant's users external ids (ext-ID), as
// provisioned users have, once; then refreshes the statistics.
func PrepareSCIM(ctx context.Context, db *store.DB, ds *Dataset) error {
	sqldb := db.SQL()
	q := `UPDATE users SET external_id = 'ext-' || id WHERE tenant_id = ? AND external_id = ''`
	analyze := `ANALYZE`
	if db.Dialect() == store.Postgres {
		q = `UPDATE users SET external_id = 'ext-' || id WHERE tenant_id = $1 AND external_id = ''`
		analyze = `VACUUM (ANALYZE) users` // also empties the trigram index's pending list
	}
	res, err := sqldb.ExecContext(ctx, q, ds.TenantIDs[0])
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	_, err = sqldb.ExecContext(ctx, analyze)
	return err
}

// SCIMScenarios are the measured requests; the values are taken from a user
// in the middle of the tenant.
func SCIMScenarios(ctx context.Context, db *store.DB, ds *Dataset) ([]SCIMScenario, error) {
	tid := ds.TenantIDs[0]
	var id int64
	var username, email, name string
	q := `SELECT id, username, email, name FROM users WHERE tenant_id = ? AND email <> '' ORDER BY id LIMIT 1 OFFSET ?`
	if db.Dialect() == store.Postgres {
		q = `SELECT id, username, email, name FROM users WHERE tenant_id = $1 AND email <> '' ORDER BY id LIMIT 1 OFFSET $2`
	}
	if err := db.SQL().QueryRowContext(ctx, q, tid, ds.UsersPerTenant/2).Scan(&id, &username, &email, &name); err != nil {
		return nil, fmt.Errorf("bench: a user to look up: %w", err)
	}
	var group string
	gq := `SELECT name FROM org_groups WHERE tenant_id = ? ORDER BY id DESC LIMIT 1`
	if db.Dialect() == store.Postgres {
		gq = `SELECT name FROM org_groups WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`
	}
	if err := db.SQL().QueryRowContext(ctx, gq, tid).Scan(&group); err != nil {
		return nil, fmt.Errorf("bench: a group to look up: %w", err)
	}
	f := func(filter string) string { return url.QueryEscape(filter) }
	middle := ds.UsersPerTenant/2 + 1
	var walk []string
	for start := middle; start < ds.UsersPerTenant && len(walk) < 500; start += 100 {
		walk = append(walk, fmt.Sprintf("/Users?startIndex=%d&count=100", start))
	}
	return []SCIMScenario{
		{"username_eq", "Okta's lookup: userName eq", "/Users?filter=" + f(`userName eq "`+username+`"`) + "&startIndex=1&count=100", nil},
		{"externalid_eq", "Entra's lookup: externalId eq", "/Users?filter=" + f(fmt.Sprintf(`externalId eq "ext-%d"`, id)), nil},
		{"email_eq", "emails[type eq \"work\"].value eq", "/Users?filter=" + f(`emails[type eq "work"].value eq "`+email+`"`), nil},
		{"displayname_eq", "displayName eq", "/Users?filter=" + f(`displayName eq "`+name+`"`), nil},
		{"username_eq_active", "userName eq and active eq true", "/Users?filter=" + f(`userName eq "`+username+`" and active eq true`), nil},
		{"username_sw", "userName sw (7 chars), first 100", "/Users?filter=" + f(`userName sw "`+username[:7]+`"`) + "&count=100", nil},
		{"email_co", "emails co (7 chars), first 100", "/Users?filter=" + f(`emails co "`+username[:7]+`"`) + "&count=100", nil},
		{"or_eq", "userName eq or externalId eq", "/Users?filter=" + f(`userName eq "`+username+`" or externalId eq "ext-1"`), nil},
		{"page_first", "no filter, first 100", "/Users?startIndex=1&count=100", nil},
		{"page_middle", "no filter, 100 from the middle", fmt.Sprintf("/Users?startIndex=%d&count=100", middle), nil},
		{"page_walk", "no filter, pages of 100 one after another from the middle", walk[0], walk},
		{"sort_username", "sortBy=userName, first 100", "/Users?sortBy=userName&count=100", nil},
		{"total_only", "count=0 (the total)", "/Users?count=0", nil},
		{"group_eq", "Groups: displayName eq, excludedAttributes=members", "/Groups?excludedAttributes=members&filter=" + f(`displayName eq "`+group+`"`), nil},
	}, nil
}

// SCIMResult is one scenario's latencies.
type SCIMResult struct {
	SCIMScenario
	Total, Items  int
	P50, P95, P99 time.Duration
}

// SCIMHandler serves the SCIM door with an admin token of the measured tenant.
func SCIMHandler(ctx context.Context, svc *roster.Service, ds *Dataset) (http.Handler, string, error) {
	_, secret, err := svc.CreateToken(ctx, roster.SystemActor(ds.TenantIDs[0]), roster.TokenInput{Name: fmt.Sprintf("bench scim %d", time.Now().UnixNano()), Role: roster.RoleAdmin})
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	scim.New(svc, slog.New(slog.DiscardHandler), scim.Options{}).Register(mux)
	return mux, secret, nil
}

// SCIMRequest sends one GET to the SCIM door and returns the status and body.
func SCIMRequest(h http.Handler, token, path string) (int, []byte) {
	req := httptest.NewRequest("GET", scim.Base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

// MeasureSCIM sends the scenario's request reps times (after five warm-up
// runs), one at a time.
func MeasureSCIM(h http.Handler, token string, sc SCIMScenario, reps int) (SCIMResult, error) {
	r := SCIMResult{SCIMScenario: sc}
	samples := make([]time.Duration, 0, reps)
	for i := range reps + 5 {
		t0 := time.Now()
		status, body := SCIMRequest(h, token, sc.Path)
		d := time.Since(t0)
		if status != http.StatusOK {
			return r, fmt.Errorf("%s: %d %s", sc.Key, status, body)
		}
		if i >= 5 {
			samples = append(samples, d)
		}
		if i == 0 {
			var list struct {
				Total     int               `json:"totalResults"`
				Resources []json.RawMessage `json:"Resources"`
			}
			if err := json.Unmarshal(body, &list); err != nil {
				return r, err
			}
			r.Total, r.Items = list.Total, len(list.Resources)
		}
	}
	r.P50, r.P95, r.P99 = Percentile(samples, 50), Percentile(samples, 95), Percentile(samples, 99)
	return r, nil
}
