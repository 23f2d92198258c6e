package scim_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/roster-dev/roster/internal/clientip"
	"github.com/roster-dev/roster/internal/roster"
	"github.com/roster-dev/roster/internal/scim"
	"github.com/roster-dev/roster/internal/testdb"
)

// The audit records the client's address as the other doors do: behind a
// trusted proxy the one it forwarded, otherwise the TCP peer.
func TestSCIMClientIPBehindProxies(t *testing.T) {
	for _, c := range []struct {
		trusted string
		want    string
	}{{"", "127.0.0.1"}, {"127.0.0.1", "198.51.100.7"}} {
		svc := roster.NewService(testdb.SQLite(t), roster.Options{})
		proxies, err := clientip.Parse(c.trusted)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		scim.New(svc, slog.New(slog.DiscardHandler), scim.Options{Proxies: proxies}).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		e := tenantEnv(t, svc, srv.URL, "acme")
		e.call("POST", "/Users", userBody("ip.test", "ip.test@acme.test"), "X-Forwarded-For: 198.51.100.7").want(t, http.StatusCreated)
		events, err := svc.ListAudit(context.Background(), roster.SystemActor(e.tenant.ID), roster.AuditFilter{Action: "user.create"})
		if err != nil || len(events.Items) != 1 {
			t.Fatalf("trusted %q: audit %v, %v", c.trusted, events, err)
		}
		if got := events.Items[0].IP; got != c.want {
			t.Errorf("trusted %q: the audit's IP is %q, want %q", c.trusted, got, c.want)
		}
	}
}
