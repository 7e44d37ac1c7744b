package service

import "testing"

func TestAuthFailed(t *testing.T) {
	s := New(Options{})
	for i := range authFailBurst {
		if s.AuthFailed("192.0.2.1:5000") {
			t.Fatalf("failure %d of a burst of %d was limited", i+1, authFailBurst)
		}
	}
	if !s.AuthFailed("192.0.2.1:5001") {
		t.Error("failure beyond the burst from the same host was not limited")
	}
	if s.AuthFailed("192.0.2.2:5000") {
		t.Error("another address was limited")
	}
}
