package roster_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// Numbers stored before the number plans were checked are listed, the
// rewritable ones rewritten (audited), the others left for a person.
func TestPhoneIssues(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		other := newFixture(t, db, "beta")
		mk := func(f *fixture, name, mobile, ringTo string) *roster.User {
			u, err := f.svc.CreateUser(f.ctx, f.admin, f.userInput(name))
			must(t, err)
			// What the hand-written normaliser stored, written past the checks.
			if _, err := db.SQL().ExecContext(f.ctx, "UPDATE users SET mobile = '"+mobile+"', ring_to = '"+ringTo+"' WHERE id = "+strconv.FormatInt(u.ID, 10)); err != nil {
				t.Fatal(err)
			}
			return u
		}
		mk(f, "fine", "+447911123456", "+442079460958")
		trunk := mk(f, "trunk", "+4407911123456", "+330612345678")
		bad := mk(f, "bad", "+11234567890", "")
		fixed := mk(other, "fixed", "+442079460958", "+999 1234567")

		issues, err := f.svc.PhoneIssues(f.ctx)
		must(t, err)
		type seen struct {
			tenant, user, field, canonical string
		}
		var got []seen
		for _, is := range issues {
			got = append(got, seen{is.TenantSlug, is.Username, is.Field, is.Canonical})
			if is.Problem == "" {
				t.Errorf("issue without a problem: %+v", is)
			}
		}
		want := []seen{
			{"acme", "trunk", "mobile", "+447911123456"},
			{"acme", "trunk", "ring_to", "+33612345678"},
			{"acme", "bad", "mobile", ""},
			{"beta", "fixed", "mobile", ""},
			{"beta", "fixed", "ring_to", ""},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("issues = %+v\nwant %+v", got, want)
		}

		before := f.auditCount(t)
		for _, is := range issues {
			err := f.svc.FixPhone(f.ctx, is)
			if (err == nil) != (is.Canonical != "") {
				t.Fatalf("FixPhone(%+v) = %v", is, err)
			}
		}
		u, err := f.svc.User(f.ctx, f.admin, trunk.ID)
		must(t, err)
		if u.Mobile != "+447911123456" || u.RingTo != "+33612345678" {
			t.Fatalf("after the fix: mobile %q, ring_to %q", u.Mobile, u.RingTo)
		}
		if n := f.auditCount(t); n != before+2 {
			t.Fatalf("%d audit events for two rewrites", n-before)
		}
		page, err := f.svc.ListAudit(f.ctx, f.admin, roster.AuditFilter{PerPage: 10})
		must(t, err)
		if e := page.Items[0]; e.Action != "user.phone_canonicalised" || e.TargetID != trunk.ID || e.ActorKind != roster.ActorSystem {
			t.Fatalf("last audit event = %+v", e)
		}
		// Search follows the rewritten number (the raw UPDATE above left
		// the search text of "fine" alone, so only trunk is found).
		found, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{Q: "447911123456"})
		must(t, err)
		if found.Total != 1 || found.Items[0].ID != trunk.ID {
			t.Fatalf("search for the rewritten number found %+v", found.Items)
		}

		// Now only what needs a person is left; a stale issue is refused.
		issues, err = f.svc.PhoneIssues(f.ctx)
		must(t, err)
		if len(issues) != 3 || issues[0].UserID != bad.ID || issues[1].UserID != fixed.ID {
			t.Fatalf("left after the fix: %+v", issues)
		}
		stale := roster.PhoneIssue{TenantID: f.tenant.ID, UserID: trunk.ID, Field: "mobile", Stored: "+4407911123456", Canonical: "+447911123456"}
		wantCode(t, f.svc.FixPhone(f.ctx, stale), roster.EConflict)
	})
}

func TestOutboxBacklog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		b, err := f.svc.OutboxBacklog(f.ctx)
		must(t, err)
		if b.Pending != 0 || b.Oldest != nil {
			t.Fatalf("empty outbox: %+v", b)
		}
		_, err = f.svc.CreateUser(f.ctx, f.admin, f.userInput("olga"))
		must(t, err)
		must(t, f.svc.RequestPasswordCode(f.ctx, roster.CodeRequest{Tenant: f.tenant.Slug, Login: "olga", Channel: "email"}))
		b, err = f.svc.OutboxBacklog(f.ctx)
		must(t, err)
		if b.Pending != 1 || b.Oldest == nil || !b.Oldest.Equal(*f.clock) {
			t.Fatalf("one code waiting: %+v (clock %v)", b, *f.clock)
		}
	})
}
