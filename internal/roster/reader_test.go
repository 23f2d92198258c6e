package roster_test

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

// writeVerb is how the store's write methods are named.
var writeVerb = regexp.MustCompile(`^(Create|Update|Delete|Put|Set|Add|Revoke|Touch|Hold|Release|Lock|Upsert|Write|Insert|Recount|Move|End|Enqueue|Cancel|Claim|Finish|Prune|Record|Hit|Reset|Reserve|Purge|Save[^d]|Take|Stage)`)

// TestReaderHasNoWrites keeps Store.Read() read-only: a write added to an
// area's Reader instead of its Tx would let a read path change data outside
// a transaction, unaudited and unseen by the decision index.
func TestReaderHasNoWrites(t *testing.T) {
	reader := reflect.TypeFor[roster.Reader]()
	for i := range reader.NumMethod() {
		if name := reader.Method(i).Name; writeVerb.MatchString(name) {
			t.Errorf("roster.Reader has %s, a write; declare it in the area's Tx", name)
		}
	}
	tx := reflect.TypeFor[roster.Tx]()
	if !tx.Implements(reader) {
		t.Fatal("roster.Tx does not embed roster.Reader")
	}
	writes := 0
	for i := range tx.NumMethod() {
		if _, ok := reader.MethodByName(tx.Method(i).Name); !ok {
			writes++
		}
	}
	if writes == 0 {
		t.Error("roster.Tx has no method beyond roster.Reader's")
	}
}
