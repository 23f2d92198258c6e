package main

import (
	"testing"
	"time"
)

// The import's terminal line: how far, of how many when the file's size is
// known, and the stage's rate once a second has passed.
func TestImportMeterLine(t *testing.T) {
	cases := []struct {
		total, rows int
		stage       string
		took        time.Duration
		want        string
	}{
		{0, 5000, "checked", 500 * time.Millisecond, "checking 5000 rows"},
		{100000, 45000, "written", 9 * time.Second, "writing 45000 of 100000 rows (45%), 5000 rows/s"},
		{100000, 100000, "staged", 2 * time.Second, "staging 100000 of 100000 rows (100%), 50000 rows/s"},
		{10, 12, "checked", 0, "checking 12 of 10 rows (100%)"}, // the total is a guide: never past 100%
	}
	for _, c := range cases {
		m := &importMeter{total: c.total}
		if got := m.line(c.stage, c.rows, c.took); got != c.want {
			t.Errorf("%+v: %q, want %q", c, got, c.want)
		}
	}
}
