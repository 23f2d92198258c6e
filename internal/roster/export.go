package roster

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// exportChunk users are read per query where a list is walked in pages
// (bulk actions); WriteUsersCSV flushes after each exportChunk rows.
const exportChunk = 1000

// WriteUsersCSV writes every user the list q selects (its filters and the
// actor's scope; paging and sort are ignored: users come in id order) as the
// users CSV, the import's columns and then ExportOnlyColumns. It reads them
// in id order from one streaming query, so memory stays one row however
// many users there are; flush, when set, is called after each exportChunk
// rows.
func (s *Service) WriteUsersCSV(ctx context.Context, a *Actor, q UserQuery, w io.Writer, flush func()) error {
	if err := a.require(PermExportCSV); err != nil {
		return err
	}
	if err := a.require(PermUsersView); err != nil {
		return err
	}
	q.Page, q.PerPage, q.Sort, q.Order = "", "", "", ""
	f, err := s.userFilter(ctx, a, q)
	if err != nil {
		return err
	}
	if f.Scope, err = s.scopeOf(ctx, a, PermUsersView); err != nil {
		return err
	}
	r := s.store.Read()
	tree, err := loadTree(ctx, r, a.TenantID)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string{}, ImportColumns...), ExportOnlyColumns...)); err != nil {
		return err
	}
	rec := make([]string, 0, len(ImportColumns)+len(ExportOnlyColumns))
	rows := 0
	f.Keyset, f.Stream = true, func(u *User, keys []AgentKey) error {
		agents := make([]string, len(keys))
		for j, k := range keys {
			agents[j] = k.String()
		}
		access := make([]string, len(u.GroupAccess))
		for j, id := range u.GroupAccess {
			access[j] = tree.ref(id)
		}
		number := ""
		if u.AgentNumber != nil {
			number = strconv.FormatInt(*u.AgentNumber, 10)
		}
		last := ""
		if u.LastLoginAt != nil {
			last = u.LastLoginAt.UTC().Format(time.RFC3339)
		}
		rec = append(rec[:0], u.Username, u.Name, u.Email, u.Mobile, u.Language, tree.ref(u.GroupID),
			strings.Join(u.Roles, ";"), number, strings.Join(u.Nicknames, ";"), u.RingTo,
			strconv.FormatBool(u.ScoringEnabled), strconv.FormatBool(u.Roaming), strings.Join(access, ";"),
			strings.Join(agents, ";"), strconv.FormatInt(u.ID, 10), u.Status, last, u.CreatedAt.UTC().Format(time.RFC3339))
		for j := range rec {
			rec[j] = CSVSafe(rec[j])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if rows++; rows%exportChunk == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if flush != nil {
				flush()
			}
			return ctx.Err()
		}
		return nil
	}
	// One streaming query: memory stays one row
	// however many users there are.
	if _, _, err := r.ListUsers(ctx, a.TenantID, f); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if flush != nil {
		flush()
	}
	return nil
}

// ref names a group in a file: its path of names from level 1, or its id
// when a name holds a '/' (the path would read as another group).
func (t *groupTree) ref(id int64) string {
	var names []string
	for g := t.byID[id]; g != nil; {
		if strings.Contains(g.Name, "/") {
			return strconv.FormatInt(id, 10)
		}
		names = append(names, g.Name)
		if g.ParentID == nil {
			break
		}
		g = t.byID[*g.ParentID]
	}
	if len(names) == 0 {
		return strconv.FormatInt(id, 10)
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, "/")
}

// CSVSafe keeps spreadsheet programs from running a cell as a formula: a
// cell starting with = + - @ or a tab gets a leading apostrophe (phone
// numbers in E.164 excepted). Import takes the apostrophe off again.
func CSVSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) && !isE164(v) {
		return "'" + v
	}
	return v
}

// csvUnsafe undoes CSVSafe.
func csvUnsafe(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}

func isE164(v string) bool {
	if len(v) < 2 || v[0] != '+' {
		return false
	}
	for _, c := range v[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
