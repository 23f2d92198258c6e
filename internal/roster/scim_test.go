package roster

import "testing"

// TestSCIMSelective: which filters an index narrows, so that the others are
// refused on large tenants instead of scanning them.
func TestSCIMSelective(t *testing.T) {
	cmp := func(field, op string, v any) *SCIMFilter { return &SCIMFilter{Op: op, Field: field, Value: v} }
	and := func(a, b *SCIMFilter) *SCIMFilter { return &SCIMFilter{Op: "and", Args: []*SCIMFilter{a, b}} }
	or := func(a, b *SCIMFilter) *SCIMFilter { return &SCIMFilter{Op: "or", Args: []*SCIMFilter{a, b}} }
	not := func(a *SCIMFilter) *SCIMFilter { return &SCIMFilter{Op: "not", Args: []*SCIMFilter{a}} }
	user := cmp(SCIMFieldUsername, "eq", "ann")
	active := cmp(SCIMFieldActive, "eq", true)
	for _, c := range []struct {
		name string
		f    *SCIMFilter
		want bool
	}{
		{"userName eq", user, true},
		{"externalId eq", cmp(SCIMFieldExternalID, "eq", "x"), true},
		{"email sw", cmp(SCIMFieldEmail, "sw", "a"), true},
		{"name co 3", cmp(SCIMFieldName, "co", "ann"), true},
		{"name co 2", cmp(SCIMFieldName, "co", "an"), false},
		{"externalId co", cmp(SCIMFieldExternalID, "co", "abc"), false},
		{"externalId pr", cmp(SCIMFieldExternalID, "pr", nil), false},
		{"active", active, false},
		{"created gt", cmp(SCIMFieldCreated, "gt", nil), false},
		{"and with one", and(active, user), true},
		{"or with one", or(active, user), false},
		{"or of two", or(user, cmp(SCIMFieldEmail, "eq", "a@b")), true},
		{"not", not(user), false},
		{"userName ne", cmp(SCIMFieldUsername, "ne", "ann"), false},
	} {
		if got := scimSelective(c.f); got != c.want {
			t.Errorf("%s: selective %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckSCIMFilter(t *testing.T) {
	f := &SCIMFilter{Op: "eq", Field: SCIMFieldUsername, Value: "a"}
	for range 25 {
		f = &SCIMFilter{Op: "not", Args: []*SCIMFilter{f}}
	}
	if ErrorCode(checkSCIMFilter(f, 0)) != EInvalid {
		t.Error("a filter nested 25 deep was accepted")
	}
	long := &SCIMFilter{Op: "eq", Field: SCIMFieldUsername, Value: string(make([]byte, 300))}
	if ErrorCode(checkSCIMFilter(long, 0)) != EInvalid {
		t.Error("a 300-byte value was accepted")
	}
}
