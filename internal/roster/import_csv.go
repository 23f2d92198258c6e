package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
)

// The users CSV (docs/rules.md, "Bulk import and export"): a header row,
// columns in any order, UTF-8 with or without a BOM, ',' or ';' between
// fields. Lists inside a field are ';'-separated.

// ImportColumns are the columns an import reads, in the order export
// writes them.
var ImportColumns = []string{"username", "name", "email", "mobile", "language", "group", "roles", "agent_number",
	"nicknames", "ring_to", "scoring_enabled", "roaming", "group_access", "agent_ids"}

// ExportOnlyColumns are written by export and ignored by import, so an
// exported file imports as it is.
var ExportOnlyColumns = []string{"id", "status", "last_login_at", "created_at"}

// MaxImportRows bounds one file (the API's body limit bounds it too).
const MaxImportRows = 1_000_000

// csvRecord is one data row of the file as read: the user input, and the
// group references still to be resolved against the tree.
type csvRecord struct {
	row    int // as a spreadsheet shows it: the header is row 1
	in     UserInput
	group  string   // id or path; "" when not given
	access []string // ids or paths
	errs   []ImportRowError
	broken bool // not a record of the file's shape: nothing more is checked
}

func (r *csvRecord) bad(field, format string, args ...any) {
	r.errs = append(r.errs, rowError(r.row, field, format, args...))
}

// csvUsers reads the users CSV one record at a time.
type csvUsers struct {
	r     *csv.Reader
	col   map[string]int // column name -> index in the record
	width int            // fields per record: the header's
	row   int
}

// openUsersCSV reads the header. delim is ',' or ';', or 0 to detect it from
// the header line (whichever of the two it holds more of).
func openUsersCSV(src io.Reader, delim rune) (*csvUsers, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	if delim == 0 {
		head, _ := br.Peek(br.Size())
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		delim = ','
		if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
			delim = ';'
		}
	}
	r := csv.NewReader(br)
	r.Comma = delim
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // checked per row, so a short row is that row's error
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, importInvalid([]ImportRowError{rowError(1, "", "the file is empty; it needs a header row naming the columns")})
	}
	if err != nil {
		if !isParseError(err) {
			return nil, err // the body could not be read (too large, cut off)
		}
		return nil, importInvalid([]ImportRowError{rowError(1, "", "%s", csvMessage(err))})
	}
	c := &csvUsers{r: r, col: map[string]int{}, width: len(header), row: 1}
	var errs []ImportRowError
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !known(name):
			errs = append(errs, rowError(1, name, "unknown column %s; the columns are %s (and on export %s)",
				echo(name), strings.Join(ImportColumns, ", "), strings.Join(ExportOnlyColumns, ", ")))
		case c.has(name):
			errs = append(errs, rowError(1, name, "the column is named twice"))
		default:
			c.col[name] = i
		}
	}
	if !c.has("username") {
		errs = append(errs, rowError(1, "username", "the column username is required: it names each user"))
	}
	if errs != nil {
		return nil, importInvalid(errs)
	}
	return c, nil
}

func known(name string) bool {
	for _, c := range ImportColumns {
		if c == name {
			return true
		}
	}
	for _, c := range ExportOnlyColumns {
		if c == name {
			return true
		}
	}
	return false
}

func (c *csvUsers) has(name string) bool { _, ok := c.col[name]; return ok }

// next reads the next record; io.EOF at the end. A malformed record is
// returned with its error; a broken quote ends the file (stop is true).
func (c *csvUsers) next(create bool, defaultLanguage string) (rec *csvRecord, stop bool, err error) {
	fields, err := c.r.Read()
	c.row++
	if errors.Is(err, io.EOF) {
		return nil, true, io.EOF
	}
	if err != nil && !isParseError(err) {
		return nil, true, err
	}
	rec = &csvRecord{row: c.row}
	if err != nil {
		rec.bad("", "%s", csvMessage(err))
		rec.broken = true
		return rec, true, nil
	}
	if len(fields) != c.width {
		rec.bad("", "has %d fields, the header has %d", len(fields), c.width)
		rec.broken = true
		return rec, false, nil
	}
	get := func(name string) (string, bool) {
		i, ok := c.col[name]
		if !ok {
			return "", false
		}
		return csvUnsafe(strings.TrimSpace(fields[i])), true
	}
	in := &rec.in
	if v, ok := get("username"); ok {
		in.Username = Some(v)
	}
	for _, f := range []struct {
		name string
		opt  *Opt[string]
		keep bool // an empty cell keeps the value (upsert) or takes the default (create)
	}{{"name", &in.Name, true}, {"email", &in.Email, false}, {"mobile", &in.Mobile, false},
		{"language", &in.Language, true}, {"ring_to", &in.RingTo, false}} {
		if v, ok := get(f.name); ok && !(f.keep && v == "") {
			*f.opt = Some(v)
		}
	}
	if create && !in.Language.Set {
		in.Language = Some(defaultLanguage)
	}
	if v, ok := get("group"); ok {
		rec.group = v
	}
	if v, ok := get("roles"); ok && v != "" {
		in.Roles = Some(splitList(v))
	}
	if v, ok := get("agent_number"); ok {
		in.AgentNumber = Opt[int64]{Set: true, Null: v == ""}
		if v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				rec.bad("agent_number", "must be a whole number from 1 to 999999999")
				in.AgentNumber = Opt[int64]{}
			}
			in.AgentNumber.V = n
		}
	}
	if v, ok := get("nicknames"); ok {
		in.Nicknames = Some(splitList(v))
	}
	for _, f := range []struct {
		name string
		opt  *Opt[bool]
	}{{"scoring_enabled", &in.ScoringEnabled}, {"roaming", &in.Roaming}} {
		if v, ok := get(f.name); ok && v != "" {
			b, ok := parseCSVBool(v)
			if !ok {
				rec.bad(f.name, "must be true or false")
			}
			*f.opt = Some(b)
		}
	}
	if v, ok := get("group_access"); ok {
		rec.access = splitList(v)
		in.GroupAccess = Some([]int64{}) // filled when the references are resolved
	}
	if v, ok := get("agent_ids"); ok {
		refs := []AgentRef{}
		for _, s := range splitList(v) {
			ref := ParseAgentRef(s)
			if ref.ID != 0 { // a file names agent IDs by their source, never by an id of this database
				ref = AgentRef{bad: s}
			}
			refs = append(refs, ref)
		}
		in.AgentIDs = Some(refs)
	}
	return rec, false, nil
}

// splitList splits a ';'-separated list, trimmed, without empty items.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseCSVBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// csvMessage says what encoding/csv found, without its own row numbers
// (the row is named separately).
func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "not valid CSV: " + pe.Err.Error()
	}
	return "not valid CSV: " + err.Error()
}

func isParseError(err error) bool {
	var pe *csv.ParseError
	return errors.As(err, &pe) && !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, csv.ErrFieldCount)
}

// PreviewCSV reads the header and up to n data rows of a users CSV as they
// are, with the delimiter detected as an import would (0) or given.
func PreviewCSV(src io.Reader, delim rune, n int) (header []string, rows [][]string, err error) {
	c, err := openUsersCSV(src, delim)
	var bad importInvalid
	if errors.As(err, &bad) || err != nil {
		return nil, nil, err
	}
	header = make([]string, c.width)
	for name, i := range c.col {
		header[i] = name
	}
	c.r.ReuseRecord = false
	for len(rows) < n {
		rec, err := c.r.Read()
		if err != nil {
			break
		}
		rows = append(rows, rec)
	}
	return header, rows, nil
}

// CountImportRows counts the lines of a file after its header and rewinds
// it, for a progress bar's total (a quoted cell spanning lines counts more
// than once: the total is a guide, not a check).
func CountImportRows(f io.ReadSeeker) (int, error) {
	buf := make([]byte, 256<<10)
	n, last := 0, byte('\n')
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return max(n-1, 0), nil
}
