package roster

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Identity providers read a tenant's users page after page (startIndex 1,
// 101, 201 ...). startIndex is an offset, and an offset costs the walk over
// every skipped index entry: the middle of 200k users is 100k entries. So
// the core remembers, for a short while, the id at which each page in id
// order ended; the page that starts right there is read from that id on
// (keyset), whatever its startIndex. RFC 7644 §3.4.2.4 makes no promise of
// consistency between pages; with keysets a user created or deleted on an
// earlier page shifts nothing.

const (
	scimPagesKept = 4096             // ends remembered; beyond, the oldest half goes
	scimPageTTL   = 10 * time.Minute // an end older than this is not used
)

type scimPages struct {
	mu   sync.Mutex
	ends map[string]scimPageEnd
}

type scimPageEnd struct {
	lastID int64
	at     time.Time
}

// scimWalk is the key of a query without its offset, "" when pages of the
// query are not in id order.
type scimWalk struct{ key string }

// scimPageStart sets q.After when the page q starts where a remembered one
// ended; it returns the walk the query's page belongs to.
func (s *Service) scimPageStart(a *Actor, q *SCIMUserQuery) scimWalk {
	if (q.SortBy != "" && q.SortBy != SCIMFieldID) || q.Limit == 0 {
		return scimWalk{}
	}
	w := scimWalk{key: fmt.Sprintf("%d|%s:%d|%v|%s", a.TenantID, a.Kind, a.ID, q.Desc, scimFilterKey(q.Filter))}
	if q.Offset == 0 {
		return w
	}
	p := &s.scimPages
	p.mu.Lock()
	end, ok := p.ends[fmt.Sprintf("%s@%d", w.key, q.Offset)]
	p.mu.Unlock()
	if ok && s.Now().Sub(end.at) < scimPageTTL {
		q.After = end.lastID
	}
	return w
}

// scimPageEnd remembers where the page of users read for q ended.
func (s *Service) scimPageEnd(w scimWalk, q SCIMUserQuery, users []User) {
	if w.key == "" || len(users) == 0 {
		return
	}
	p := &s.scimPages
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.Now()
	if len(p.ends) >= scimPagesKept { // the stale ones go, then any until half is left
		for k, e := range p.ends {
			if now.Sub(e.at) >= scimPageTTL {
				delete(p.ends, k)
			}
		}
		for k := range p.ends {
			if len(p.ends) < scimPagesKept/2 {
				break
			}
			delete(p.ends, k)
		}
	}
	if p.ends == nil {
		p.ends = map[string]scimPageEnd{}
	}
	p.ends[fmt.Sprintf("%s@%d", w.key, q.Offset+len(users))] = scimPageEnd{lastID: users[len(users)-1].ID, at: now}
}

// scimFilterKey writes a filter out unambiguously.
func scimFilterKey(f *SCIMFilter) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	var walk func(f *SCIMFilter)
	walk = func(f *SCIMFilter) {
		fmt.Fprintf(&b, "(%s %q %T:%v", f.Op, f.Field, f.Value, f.Value)
		for _, x := range f.Args {
			walk(x)
		}
		b.WriteByte(')')
	}
	walk(f)
	return b.String()
}
