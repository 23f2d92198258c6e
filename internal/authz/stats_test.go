package authz

import (
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	w := newWorld(t)
	if st := w.idx.Stats(); st != (Stats{}) {
		t.Fatalf("empty index: %+v", st)
	}
	w.check(t, 100, "users.view", 11, 0)
	st := w.idx.Stats()
	if st.Tenants != 1 || st.Users != 6 || st.Groups != 7 || st.Roles != 4 || st.Agents != 5 {
		t.Fatalf("after one load: %+v", st)
	}
	time.Sleep(20 * time.Millisecond)
	if lag := w.idx.Stats().Lag; lag < 20*time.Millisecond {
		t.Fatalf("lag %v, want at least the 20ms since the load", lag)
	}
	if err := w.idx.Sync(w.ctx); err != nil {
		t.Fatal(err)
	}
	if lag := w.idx.Stats().Lag; lag >= 20*time.Millisecond {
		t.Fatalf("lag %v right after a sync", lag)
	}
}
