package auth

import (
	"testing"
	"time"
)

// TestHashesWaitForASlot: with every slot taken, a verification waits; it
// runs as soon as one is given back.
func TestHashesWaitForASlot(t *testing.T) {
	h := NewHasher(Params{Memory: 1024, Time: 1, Threads: 1})
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	done := make(chan bool)
	go func() {
		ok, _, _ := h.Verify("correct horse battery staple", enc)
		done <- ok
	}()
	select {
	case <-done:
		t.Fatal("a verification ran while every slot was taken")
	case <-time.After(200 * time.Millisecond): // a 1 MiB hash takes about 2 ms
	}
	<-h.slots
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("verification failed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the verification did not run after a slot was given back")
	}
}
