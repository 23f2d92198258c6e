package roster_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/roster-dev/roster/internal/auth"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/testdb"
)

// BenchmarkSignInMFAThroughput is BenchmarkSignInThroughput with two-step
// sign-in: every sign-in is the password step (the one argon2id hash) and
// then the second-factor step, in alternating rounds with bare argon2id
// verifications. The second factor is a recovery code (a TOTP code works
// once per 30-second step and user, which a benchmark signing each user in
// every second cannot meet); its check costs what a TOTP check costs: a
// hash of a few bytes and one conditional UPDATE. Results: docs/benchmarks.md.
//
//	go test ./internal/roster -run '^$' -bench BenchmarkSignInMFAThroughput -benchtime 1x -cpu 2
func BenchmarkSignInMFAThroughput(b *testing.B) {
	const password = "benchmark-passphrase-42"
	const rounds, phase = 4, time.Second
	ctx := context.Background()
	svc, tenant, login := signInBenchSetup(b, testdb.SQLite(b), password, auth.DefaultParams())
	_, err := svc.UpdateTenant(ctx, roster.SystemActor(mustTenantID(b, svc, tenant)), roster.TenantInput{Settings: roster.TenantSettingsInput{MFAPolicy: roster.Some(roster.MFAOptional)}})
	if err != nil {
		b.Fatal(err)
	}
	// Every user enrols an authenticator and keeps its recovery codes.
	codes := map[string][]string{}
	for range signInBenchUsers {
		l := login()
		in, err := svc.SignIn(ctx, roster.SignInInput{Tenant: tenant, Login: l, Password: password, IP: "192.0.2.1"})
		if err != nil {
			b.Fatal(err)
		}
		a, err := svc.ActorForUser(ctx, in.Session.TenantID, in.Session.UserID)
		if err != nil {
			b.Fatal(err)
		}
		e, err := svc.StartTOTPEnrolment(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		code, _ := totp.GenerateCodeCustom(stripSpaces(e.ManualKey), time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if codes[l], err = svc.ConfirmTOTPEnrolment(ctx, a, code); err != nil {
			b.Fatal(err)
		}
	}
	var mu sync.Mutex
	nextCode := func(l string) string {
		mu.Lock()
		defer mu.Unlock()
		c := codes[l]
		if len(c) == 0 {
			return ""
		}
		codes[l] = c[1:]
		return c[0]
	}
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
		l := login()
		code := nextCode(l)
		if code == "" {
			return fmt.Errorf("out of recovery codes: run with fewer rounds")
		}
		in, err := svc.SignIn(ctx, roster.SignInInput{Tenant: tenant, Login: l, Password: password, IP: "192.0.2.1"})
		if err != nil {
			return err
		}
		if in.MFA == nil {
			return fmt.Errorf("no second-factor step")
		}
		_, err = svc.CompleteSecondFactor(ctx, roster.SecondFactorInput{Token: in.MFA.Token, Code: code, IP: "192.0.2.1"})
		return err
	}
	clients := runtime.GOMAXPROCS(0)
	var ratios []float64
	var hashOps, signInOps int64
	var hashTime, signInTime time.Duration
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
	slices.Sort(ratios)
	b.ReportMetric(float64(hashOps)/hashTime.Seconds(), "argon2id/s")
	b.ReportMetric(float64(signInOps)/signInTime.Seconds(), "signins/s")
	b.ReportMetric(ratios[0], "min-ratio")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(ratios[len(ratios)-1], "max-ratio")
}

func stripSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func mustTenantID(b *testing.B, svc *roster.Service, slug string) int64 {
	t, err := svc.TenantBySlug(context.Background(), slug)
	if err != nil {
		b.Fatal(err)
	}
	return t.ID
}
