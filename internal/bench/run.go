package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/roster-dev/roster/internal/roster"
)

// Bar is the directory's p95 target per page (DESIGN.md §4).
const Bar = 30 * time.Millisecond

// Scenario is one user list request, as a front door would make it.
type Scenario struct {
	Key   string // short name, usable as a sub-benchmark name
	Label string
	Query roster.UserQuery
}

// Substring searches: a surname fragment, a shorter one found in many
// names, a piece of an email address (first name, dot, surname start), and
// two letters, too short for a trigram index.
const (
	surnameFragment = "schm"
	shortFragment   = "son"
	emailFragment   = "julia.h"
	twoFragment     = "ma"
)

// Scenarios are the pages measured on the dataset's first tenant. Last and
// middle pages are found from the totals, so they hold at any size.
func Scenarios(ctx context.Context, svc *roster.Service, ds *Dataset, perPage int) ([]Scenario, error) {
	a := roster.SystemActor(ds.TenantIDs[0])
	groups, err := svc.ListGroups(ctx, a)
	if err != nil {
		return nil, err
	}
	var site *roster.Group
	for i := range groups {
		if groups[i].Level == 2 {
			site = &groups[i]
			break
		}
	}
	if site == nil {
		return nil, fmt.Errorf("bench: tenant %d has no level-2 group", ds.TenantIDs[0])
	}
	pp := strconv.Itoa(perPage)
	pages := func(q roster.UserQuery) (last, middle string, err error) {
		q.PerPage = pp
		p, err := svc.ListUsers(ctx, a, q)
		if err != nil {
			return "", "", err
		}
		n := max(1, (p.Total+perPage-1)/perPage)
		return strconv.Itoa(n), strconv.Itoa(max(1, n/2)), nil
	}
	lastAll, middleAll, err := pages(roster.UserQuery{})
	if err != nil {
		return nil, err
	}
	agents := roster.UserQuery{Role: roster.RoleAgent}
	_, middleAgents, err := pages(agents)
	if err != nil {
		return nil, err
	}
	active := roster.UserQuery{Status: roster.StatusActive, Sort: "name"}
	lastActive, middleActive, err := pages(active)
	if err != nil {
		return nil, err
	}
	siteLogins := roster.UserQuery{Group: strconv.FormatInt(site.ID, 10), Sort: "last_login_at", Order: "desc"}
	_, middleSite, err := pages(siteLogins)
	if err != nil {
		return nil, err
	}
	sc := []Scenario{
		{"name_first", "sort=name, first page", roster.UserQuery{}},
		{"name_last", "sort=name, last page (" + lastAll + ")", roster.UserQuery{Page: lastAll}},
		{"name_middle", "sort=name, middle page (" + middleAll + ")", roster.UserQuery{Page: middleAll}},
		{"active_name_first", "status=active, sort=name, first page", active},
		{"active_name_last", "status=active, sort=name, last page (" + lastActive + ")", withPage(active, lastActive)},
		{"username", "sort=username", roster.UserQuery{Sort: "username"}},
		{"email_desc", "sort=email desc", roster.UserQuery{Sort: "email", Order: "desc"}},
		{"last_login_desc", "sort=last_login_at desc", roster.UserQuery{Sort: "last_login_at", Order: "desc"}},
		{"last_login_middle", "sort=last_login_at, middle page (" + middleAll + ")", roster.UserQuery{Sort: "last_login_at", Page: middleAll}},
		{"active_last_login_middle", "status=active, sort=last_login_at desc, middle page (" + middleActive + ")",
			roster.UserQuery{Status: roster.StatusActive, Sort: "last_login_at", Order: "desc", Page: middleActive}},
		{"group", "sort=group", roster.UserQuery{Sort: "group"}},
		{"status", "sort=status", roster.UserQuery{Sort: "status"}},
		{"created_desc", "sort=created_at desc", roster.UserQuery{Sort: "created_at", Order: "desc"}},
		{"role_agent", "role=agent", agents},
		{"role_agent_middle", "role=agent, middle page (" + middleAgents + ")", withPage(agents, middleAgents)},
		{"group_subtree", "group=" + site.Name + " (level 2, subtree)", roster.UserQuery{Group: strconv.FormatInt(site.ID, 10)}},
		{"q_surname", "q=" + surnameFragment + " (surname fragment)", roster.UserQuery{Q: surnameFragment}},
		{"q_short", "q=" + shortFragment + " (3 characters)", roster.UserQuery{Q: shortFragment}},
		{"q_email", "q=" + emailFragment + " (email fragment)", roster.UserQuery{Q: emailFragment}},
		{"q_two", "q=" + twoFragment + " (2 characters: start of the name)", roster.UserQuery{Q: twoFragment}},
		{"q_email_last_login", "q=" + emailFragment + ", sort=last_login_at desc", roster.UserQuery{Q: emailFragment, Sort: "last_login_at", Order: "desc"}},
		{"group_last_login", "group=" + site.Name + ", sort=last_login_at desc", siteLogins},
		{"group_last_login_middle", "group=" + site.Name + ", sort=last_login_at desc, middle page (" + middleSite + ")", withPage(siteLogins, middleSite)},
		{"combined", "status=active, role=team_leader, sort=last_login_at desc", roster.UserQuery{
			Status: roster.StatusActive, Role: roster.RoleTeamLeader, Sort: "last_login_at", Order: "desc"}},
	}
	for i := range sc {
		sc[i].Query.PerPage = pp
	}
	return sc, nil
}

func withPage(q roster.UserQuery, page string) roster.UserQuery {
	q.Page = page
	return q
}

// Result is the measurement of one scenario.
type Result struct {
	Scenario
	Total, Items  int
	P50, P95, P99 time.Duration
}

// Measure runs the scenario reps times after a few warm-up runs, one request
// at a time, and returns the latency percentiles of a whole ListUsers call:
// the page, its total, and the roles and group access of its users.
func Measure(ctx context.Context, svc *roster.Service, tenantID int64, sc Scenario, reps int) (Result, error) {
	a := roster.SystemActor(tenantID)
	r := Result{Scenario: sc}
	samples := make([]time.Duration, 0, reps)
	for i := range reps + 5 {
		t0 := time.Now()
		p, err := svc.ListUsers(ctx, a, sc.Query)
		d := time.Since(t0)
		if err != nil {
			return r, fmt.Errorf("%s: %w", sc.Key, err)
		}
		if i >= 5 {
			samples = append(samples, d)
		}
		r.Total, r.Items = p.Total, len(p.Items)
	}
	r.P50, r.P95, r.P99 = Percentile(samples, 50), Percentile(samples, 95), Percentile(samples, 99)
	return r, nil
}

// Percentile returns the p-th percentile of samples by the nearest-rank
// method; samples are sorted in place.
func Percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	i := int(math.Ceil(p/100*float64(len(samples)))) - 1
	return samples[min(max(i, 0), len(samples)-1)]
}

// WriteTable prints results as a markdown table.
func WriteTable(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| scenario | total | rows | p50 ms | p95 ms | p99 ms | p95 ≤ 30 ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|:---:|")
	for _, r := range results {
		ok := "yes"
		if r.P95 > Bar {
			ok = "**no**"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s |\n", r.Label, r.Total, r.Items, msText(r.P50), msText(r.P95), msText(r.P99), ok)
	}
}

func msText(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}
