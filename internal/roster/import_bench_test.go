package roster_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// importFile is a users CSV of n rows, each with a group path, two roles'
// worth of columns, an agent number and an agent ID not seen before.
func importFile(f *fixture, n int) []byte {
	var b bytes.Buffer
	b.WriteString("username,name,email,mobile,language,group,roles,agent_number,nicknames,scoring_enabled,agent_ids\n")
	path := f.root.Name + "/Team A/Team A1"
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "agent%d,Agent Number %d,agent%d@example.com,+49151%08d,en,%s,agent,%d,A%d,true,voice:%d\n", i, i, i, i, path, i, i, i)
	}
	return b.Bytes()
}

// rssMB is the process's resident set now and at its peak since the last reset.
func rssMB() (now, peak float64) {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

// BenchmarkImport imports ROSTER_IMPORT_ROWS (default 100,000) users: a dry
// run, then the import with its audit events and change log, on both
// databases. Run with -benchtime=1x.
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_IMPORT_ROWS")); err == nil {
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
				file := importFile(f, n)
				os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets the peak
				base, _ := rssMB()
				start := time.Now()
				rep, err := f.svc.ImportUsers(f.ctx, f.sys, bytes.NewReader(file), roster.ImportOptions{DryRun: true})
				must(b, err)
				dry := time.Since(start)
				if rep.Created != n || rep.Failed != 0 {
					b.Fatalf("dry run: %+v", rep.Errors[:min(5, len(rep.Errors))])
				}
				heap := heapPeak()
				cpu0 := cpuTime()
				start = time.Now()
				// The longest step between two progress reports of the write:
				// one chunk's transaction (and the decision index's sync).
				var longest time.Duration
				last := time.Now()
				progress := func(stage string, _ int) {
					if stage != "checked" {
						longest = max(longest, time.Since(last))
					}
					last = time.Now()
				}
				rep, err = f.svc.ImportUsers(f.ctx, f.sys, bytes.NewReader(file), roster.ImportOptions{Progress: progress})
				must(b, err)
				took := time.Since(start)
				cpu := cpuTime() - cpu0
				peakHeap := heap()
				_, peak := rssMB()
				if rep.Created != n {
					b.Fatalf("import: %+v", rep)
				}
				var events int
				must(b, db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'user.create'`).Scan(&events))
				if events != n {
					b.Fatalf("%d user.create events, want %d", events, n)
				}
				start = time.Now()
				var out countingWriter
				must(b, f.svc.WriteUsersCSV(f.ctx, f.sys, roster.UserQuery{}, &out, nil))
				export := time.Since(start)
				b.ReportMetric(dry.Seconds(), "dry-run-s")
				b.ReportMetric(took.Seconds(), "import-s")
				b.ReportMetric(float64(n)/took.Seconds(), "rows/s")
				b.ReportMetric(cpu.Seconds(), "import-cpu-s") // this process only: SQLite's work, not PostgreSQL's
				b.ReportMetric(peak-base, "rss-growth-MB")    // SQLite's page cache (64 MiB a connection) included
				b.ReportMetric(peakHeap, "go-heap-peak-MB")
				b.ReportMetric(longest.Seconds(), "longest-chunk-s")
				b.ReportMetric(float64(out.rows)/export.Seconds(), "export-rows/s")
			}
		})
	}
}

// heapPeak samples the Go heap in use until the returned function is
// called, which returns the peak in MB.
func heapPeak() func() float64 {
	done := make(chan struct{})
	result := make(chan float64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				result <- float64(peak) / (1 << 20)
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 { close(done); return <-result }
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countingWriter struct{ rows int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.rows += bytes.Count(p, []byte("\n"))
	return len(p), nil
}
