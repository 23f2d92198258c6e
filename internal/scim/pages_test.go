package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestPageWalk: pages read one after another (which the core continues
// from where the previous one ended, by id) are the pages of the offsets,
// in both orders and with a filter; a jump elsewhere still answers by
// offset, and a user deleted on an earlier page shifts nothing of a walk.
func TestPageWalk(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for i := range 23 {
			e.createUser(fmt.Sprintf("walker%02d", i), fmt.Sprintf("walker%02d@acme.example", i))
		}
		for _, q := range []string{"", "&sortOrder=descending", "&filter=" + escape(`userName sw "walker"`), "&sortBy=id&sortOrder=descending&filter=" + escape(`userName sw "walker1"`)} {
			all := e.call("GET", "/Users?count=100"+q, nil).want(t, http.StatusOK)
			want := all.ids()
			var walked []string
			for start := 1; start <= len(want); start += 5 {
				walked = append(walked, e.call("GET", fmt.Sprintf("/Users?startIndex=%d&count=5", start)+q, nil).want(t, http.StatusOK).ids()...)
			}
			if !slices.Equal(walked, want) {
				t.Errorf("%s: walked %v, want %v", q, walked, want)
			}
			for _, start := range []int{3, 11, len(want)} {
				if got := e.call("GET", fmt.Sprintf("/Users?startIndex=%d&count=4", start)+q, nil).want(t, http.StatusOK).ids(); !slices.Equal(got, want[start-1:min(start+3, len(want))]) {
					t.Errorf("%s: startIndex %d: %v, want %v", q, start, got, want[start-1:min(start+3, len(want))])
				}
			}
		}
		// A walk goes on after a user of its first page was deleted.
		first := e.call("GET", "/Users?startIndex=1&count=5", nil).want(t, http.StatusOK).ids()
		e.call("DELETE", "/Users/"+first[1], nil).want(t, http.StatusNoContent)
		next := e.call("GET", "/Users?startIndex=6&count=5", nil).want(t, http.StatusOK)
		all := e.call("GET", "/Users?count=100", nil).want(t, http.StatusOK).ids()
		at := slices.Index(all, first[4])
		if got := next.ids(); !slices.Equal(got, all[at+1:at+6]) {
			t.Errorf("after a delete on page 1: page 2 is %v, want %v (the users after %s)", got, all[at+1:at+6], first[4])
		}
	})
}
