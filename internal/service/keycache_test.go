package service

import (
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

func TestKeyRecordCache(t *testing.T) {
	t.Parallel()
	k := &servicekey.Key{ID: "0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a70", Name: "app", State: servicekey.Active,
		Spec: servicekey.Spec{Type: servicekey.Oct, Size: 256}, CreatedAt: time.Unix(1, 0),
		Versions: []servicekey.Version{{Number: 1, CreatedAt: time.Unix(1, 0)}}, LatestVersion: 1}
	b1, err := encodeKey(k)
	if err != nil {
		t.Fatal(err)
	}
	var c keyRecordCache
	got, err := c.decode(b1)
	if err != nil || got.Name != "app" || len(got.Versions) != 1 {
		t.Fatalf("decode(record) = %+v, %v; want the key app with 1 version", got, err)
	}
	// The caller's copy is its own.
	got.Name = "changed"
	got.Versions[0].Number = 9
	got.Versions = append(got.Versions, servicekey.Version{Number: 2})
	again, _ := c.decode(b1)
	if again.Name != "app" || len(again.Versions) != 1 || again.Versions[0].Number != 1 {
		t.Errorf("decode(record) after the caller changed its copy = %+v, want the stored key", again)
	}
	// A changed record is decoded anew, never served stale.
	k.State, k.Name = servicekey.Deactivated, "renamed"
	b2, _ := encodeKey(k)
	if got, _ := c.decode(b2); got.State != servicekey.Deactivated || got.Name != "renamed" {
		t.Errorf("decode(changed record) = %+v, want the new state and name", got)
	}
	if _, err := c.decode([]byte("{")); err == nil {
		t.Error("decode(bad record) = nil error")
	}
	// It stays bounded.
	for i := range keyRecordCacheSize + 10 {
		k.Name = "k" + string(rune('a'+i%26)) + time.Duration(i).String()
		b, _ := encodeKey(k)
		if _, err := c.decode(b); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.m); n > keyRecordCacheSize {
		t.Errorf("the cache holds %d records, want at most %d", n, keyRecordCacheSize)
	}
}
