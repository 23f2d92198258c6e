package roster

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Interaction is the minimal metadata Roster keeps of a call or chat: enough
// to list agents, move a user's calls with them, and prove the scoping rules.
type Interaction struct {
	ID              int64     `json:"id"`
	TenantID        int64     `json:"-"`
	Source          string    `json:"source"`
	ExternalID      string    `json:"external_id"`
	AgentID         int64     `json:"agent_id"`
	AgentExternalID string    `json:"agent_external_id"`
	GroupID         *int64    `json:"group_id"`
	Channel         string    `json:"channel"`
	StartedAt       time.Time `json:"started_at"`
	DurationS       int64     `json:"duration_s"`
}

// InteractionInput is one row of an ingest batch.
type InteractionInput struct {
	Source          string    `json:"source"`
	ExternalID      string    `json:"external_id"`
	AgentExternalID string    `json:"agent_external_id"`
	AgentName       string    `json:"agent_name"`
	GroupID         *int64    `json:"group_id"`
	Channel         string    `json:"channel"`
	StartedAt       time.Time `json:"started_at"`
	DurationS       int64     `json:"duration_s"`
}

// MaxIngestRows bounds one batch.
const MaxIngestRows = 10_000

// RowError is a problem with one row of a batch, by its index.
type RowError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// IngestResult says what a batch did. Rejected rows are listed in Errors;
// every other row was stored.
type IngestResult struct {
	Inserted  int        `json:"inserted"`
	Updated   int        `json:"updated"`
	Unchanged int        `json:"unchanged"`
	Rejected  int        `json:"rejected"`
	Errors    []RowError `json:"errors"`
}

var sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// IngestInteractions stores a batch of interactions (POST
// /interactions/batch), creating and updating agent IDs as a side effect.
//
// Rows are idempotent on (source, external_id): sending a row again updates
// it (or leaves it, when nothing changed). Each row is checked on its own:
// bad rows are reported by index with the reason and left out, the good rows
// of the same batch are stored. Ingest is a machine feed replayed from the
// source system; holding back thousands of good rows because of one bad row
// would only delay data, and resending the corrected rows is safe because
// ingest is idempotent. The whole good part commits in one transaction with
// one audit event.
//
// Ingest writes tenant-wide data, so it needs interactions.ingest through a
// role with the tenant scope (API tokens always act tenant-wide).
func (s *Service) IngestInteractions(ctx context.Context, a *Actor, rows []json.RawMessage) (*IngestResult, error) {
	if err := a.requireWrite(PermInteractionsIngest); err != nil {
		return nil, err
	}
	if err := s.requireTenantWide(ctx, a, "ingesting interactions", PermInteractionsIngest); err != nil {
		return nil, err
	}
	switch {
	case len(rows) == 0:
		return nil, oneFieldError("interactions", "send at least one interaction")
	case len(rows) > MaxIngestRows:
		return nil, oneFieldError("interactions", "at most %d interactions per batch; split it", MaxIngestRows)
	}
	res := &IngestResult{Errors: []RowError{}}
	now := s.Now()
	good := make([]InteractionInput, 0, len(rows))
	seen := make(map[AgentKey]int, len(rows)) // interaction key -> row index
	decoded, decodeErrs := decodeInteractions(rows)
	groupIDs, err := s.existingGroups(ctx, a.TenantID, decoded)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		in, errs := decoded[i], decodeErrs[i]
		if errs == nil {
			errs = checkInteraction(&in, groupIDs, now)
		}
		if len(errs) == 0 {
			k := AgentKey{in.Source, in.ExternalID}
			if j, dup := seen[k]; dup {
				errs = []FieldError{{Field: "external_id", Message: fmt.Sprintf("repeats row %d of this batch", j)}}
			} else {
				seen[k] = i
			}
		}
		if len(errs) > 0 {
			res.Rejected++
			for _, e := range errs {
				res.Errors = append(res.Errors, RowError{Index: i, Field: e.Field, Message: e.Message})
			}
			continue
		}
		good = append(good, in)
	}
	if len(good) == 0 {
		return res, nil
	}
	// First as if every row were new, which a feed's rows nearly always
	// are: no lookup of the stored rows, the inserts find the resent ones.
	// When one turns up, that transaction is rolled back and the batch runs
	// again with every row looked up (a replayed batch costs a little more).
	for _, assumeNew := range []bool{true, false} {
		res.Inserted, res.Updated, res.Unchanged = 0, 0, 0
		err = s.inTx(ctx, func(tx Tx) error {
			if err := tx.LockIngest(ctx, a.TenantID); err != nil {
				return err
			}
			return s.ingestTx(ctx, tx, a, good, res, now, assumeNew)
		})
		if !errors.Is(err, errResent) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// errResent ends an ingest transaction that assumed its rows were new.
var errResent = errors.New("ingest: the batch resends stored rows")

// decodeInteractions reads the rows strictly (unknown fields are errors).
// Rows of the plain shape take the fast path (fastDecoder); the others are
// read by encoding/json, one by one, so that the bad ones are found and named.
func decodeInteractions(rows []json.RawMessage) ([]InteractionInput, [][]FieldError) {
	errs := make([][]FieldError, len(rows))
	all := make([]InteractionInput, len(rows))
	fast := fastDecoder{interned: make(map[string]string, 64)}
	for i, raw := range rows {
		if fast.decode(raw, &all[i]) {
			continue
		}
		all[i] = InteractionInput{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&all[i]); err != nil {
			errs[i] = []FieldError{rowDecodeError(err)}
		}
	}
	return all, errs
}

// existingGroups returns which of the groups the rows name exist in the
// tenant (a batch names a few; a tenant may have thousands).
func (s *Service) existingGroups(ctx context.Context, tenantID int64, rows []InteractionInput) (map[int64]bool, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, r := range rows {
		if r.GroupID != nil && !seen[*r.GroupID] {
			seen[*r.GroupID] = true
			ids = append(ids, *r.GroupID)
		}
	}
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	found, err := s.store.Read().AuthzGroups(ctx, tenantID, ids)
	for _, g := range found {
		out[g.ID] = true
	}
	return out, err
}

// checkInteraction checks and normalises one decoded row.
func checkInteraction(in *InteractionInput, groups map[int64]bool, now time.Time) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	in.Source = strings.ToLower(strings.TrimSpace(in.Source))
	if !sourcePattern.MatchString(in.Source) {
		add("source", "is required: 1 to 32 characters of a-z, 0-9, '.', '_' and '-' (voice, chat ...)")
	}
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	checkIdent(add, "external_id", in.ExternalID)
	in.AgentExternalID = strings.TrimSpace(in.AgentExternalID)
	checkIdent(add, "agent_external_id", in.AgentExternalID)
	in.AgentName = strings.TrimSpace(in.AgentName)
	if len(in.AgentName) > 200 || strings.ContainsFunc(in.AgentName, unicode.IsControl) {
		add("agent_name", "must be at most 200 characters, without control characters")
	}
	if in.GroupID != nil && !groups[*in.GroupID] {
		add("group_id", "no group with id %d", *in.GroupID)
	}
	in.Channel = strings.ToLower(strings.TrimSpace(in.Channel))
	if len(in.Channel) > 32 || strings.ContainsFunc(in.Channel, unicode.IsControl) {
		add("channel", "must be at most 32 characters")
	}
	switch {
	case in.StartedAt.IsZero():
		add("started_at", "is required (an RFC 3339 time, 2026-01-31T08:00:00Z)")
	case in.StartedAt.After(now.Add(24 * time.Hour)):
		add("started_at", "lies more than a day in the future")
	case in.StartedAt.Year() < 1970:
		add("started_at", "lies before 1970")
	}
	in.StartedAt = in.StartedAt.UTC().Truncate(time.Millisecond)
	if in.DurationS < 0 || in.DurationS > 7*24*3600 {
		add("duration_s", "must be from 0 to 604800 seconds")
	}
	return errs
}

func checkIdent(add func(string, string, ...any), field, v string) {
	switch {
	case v == "":
		add(field, "is required")
	case len(v) > 200 || strings.ContainsFunc(v, unicode.IsControl):
		add(field, "must be at most 200 characters, without control characters")
	}
}

// rowDecodeError names the field of a JSON problem in one row.
func rowDecodeError(err error) FieldError {
	var typ *json.UnmarshalTypeError
	var perr *time.ParseError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return FieldError{Field: "row", Message: "must be a JSON object"}
		}
		return FieldError{Field: field, Message: "has the wrong type (" + typ.Value + ")"}
	case errors.As(err, &perr), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		return FieldError{Field: "started_at", Message: "must be an RFC 3339 time (2026-01-31T08:00:00Z)"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return FieldError{Field: strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), Message: "is not a known field"}
	}
	return FieldError{Field: "row", Message: "is not a valid JSON object"}
}

// ingestTx writes the good rows: it sorts them into new, changed and
// unchanged, creates the agent IDs and adds the new rows to their counts,
// writes the rows, and recounts the agent IDs whose rows moved or changed.
// With assumeNew it skips looking up the stored rows, takes all rows as new
// and returns errResent (having written part of them) if one is not.
func (s *Service) ingestTx(ctx context.Context, tx Tx, a *Actor, rows []InteractionInput, res *IngestResult, now time.Time, assumeNew bool) error {
	// Stored rows of the batch, by key.
	stored := make(map[AgentKey]Interaction)
	if !assumeNew {
		bySource := map[string][]string{}
		for _, r := range rows {
			bySource[r.Source] = append(bySource[r.Source], r.ExternalID)
		}
		for src, ext := range bySource {
			got, err := tx.InteractionsByKey(ctx, a.TenantID, src, ext)
			if err != nil {
				return err
			}
			for _, it := range got {
				stored[AgentKey{it.Source, it.ExternalID}] = it
			}
		}
	}

	deltas := map[AgentKey]*AgentDelta{}
	delta := func(k AgentKey) *AgentDelta {
		d := deltas[k]
		if d == nil {
			d = &AgentDelta{Key: k, CreatedAt: now}
			deltas[k] = d
		}
		return d
	}
	recount := map[int64]bool{}
	type write struct {
		in    *InteractionInput
		agent AgentKey
		prev  *Interaction
	}
	var writes []write
	for i := range rows {
		r := &rows[i]
		k := AgentKey{r.Source, r.AgentExternalID}
		d := delta(k)
		prev, exists := stored[AgentKey{r.Source, r.ExternalID}]
		if exists {
			if prev.AgentExternalID == r.AgentExternalID && sameGroup(prev.GroupID, r.GroupID) && prev.Channel == r.Channel &&
				prev.StartedAt.Equal(r.StartedAt) && prev.DurationS == r.DurationS {
				res.Unchanged++
				continue
			}
			res.Updated++
			recount[prev.AgentID] = true
			writes = append(writes, write{r, k, &prev})
			continue
		}
		res.Inserted++
		writes = append(writes, write{r, k, nil})
		d.Interactions++
		t := r.StartedAt
		if d.FirstSeen == nil || t.Before(*d.FirstSeen) {
			d.FirstSeen = &t
		}
		if d.LastSeen == nil || !t.Before(*d.LastSeen) {
			d.LastSeen = &t
			if r.AgentName != "" {
				d.Name = r.AgentName
			}
		}
		if r.GroupID != nil && (d.GroupAt == nil || !t.Before(*d.GroupAt)) {
			d.Group, d.GroupAt = *r.GroupID, &t
		}
	}
	// Agent IDs in a fixed order, so concurrent batches lock rows alike.
	list := make([]AgentDelta, 0, len(deltas))
	for _, d := range deltas {
		list = append(list, *d)
	}
	slices.SortFunc(list, func(x, y AgentDelta) int {
		if c := strings.Compare(x.Key.Source, y.Key.Source); c != 0 {
			return c
		}
		return strings.Compare(x.Key.ExternalID, y.Key.ExternalID)
	})
	if err := tx.UpsertAgentIDs(ctx, a.TenantID, list); err != nil {
		return err
	}
	agentIDs := make(map[AgentKey]int64, len(list))
	for _, d := range list {
		agentIDs[d.Key] = d.ID
	}
	out := make([]Interaction, 0, len(writes))
	for _, w := range writes {
		it := Interaction{TenantID: a.TenantID, Source: w.in.Source, ExternalID: w.in.ExternalID, AgentID: agentIDs[w.agent],
			AgentExternalID: w.in.AgentExternalID, GroupID: w.in.GroupID, Channel: w.in.Channel, StartedAt: w.in.StartedAt,
			DurationS: w.in.DurationS}
		if w.prev != nil {
			it.ID = w.prev.ID
			recount[it.AgentID] = true
		}
		out = append(out, it)
	}
	// By agent ID: each insert statement then touches a few pages of the
	// by-agent and by-group indexes instead of one or two per agent ID (on
	// SQLite each page a statement touches is copied to its statement
	// journal first).
	slices.SortStableFunc(out, func(x, y Interaction) int { return cmp.Compare(x.AgentID, y.AgentID) })
	if assumeNew {
		allNew, err := tx.InsertNewInteractions(ctx, a.TenantID, out)
		if err != nil {
			return err
		}
		if !allNew {
			return errResent
		}
	} else if err := tx.WriteInteractions(ctx, a.TenantID, out); err != nil {
		return err
	}
	if len(recount) > 0 {
		ids := make([]int64, 0, len(recount))
		for id := range recount {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if err := tx.RecountAgentIDs(ctx, a.TenantID, ids); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, a, "interactions.ingest", "tenant", a.TenantID, nil, map[string]int{
		"inserted": res.Inserted, "updated": res.Updated, "unchanged": res.Unchanged, "rejected": res.Rejected, "agent_ids": len(list)})
}

func sameGroup(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// InteractionQuery is an interaction list request as front doors receive it.
type InteractionQuery struct {
	AgentID string
	Group   string // group id: its subtree
	From    string
	To      string
	Order   string // by start time; desc (newest first) by default
	Page    string
	PerPage string
}

// ListInteractions lists the interactions the actor may see: with
// insights.view, team.view or self.view, within the scope of the roles
// granting them (a team leader: their groups'; an agent: their own).
func (s *Service) ListInteractions(ctx context.Context, a *Actor, q InteractionQuery) (*Page[Interaction], error) {
	perms := []string{PermInsightsView, PermTeamView, PermSelfView}
	if err := a.require(perms...); err != nil {
		return nil, err
	}
	var v Validation
	f := InteractionFilter{Desc: true}
	f.Page, f.PerPage = ParsePaging(&v, q.Page, q.PerPage)
	switch q.Order {
	case "", "desc":
	case "asc":
		f.Desc = false
	default:
		v.Add("order", "must be asc or desc")
	}
	if q.AgentID != "" {
		if _, err := fmt.Sscan(q.AgentID, &f.AgentID); err != nil || f.AgentID < 1 || fmt.Sprint(f.AgentID) != q.AgentID {
			v.Add("agent_id", "must be an agent ID id")
		}
	}
	f.From = parseTimeParam(&v, "from", q.From)
	f.To = parseTimeParam(&v, "to", q.To)
	if q.Group != "" {
		var gid int64
		if _, err := fmt.Sscan(q.Group, &gid); err != nil || fmt.Sprint(gid) != q.Group {
			v.Add("group", "must be a group id")
		} else {
			tree, err := loadTree(ctx, s.store.Read(), a.TenantID)
			if err != nil {
				return nil, err
			}
			if _, ok := tree.byID[gid]; !ok {
				v.Add("group", "no group with id %d", gid)
			} else {
				f.GroupIDs = tree.subtree(gid)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sf, err := s.scopeOf(ctx, a, perms...)
	if err != nil {
		return nil, err
	}
	f.Scope = sf
	items, total, err := s.store.Read().ListInteractions(ctx, a.TenantID, f)
	if err != nil {
		return nil, err
	}
	return &Page[Interaction]{Items: items, Total: total, Page: f.Page, PerPage: f.PerPage}, nil
}

// parseTimeParam reads an RFC 3339 time or a date (YYYY-MM-DD, UTC midnight).
func parseTimeParam(v *Validation, field, s string) *time.Time {
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	v.Add(field, "must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T08:00:00Z)")
	return nil
}
