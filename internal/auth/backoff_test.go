package auth

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := Backoff{Free: 5, Base: time.Second, Max: 30 * time.Second, Window: 15 * time.Minute}
	start := time.Unix(1_000_000, 0)
	now := start.Add(time.Minute)
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {4, 0}, {5, time.Second}, {6, 2 * time.Second}, {7, 4 * time.Second}, {8, 8 * time.Second},
		{9, 16 * time.Second}, {10, 30 * time.Second}, {11, 30 * time.Second}, {1 << 20, 30 * time.Second},
	} {
		if got := b.Delay(c.n, start, now); got != c.want {
			t.Errorf("Delay(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	if got := b.Delay(50, start, start.Add(15*time.Minute)); got != 0 {
		t.Errorf("after the window: %v, want 0", got)
	}
	if got := (Backoff{}).Delay(50, start, now); got != 0 {
		t.Errorf("zero Backoff: %v, want 0", got)
	}
}
