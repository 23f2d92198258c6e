package roster

import (
	"strconv"
	"unicode/utf8"
)

// The fast path of ingest's JSON: a reader for the plain shape a feed sends
// (an object of the known fields, spelled exactly, strings without escapes,
// integers, group_id null or an integer). It accepts only input that
// encoding/json decodes to the same value without error, and gives up on
// anything else, which then goes through encoding/json, so that every
// error and every unusual spelling (escapes, case-folded keys, null fields)
// behaves as before. Decoding is 10% of an ingest batch's time with
// encoding/json's reflection; this reader takes a fraction of it.

// fastDecoder holds what a batch's rows share: agent IDs, names and sources
// repeat across rows, so their strings are allocated once per batch.
type fastDecoder struct {
	interned map[string]string
}

func (d *fastDecoder) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(d.interned) < 4096 {
		d.interned[s] = s
	}
	return s
}

// decode reads one row into in (a zero value); false means "use encoding/json".
func (d *fastDecoder) decode(b []byte, in *InteractionInput) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		j = skipSpace(b, j)
		if j >= len(b) || b[j] != ':' {
			return false
		}
		j = skipSpace(b, j+1)
		if j >= len(b) {
			return false
		}
		switch string(key) {
		case "source", "agent_external_id", "agent_name", "channel":
			v, k, ok := plainString(b, j)
			if !ok {
				return false
			}
			s := d.intern(v)
			switch string(key) {
			case "source":
				in.Source = s
			case "agent_external_id":
				in.AgentExternalID = s
			case "agent_name":
				in.AgentName = s
			default:
				in.Channel = s
			}
			j = k
		case "external_id":
			v, k, ok := plainString(b, j)
			if !ok {
				return false
			}
			in.ExternalID, j = string(v), k
		case "started_at":
			_, k, ok := plainString(b, j)
			// time.Time's own method: the same strict RFC 3339 reading.
			if !ok || in.StartedAt.UnmarshalJSON(b[j:k]) != nil {
				return false
			}
			j = k
		case "duration_s":
			n, k, ok := plainInt(b, j)
			if !ok {
				return false
			}
			in.DurationS, j = n, k
		case "group_id":
			if len(b)-j >= 4 && string(b[j:j+4]) == "null" {
				in.GroupID, j = nil, j+4
				break
			}
			n, k, ok := plainInt(b, j)
			if !ok {
				return false
			}
			in.GroupID, j = &n, k
		default:
			return false
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return false
		}
		switch b[j] {
		case ',':
			i = skipSpace(b, j+1)
		case '}':
			return skipSpace(b, j+1) == len(b)
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] without escapes and of valid
// UTF-8; it returns the content and the index after the closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			v := b[i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, 0, false // encoding/json would replace the bad bytes
			}
			return v, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false
}

// plainInt reads a JSON integer (no fraction, no exponent) that fits int64.
func plainInt(b []byte, i int) (int64, int, bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	switch {
	case j == start, b[start] == '0' && j-start > 1:
		return 0, 0, false // no digits, or a leading zero (not JSON)
	case j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E'):
		return 0, 0, false
	}
	n, err := strconv.ParseInt(string(b[i:j]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return n, j, true
}
