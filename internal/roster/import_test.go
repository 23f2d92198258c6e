package roster_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

func (f *fixture) importCSV(t *testing.T, a *roster.Actor, csv string, opts roster.ImportOptions) *roster.ImportReport {
	t.Helper()
	rep, err := f.svc.ImportUsers(f.ctx, a, strings.NewReader(csv), opts)
	must(t, err)
	return rep
}

// wantRowError fails unless rep names row and field with a message holding part.
func wantRowError(t *testing.T, rep *roster.ImportReport, row int, field, part string) {
	t.Helper()
	for _, e := range rep.Errors {
		if e.Row == row && e.Field == field && strings.Contains(e.Message, part) {
			return
		}
	}
	t.Fatalf("no error on row %d field %q containing %q; errors: %+v", row, field, part, rep.Errors)
}

func (f *fixture) userCount(t *testing.T) int {
	t.Helper()
	p, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{})
	must(t, err)
	return p.Total
}

func (f *fixture) userNamed(t *testing.T, username string) *roster.User {
	t.Helper()
	p, err := f.svc.ListUsers(f.ctx, f.admin, roster.UserQuery{PerPage: "100"})
	must(t, err)
	for _, u := range p.Items {
		if u.Username == username {
			full, err := f.svc.User(f.ctx, f.admin, u.ID)
			must(t, err)
			return full
		}
	}
	t.Fatalf("no user %s", username)
	return nil
}

func TestImportEveryColumn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		path := f.root.Name + "/Team A/Team A1"
		// Semicolons, a BOM, columns in another order, a quoted field.
		csv := "\xEF\xBB\xBFroles;username;name;email;mobile;language;group;agent_number;nicknames;ring_to;scoring_enabled;roaming;group_access;agent_ids\n" +
			"agent;anna;\"Anna; K\";ANNA@example.com;+49 151 23456789;de;" + path + ";17;\"Annie;Ann\";+49 30 7654321;true;yes;" + fmt.Sprint(f.team.ID) + ";\"voice:4711;chat:anna.k\"\n" +
			"team_leader;ben;;ben@example.com;;en;" + fmt.Sprint(f.team.ID) + ";;;;false;no;;\n"
		before := f.auditCount(t)
		rep := f.importCSV(t, f.admin, csv, roster.ImportOptions{})
		if rep.Failed != 0 || rep.Created != 2 {
			t.Fatalf("report = %+v", rep)
		}
		if got := f.auditCount(t) - before; got != 2 {
			t.Fatalf("%d audit events, want one per user", got)
		}
		anna := f.userNamed(t, "anna")
		if anna.Name != "Anna; K" || anna.Email != "anna@example.com" || anna.Mobile != "+4915123456789" || anna.Language != "de" ||
			anna.GroupID != f.subteam.ID || anna.AgentNumber == nil || *anna.AgentNumber != 17 ||
			!slices.Equal(anna.Nicknames, []string{"Annie", "Ann"}) || anna.RingTo != "+49307654321" || !anna.ScoringEnabled ||
			!anna.Roaming || !slices.Equal(anna.GroupAccess, []int64{f.team.ID}) || len(anna.AgentIDs) != 2 ||
			!slices.Equal(anna.Roles, []string{"agent"}) || anna.Status != roster.StatusActive {
			t.Fatalf("anna = %+v", anna)
		}
		ben := f.userNamed(t, "ben")
		if ben.Name != "ben" || ben.GroupID != f.team.ID || ben.AgentNumber != nil || !slices.Equal(ben.Roles, []string{"team_leader"}) {
			t.Fatalf("ben = %+v", ben)
		}
		// The decision index follows: anna's agent IDs are hers.
		ok, err := f.svc.Check(f.ctx, f.admin, roster.CheckInput{UserID: anna.ID, Permission: roster.PermSelfView, AgentID: anna.AgentIDs[0]})
		must(t, err)
		if !ok {
			t.Fatalf("the decision index does not know anna holds her agent ID")
		}
	})
}

func TestImportErrorsWriteNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		f.userActor(t, "taken", "agent")
		_, err := f.svc.CreateUser(f.ctx, f.admin, func() roster.UserInput {
			in := f.userInput("holder")
			in.AgentNumber = roster.Some(int64(99))
			return in
		}())
		must(t, err)
		holder := f.userNamed(t, "holder")
		_, err = f.importCSVErr(f.admin, "username,email,group,roles,agent_ids\nvoicer,voicer@example.com,"+fmt.Sprint(f.team.ID)+",agent,voice:1\n")
		must(t, err)
		voicer := f.userNamed(t, "voicer")
		_ = voicer
		_ = holder
		n := f.userCount(t)
		audits := f.auditCount(t)
		team := fmt.Sprint(f.team.ID)
		var b strings.Builder
		b.WriteString("username,email,group,roles,agent_number,agent_ids\n")
		b.WriteString("good1,good1@example.com," + team + ",agent,,\n")                 // row 2
		b.WriteString("bad email,not-an-email," + team + ",agent,,\n")                  // row 3
		b.WriteString("Good1,other@example.com," + team + ",agent,,\n")                 // row 4: duplicate username in the file
		b.WriteString("taken,t2@example.com," + team + ",agent,,\n")                    // row 5: exists
		b.WriteString("dupmail,good1@example.com," + team + ",agent,,\n")               // row 6: duplicate email in the file
		b.WriteString("num,num@example.com," + team + ",agent,99,\n")                   // row 7: agent number in use
		b.WriteString("held,held@example.com," + team + ",agent,,voice:1\n")            // row 8: agent ID held by voicer
		b.WriteString("nogroup,ng@example.com,Nowhere/At All,agent,,\n")                // row 9
		b.WriteString("norole,nr@example.com," + team + ",wizard,,\n")                  // row 10
		b.WriteString("short,short@example.com\n")                                      // row 11
		b.WriteString("noagentrole,nar@example.com," + team + ",team_leader,,chat:x\n") // row 12
		for i := 13; i <= 50_001; i++ {
			fmt.Fprintf(&b, "u%d,u%d@example.com,%s,agent,,\n", i, i, team)
		}
		b.WriteString("late,late@@example.com," + team + ",agent,,\n") // row 50,002
		rep, err := f.importCSVErr(f.admin, b.String())
		must(t, err)
		wantRowError(t, rep, 3, "username", "letters, digits")
		wantRowError(t, rep, 3, "email", "not a valid email")
		wantRowError(t, rep, 4, "username", "also on row 2")
		wantRowError(t, rep, 5, "username", "exists already")
		wantRowError(t, rep, 6, "email", "also on row 2")
		wantRowError(t, rep, 7, "agent_number", "in use")
		wantRowError(t, rep, 8, "agent_ids", "held by voicer")
		wantRowError(t, rep, 9, "group", "no group")
		wantRowError(t, rep, 10, "roles", "no role")
		wantRowError(t, rep, 11, "", "fields")
		wantRowError(t, rep, 12, "agent_ids", "self scope")
		wantRowError(t, rep, 50_002, "email", "not a valid email")
		if rep.Failed != 11 || rep.Created != 0 && rep.Failed == 0 {
			t.Fatalf("failed = %d, want 11 (%+v)", rep.Failed, rep.Errors)
		}
		if f.userCount(t) != n || f.auditCount(t) != audits {
			t.Fatalf("a failed import wrote something")
		}
		// Unknown columns are refused at the header.
		rep, err = f.importCSVErr(f.admin, "username,password\nx,y\n")
		must(t, err)
		wantRowError(t, rep, 1, "password", "unknown column")
	})
}

func (f *fixture) importCSVErr(a *roster.Actor, csv string) (*roster.ImportReport, error) {
	return f.svc.ImportUsers(f.ctx, a, strings.NewReader(csv), roster.ImportOptions{})
}

func TestImportDryRunUpsertAndRoundTrip(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		team := fmt.Sprint(f.team.ID)
		csv := "username,name,email,group,roles,nicknames\n" +
			"a1,A One,a1@example.com," + team + ",agent,x;y\n" +
			"a2,A Two,a2@example.com," + team + ",agent;team_leader,\n"
		n, audits := f.userCount(t), f.auditCount(t)
		rep := f.importCSV(t, f.admin, csv, roster.ImportOptions{DryRun: true})
		if rep.Created != 2 || rep.Failed != 0 || f.userCount(t) != n || f.auditCount(t) != audits {
			t.Fatalf("dry run: %+v, or it wrote", rep)
		}
		f.importCSV(t, f.admin, csv, roster.ImportOptions{})
		rep = f.importCSV(t, f.admin, csv, roster.ImportOptions{Mode: roster.ImportUpsert})
		if rep.Unchanged != 2 || rep.Updated != 0 || rep.Created != 0 {
			t.Fatalf("upsert of the same file: %+v", rep)
		}
		audits = f.auditCount(t)
		rep = f.importCSV(t, f.admin, "username,name\nA1,A Uno\na3,\n", roster.ImportOptions{Mode: roster.ImportUpsert})
		if rep.Failed != 1 { // a3 is new and has no group
			t.Fatalf("upsert: %+v", rep)
		}
		rep = f.importCSV(t, f.admin, "username,name\nA1,A Uno\na2,A Two\n", roster.ImportOptions{Mode: roster.ImportUpsert})
		if rep.Updated != 1 || rep.Unchanged != 1 || f.auditCount(t) != audits+1 {
			t.Fatalf("upsert: %+v", rep)
		}
		if u := f.userNamed(t, "a1"); u.Name != "A Uno" || u.Email != "a1@example.com" || !slices.Equal(u.Nicknames, []string{"x", "y"}) {
			t.Fatalf("a1 = %+v", u)
		}
		// Export, then import the export: nothing changes.
		var out strings.Builder
		must(t, f.svc.WriteUsersCSV(f.ctx, f.admin, roster.UserQuery{}, &out, nil))
		audits = f.auditCount(t)
		rep = f.importCSV(t, f.admin, out.String(), roster.ImportOptions{Mode: roster.ImportUpsert})
		if rep.Failed != 0 || rep.Updated != 0 || rep.Created != 0 || rep.Unchanged != f.userCount(t) || f.auditCount(t) != audits {
			t.Fatalf("import of the export: %+v\n%s", rep, out.String())
		}
	})
}
