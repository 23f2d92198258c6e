package roster_test

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// BenchmarkExport imports ROSTER_EXPORT_ROWS (default 20,000) users, then
// exports them three times through WriteUsersCSV (one streaming query) and
// reads them three times the way the export did before (pages of 1000 by
// id, each page's roles, access and agent IDs, then the agent IDs' keys),
// and reads the users' own columns in one bare query (the floor),
// reporting the best and worst of each: the ratios hold on a busy machine
// where absolute figures do not. Run with -benchtime=1x.
func BenchmarkExport(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_EXPORT_ROWS")); err == nil {
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			for range b.N {
				var db *store.DB
				if dialect == "sqlite" {
					db = testdb.SQLite(b)
				} else {
					db = testdb.Postgres(b)
				}
				f := newFixture(b, db, "bench")
				rep, err := f.svc.ImportUsers(f.ctx, f.sys, bytes.NewReader(importFile(f, n)), roster.ImportOptions{})
				must(b, err)
				if rep.Created != n {
					b.Fatalf("import: %+v", rep)
				}
				var cpu time.Duration // of the last rate's runs: this process's, so SQLite's work too
				rate := func(run func() int) (lo, hi, heap float64) {
					lo, cpu = 1e18, 0
					for range 3 {
						peak := heapPeak()
						start, cpu0 := time.Now(), cpuTime()
						rows := run()
						r := float64(rows) / time.Since(start).Seconds()
						cpu += cpuTime() - cpu0
						heap = max(heap, peak())
						if rows != n {
							b.Fatalf("%d rows, want %d", rows, n)
						}
						lo, hi = min(lo, r), max(hi, r)
					}
					return lo, hi, heap
				}
				lo, hi, heap := rate(func() int {
					var out countingWriter
					must(b, f.svc.WriteUsersCSV(f.ctx, f.sys, roster.UserQuery{}, &out, nil))
					return out.rows - 1 // the header
				})
				exportCPU := cpu
				plo, phi, _ := rate(func() int {
					r, rows := db.Read(), 0
					filter := roster.UserFilter{Keyset: true, PerPage: 1000}
					for {
						users, _, err := r.ListUsers(f.ctx, f.tenant.ID, filter)
						must(b, err)
						var held []int64
						for i := range users {
							held = append(held, users[i].AgentIDs...)
						}
						_, err = r.AgentKeysByID(f.ctx, f.tenant.ID, held)
						must(b, err)
						rows += len(users)
						if len(users) < filter.PerPage {
							return rows
						}
						filter.After = users[len(users)-1].ID
					}
				})
				pagedCPU := cpu
				// The floor: the users' own columns in one query, nothing joined,
				// no CSV: what any one-pass export costs at least.
				flo, fhi, _ := rate(func() int {
					rows, err := db.SQL().QueryContext(f.ctx, `SELECT id, username, name, email, mobile, nicknames FROM users WHERE tenant_id = `+
						strconv.FormatInt(f.tenant.ID, 10)+` ORDER BY id`)
					must(b, err)
					defer rows.Close()
					k := 0
					for rows.Next() {
						var id int64
						var a, b2, c, d, e string
						must(b, rows.Scan(&id, &a, &b2, &c, &d, &e))
						k++
					}
					must(b, rows.Err())
					return k
				})
				b.ReportMetric(float64(cpu.Microseconds())/float64(3*n), "floor-cpu-µs/row")
				b.ReportMetric(flo, "floor-rows/s-min")
				b.ReportMetric(fhi, "floor-rows/s-max")
				b.ReportMetric(lo, "export-rows/s-min")
				b.ReportMetric(hi, "export-rows/s-max")
				b.ReportMetric(heap, "export-heap-peak-MB")
				b.ReportMetric(float64(exportCPU.Microseconds())/float64(3*n), "export-cpu-µs/row")
				b.ReportMetric(float64(pagedCPU.Microseconds())/float64(3*n), "paged-read-cpu-µs/row")
				b.ReportMetric(plo, "paged-read-rows/s-min")
				b.ReportMetric(phi, "paged-read-rows/s-max")
			}
		})
	}
}
