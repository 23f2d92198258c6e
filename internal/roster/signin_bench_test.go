package roster_test

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// BenchmarkSignIn measures sign-in throughput next to the bound argon2id sets
// on the same machine: "argon2id" verifies one password with the production
// parameters (19 MiB, t=2, p=1) and nothing else; "sqlite" and "postgres" run
// the whole sign-in (user lookup, rate-limit check, the same verification,
// session insert, last-login update, audit event, one commit). All run 4
// clients per CPU (vary the CPUs with -cpu). The bar: sign-in ns/op within
// 1/0.9 of argon2id ns/op. BenchmarkSignInThroughput measures the same
// ratio with alternating rounds, robust against other load on the machine.
// Results: docs/benchmarks.md.
//
//	go test ./internal/roster -run '^$' -bench BenchmarkSignIn -cpu 1,2 -count 3
func BenchmarkSignIn(b *testing.B) {
	const password = "benchmark-passphrase-42"
	b.Run("argon2id", func(b *testing.B) {
		h := auth.NewHasher(auth.DefaultParams())
		enc, err := h.Hash(password)
		if err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ok, _, err := h.Verify(password, enc); !ok || err != nil {
					b.Error("verify failed")
				}
			}
		})
	})
	benchSignInsParallel(b, password, auth.DefaultParams())
}

// BenchmarkSignInDatabaseWork is a sign-in with a hash that costs little
// (1 MiB, one pass, the least the hasher takes: ~0.5 ms), so that what the
// rest of a sign-in costs shows, the database's work above all, at 8
// clients. With the database on the same machine, the CPU time of both
// processes is what competes with hashing.
//
//	go test ./internal/roster -run '^$' -bench BenchmarkSignInDatabaseWork
func BenchmarkSignInDatabaseWork(b *testing.B) {
	const password = "benchmark-passphrase-42"
	benchSignInsParallel(b, password, auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
}

// benchSignInsParallel runs whole sign-ins, hashing with params, at 4
// clients per CPU on each database.
func benchSignInsParallel(b *testing.B, password string, params auth.Params) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			svc, tenant, login := signInBenchSetup(b, d.open(b), password, params)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, err := svc.SignIn(context.Background(), roster.SignInInput{Tenant: tenant, Login: login(), Password: password, IP: "192.0.2.1"})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// signInBenchUsers sign in in turn, as real traffic has many people: one
// account signing in over and over would serialize on its row.
const signInBenchUsers = 64

// BenchmarkSignInThroughput compares rates directly: in alternating rounds
// it runs bare argon2id verifications, then whole sign-ins, each for a fixed
// time with the same number of clients (one per CPU, and four per CPU as a
// busy server has, where the database's waits overlap other clients'
// hashing), and reports both rates and their ratio. Alternating rounds let
// both sides share whatever else the machine is doing. scripts/bench-signin.sh
// runs it with a local PostgreSQL on the same CPUs and on a CPU of its own.
//
//	go test ./internal/roster -run '^$' -bench BenchmarkSignInThroughput -benchtime 1x
func BenchmarkSignInThroughput(b *testing.B) {
	const password = "benchmark-passphrase-42"
	const rounds, phase = 6, time.Second
	for _, d := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			svc, tenant, login := signInBenchSetup(b, d.open(b), password, auth.DefaultParams())
			h := auth.NewHasher(auth.DefaultParams())
			enc, err := h.Hash(password)
			if err != nil {
				b.Fatal(err)
			}
			hash := func() error {
				if ok, _, err := h.Verify(password, enc); !ok || err != nil {
					return fmt.Errorf("verify failed: %v", err)
				}
				return nil
			}
			signIn := func() error {
				_, err := svc.SignIn(context.Background(), roster.SignInInput{Tenant: tenant, Login: login(), Password: password, IP: "192.0.2.1"})
				return err
			}
			for _, perCPU := range []int{1, 4} {
				clients := perCPU * runtime.GOMAXPROCS(0)
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					var hashOps, signInOps int64
					var hashTime, signInTime time.Duration
					var ratios []float64
					for range b.N {
						for r := 0; r < rounds; r++ {
							hn, ht, err := runFor(clients, phase, hash)
							if err != nil {
								b.Fatal(err)
							}
							sn, st, err := runFor(clients, phase, signIn)
							if err != nil {
								b.Fatal(err)
							}
							hashOps, hashTime = hashOps+hn, hashTime+ht
							signInOps, signInTime = signInOps+sn, signInTime+st
							ratios = append(ratios, (float64(sn)/st.Seconds())/(float64(hn)/ht.Seconds()))
						}
					}
					hashRate := float64(hashOps) / hashTime.Seconds()
					signInRate := float64(signInOps) / signInTime.Seconds()
					slices.Sort(ratios)
					b.ReportMetric(hashRate, "argon2id/s")
					b.ReportMetric(signInRate, "signins/s")
					b.ReportMetric(signInRate/hashRate, "ratio")
					// The median round is the least disturbed by other load.
					b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
				})
			}
		})
	}
}

// runFor runs fn in clients goroutines until d has passed and returns how
// many calls completed and the time they took.
func runFor(clients int, d time.Duration, fn func() error) (int64, time.Duration, error) {
	var ops atomic.Int64
	var firstErr atomic.Value
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := fn(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, 0, err
	}
	return ops.Load(), time.Since(start), nil
}

// signInBenchSetup makes a tenant with the user "bench" whose password is set
// through a one-time code, as seed 003 describes.
func signInBenchSetup(b *testing.B, db *store.DB, password string, params auth.Params) (*roster.Service, string, func() string) {
	b.Helper()
	ctx := context.Background()
	svc := roster.NewService(db, roster.Options{Lifecycle: roster.LifecycleOptions{Argon2: params, ForgotMinDuration: time.Nanosecond}})
	t, err := svc.CreateTenant(ctx, "bench", "Bench")
	if err != nil {
		b.Fatal(err)
	}
	sys := roster.SystemActor(t.ID)
	groups, err := svc.ListGroups(ctx, sys)
	if err != nil {
		b.Fatal(err)
	}
	logins := make([]string, signInBenchUsers)
	for i := range logins {
		logins[i] = fmt.Sprintf("bench%03d", i)
		u, err := svc.CreateUser(ctx, sys, roster.UserInput{Username: roster.Some(logins[i]), Email: roster.Some(logins[i] + "@example.com"),
			Language: roster.Some("en"), GroupID: roster.Some(groups[0].ID)})
		if err != nil {
			b.Fatal(err)
		}
		// Each from its own address: code requests are throttled per address.
		ip := fmt.Sprintf("198.51.100.%d", i)
		if err := svc.RequestPasswordCode(ctx, roster.CodeRequest{Tenant: "bench", Login: logins[i], IP: ip}); err != nil {
			b.Fatal(err)
		}
		msgs, err := svc.ClaimOutbox(ctx, "bench", 10, time.Minute)
		if err != nil || len(msgs) != 1 {
			b.Fatalf("code message: %v %v", msgs, err)
		}
		_, text, _ := msgs[0].Rendered()
		code := regexp.MustCompile(`\d{8}`).FindString(text)
		if err := svc.ResetPassword(ctx, roster.ResetInput{Tenant: "bench", Login: logins[i], Code: code, Password: password, IP: ip}); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			// A running server has the tenant's decision index loaded, and
			// then each write transaction may have it follow the change log.
			if _, err := svc.Check(ctx, sys, roster.CheckInput{UserID: u.ID, Permission: roster.PermUsersView}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Uint64
	return svc, "bench", func() string { return logins[next.Add(1)%uint64(len(logins))] }
}
