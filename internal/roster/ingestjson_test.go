package roster

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var ingestJSONSeeds = []string{
	`{"source":"voice","external_id":"c1","agent_external_id":"4711","agent_name":"Agent 4711","group_id":12,"channel":"voice","started_at":"2026-11-20T08:00:00Z","duration_s":120}`,
	` { "source" : "voice" , "external_id":"c1", "group_id": null, "duration_s": -0 } `,
	`{"source":"voice","external_id":"Zoë","agent_name":"Zoë Ωmega","started_at":"2026-11-20T08:00:00.123+02:00"}`,
	`{"Source":"voice"}`,
	`{"source":"vo\"ice"}`,
	`{"source":"voice","colour":"red"}`,
	`{"duration_s":1.5}`,
	`{"duration_s":1e3}`,
	`{"duration_s":012}`,
	`{"duration_s":"12"}`,
	`{"duration_s":99999999999999999999}`,
	`{"group_id":nul}`,
	`{"group_id":-5}`,
	`{"started_at":"yesterday"}`,
	`{"started_at":null}`,
	`{"source":null}`,
	`{"source":"a","source":"b"}`,
	`{"source":"a",}`,
	`{"source":"a"} x`,
	`{"source":"a"}{}`,
	`{}`,
	`[]`,
	`null`,
	`"x"`,
	"{\"source\":\"a\xffb\"}",
	"{\"source\":\"a\tb\"}",
	`{"started_at":"2026-11-20T08:00:00z"}`,
	`{"started_at":"2026-13-20T08:00:00Z"}`,
}

// The fast path must decode exactly what encoding/json decodes, and give up
// on everything encoding/json rejects.
func FuzzFastIngestDecode(f *testing.F) {
	for _, s := range ingestJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastDecode(t, b)
	})
}

func TestFastIngestDecode(t *testing.T) {
	accepted := 0
	for _, s := range ingestJSONSeeds {
		if checkFastDecode(t, []byte(s)) {
			accepted++
		}
	}
	if accepted < 3 {
		t.Errorf("the fast path took %d of the plain rows", accepted)
	}
}

func checkFastDecode(t *testing.T, b []byte) bool {
	t.Helper()
	d := fastDecoder{interned: map[string]string{}}
	var fast InteractionInput
	if !d.decode(b, &fast) {
		return false
	}
	var slow InteractionInput
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&slow); err != nil {
		t.Fatalf("fast path took %q, encoding/json says %v", b, err)
	}
	if rest, _ := dec.Token(); rest != nil || !json.Valid(b) {
		t.Fatalf("fast path took %q, which is not one JSON value", b)
	}
	if !reflect.DeepEqual(fast, slow) || !fast.StartedAt.Equal(slow.StartedAt) || fast.StartedAt.Location().String() != slow.StartedAt.Location().String() {
		t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
	}
	return true
}
