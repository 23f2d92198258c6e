package roster_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/store"
	"github.com/roster-dev/roster/internal/testdb"
)

// The export's one streaming query joins every list column: several
// roles, group access and agent IDs come out as the import reads them, a
// filter narrows the rows, and the import of the export changes nothing.
func TestExportJoinsListColumns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "acme")
		team, sub := fmt.Sprint(f.team.ID), fmt.Sprint(f.subteam.ID)
		f.importCSV(t, f.admin, "username,email,group,roles,group_access,agent_ids\n"+
			"anna,anna@example.com,"+sub+",agent,\""+team+";"+sub+"\",\"voice:4711;chat:anna.k\"\n"+
			"ben,ben@example.com,"+team+",\"team_leader;agent\",,\n"+
			"cleo,cleo@example.com,"+team+",read_only,,\n", roster.ImportOptions{})
		var out strings.Builder
		must(t, f.svc.WriteUsersCSV(f.ctx, f.admin, roster.UserQuery{Role: "agent"}, &out, nil))
		rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
		must(t, err)
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		got := map[string][]string{}
		for _, r := range rows[1:] {
			got[r[col["username"]]] = r
		}
		path := f.root.Name + "/Team A"
		if len(got) != 2 || got["cleo"] != nil {
			t.Fatalf("the agent role's export holds %d users: %q", len(got), out.String())
		}
		anna, ben := got["anna"], got["ben"]
		if anna[col["agent_ids"]] != "voice:4711;chat:anna.k" || anna[col["group_access"]] != path+";"+path+"/Team A1" ||
			anna[col["roles"]] != "agent" || anna[col["group"]] != path+"/Team A1" {
			t.Errorf("anna's row: %q", anna)
		}
		if ben[col["roles"]] != "team_leader;agent" || ben[col["agent_ids"]] != "" || ben[col["group_access"]] != "" {
			t.Errorf("ben's row: %q", ben)
		}
		audits := f.auditCount(t)
		rep := f.importCSV(t, f.admin, out.String(), roster.ImportOptions{Mode: roster.ImportUpsert})
		if rep.Failed != 0 || rep.Unchanged != 2 || f.auditCount(t) != audits {
			t.Fatalf("import of the export: %+v", rep)
		}
	})
}
