package door

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/roster-dev/roster/internal/roster"
)

func TestStatusOf(t *testing.T) {
	for code, want := range map[string]int{
		roster.ETooLarge: 413, roster.EInvalid: 400, roster.ENotFound: 404, roster.EConflict: 409,
		roster.EUnauthorized: 401, roster.EForbidden: 403, roster.EGone: 410, roster.ELimited: 429,
		roster.EUnavailable: 503, roster.EStale: 412, roster.EReused: 422, "": 500, "something else": 500,
	} {
		if got := StatusOf(code); got != want {
			t.Errorf("StatusOf(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestPathID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want int64
	}{{"7", 7}, {"0", 0}, {"-3", 0}, {"x", 0}, {"99999999999999999999", 0}} {
		r := httptest.NewRequest(http.MethodGet, "/things/"+c.id, nil)
		r.SetPathValue("id", c.id)
		got, err := PathID(r, "thing")
		if got != c.want || (c.want == 0) != (roster.ErrorCode(err) == roster.ENotFound) {
			t.Errorf("PathID(%q) = %d, %v; want %d", c.id, got, err, c.want)
		}
	}
}
