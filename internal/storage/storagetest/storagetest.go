package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Run checks that the backends made by newBackend keep the contract of
// [storage.Backend] and [storage.Tx]. It runs one subtest per rule and calls
// newBackend once per subtest, with that subtest's t, so a backend may use
// t.TempDir and t.Cleanup. Run closes every backend when its subtest ends;
// newBackend may register its own Close as well, since Close is idempotent.
//
// The subtests call t.Parallel, so they finish after the test function that
// called Run has returned. Functions passed to Update never call t.Fatal,
// because a backend may run them on a goroutine of its own.
func Run(t *testing.T, newBackend func(t *testing.T) storage.Backend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Backend)
	}{
		{"get/missing key", testGetMissing},
		{"get/empty value is not missing", testEmptyValue},
		{"put/exact bytes", testExactBytes},
		{"put/input is copied", testCopyIn},
		{"get/output is copied", testCopyOut},
		{"delete/idempotent", testDeleteIdempotent},
		{"delete/parent leaves children", testDeleteParent},
		{"list/byte-wise order", testListOrder},
		{"list/prefix", testListPrefix},
		{"list/paging", testListPaging},
		{"list/sees own writes", testListOwnWrites},
		{"list/2000 keys in pages of 100", testListLarge},
		{"update/error leaves no trace", testUpdateError},
		{"update/reads own writes", testReadOwnWrites},
		{"update/no lost increment", testConcurrentIncrement},
		{"update/concurrent failures leave no trace", testConcurrentFailures},
		{"update/one create-if-absent wins", testCreateIfAbsent},
		{"update/shared reads", testSharedReads},
		{"update/panic propagates and commits nothing", testUpdatePanics},
		{"view/never sees a partial update", testViewSnapshot},
		{"view/writes fail with ErrReadOnly", testViewReadOnly},
		{"view/panic propagates", testViewPanics},
		{"view/revision changes with every commit", testRevision},
		{"getmany/values, absent and empty keys, copies", testGetMany},
		{"getmany/never sees a partial update", testGetManySnapshot},
		{"getmany/context done and closed", testGetManyDone},
		{"context/done before fn runs", testContextDone},
		{"close/then every call fails with ErrClosed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			if b == nil {
				t.Fatal("newBackend returned nil")
			}
			t.Cleanup(func() {
				if err := within("Close", b.Close); err != nil {
					t.Errorf("Close() = %v, want nil", err)
				}
			})
			tc.fn(t, b)
		})
	}
}

// errRollback is returned by test transactions that only want to observe
// something and then discard their writes.
var errRollback = errors.New("storagetest: deliberate rollback")

// update runs fn in b.Update and fails the test if it returns an error.
func update(t *testing.T, b storage.Backend, fn func(storage.Tx) error) {
	t.Helper()
	if err := b.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
}

// view runs fn in b.View and fails the test if it returns an error.
func view(t *testing.T, b storage.Backend, fn func(storage.Tx) error) {
	t.Helper()
	if err := b.View(t.Context(), fn); err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

// putAll commits the pairs of kv in one Update.
func putAll(t *testing.T, b storage.Backend, kv map[string]string) {
	t.Helper()
	update(t, b, func(tx storage.Tx) error {
		for k, v := range kv {
			if err := tx.Put(k, []byte(v)); err != nil {
				return fmt.Errorf("Put(%q): %w", k, err)
			}
		}
		return nil
	})
}

// putKeys commits keys in one Update, each with its own name as value.
func putKeys(t *testing.T, b storage.Backend, keys ...string) {
	t.Helper()
	kv := make(map[string]string, len(keys))
	for _, k := range keys {
		kv[k] = k
	}
	putAll(t, b, kv)
}

// get reads key in its own View.
func get(t *testing.T, b storage.Backend, key string) ([]byte, error) {
	t.Helper()
	var val []byte
	var err error
	view(t, b, func(tx storage.Tx) error {
		val, err = tx.Get(key)
		return nil
	})
	return val, err
}

// wantValue fails the test unless key holds want in a fresh View.
func wantValue(t *testing.T, b storage.Backend, key, want string) {
	t.Helper()
	got, err := get(t, b, key)
	if err != nil || string(got) != want {
		t.Errorf("Get(%q) = %q, %v; want %q, nil", key, got, err, want)
	}
}

// wantMissing fails the test unless key is absent in a fresh View.
func wantMissing(t *testing.T, b storage.Backend, key string) {
	t.Helper()
	got, err := get(t, b, key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want ErrNotFound", key, got, err)
	}
}

// list runs List in its own View.
func list(t *testing.T, b storage.Backend, prefix, after string, limit int) []string {
	t.Helper()
	var keys []string
	view(t, b, func(tx storage.Tx) error {
		var err error
		keys, err = tx.List(prefix, after, limit)
		if err != nil {
			return fmt.Errorf("List(%q, %q, %d): %w", prefix, after, limit, err)
		}
		return nil
	})
	return keys
}

// wantKeys fails the test unless got equals want. An empty want matches a
// nil or empty got: the contract does not say which an empty List returns.
func wantKeys(t *testing.T, call string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", call, got, want)
	}
}

// shuffled returns a copy of keys in a fixed pseudo-random order, so that
// backends cannot pass the ordering tests by keeping insertion order.
func shuffled(keys []string) []string {
	out := slices.Clone(keys)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Rule 1: a missing key is ErrNotFound everywhere.
func testGetMissing(t *testing.T, b storage.Backend) {
	putKeys(t, b, "other", "gone")
	update(t, b, func(tx storage.Tx) error { return tx.Delete("gone") })

	for _, key := range []string{"missing", "gone", "othe", "other/"} {
		wantMissing(t, b, key)
		var err error
		_ = b.Update(t.Context(), func(tx storage.Tx) error {
			_, err = tx.Get(key)
			return errRollback
		})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q) in Update = %v, want ErrNotFound", key, err)
		}
	}
}

// Rule 1: an empty value round-trips and is not a missing key.
func testEmptyValue(t *testing.T, b storage.Backend) {
	tests := []struct {
		name  string
		key   string
		value []byte
	}{
		{"empty slice", "empty", []byte{}},
		{"nil slice", "nil", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var inTx []byte
			var inTxErr error
			update(t, b, func(tx storage.Tx) error {
				if err := tx.Put(tc.key, tc.value); err != nil {
					return err
				}
				inTx, inTxErr = tx.Get(tc.key)
				return nil
			})
			if inTxErr != nil || len(inTx) != 0 {
				t.Errorf("Get(%q) in the Update that put it = %q, %v; want empty, nil", tc.key, inTx, inTxErr)
			}
			got, err := get(t, b, tc.key)
			if err != nil || len(got) != 0 {
				t.Errorf("Get(%q) after commit = %q, %v; want empty, nil", tc.key, got, err)
			}
			if keys := list(t, b, tc.key, "", 0); !slices.Contains(keys, tc.key) {
				t.Errorf("List(%q, \"\", 0) = %q, want it to contain %q", tc.key, keys, tc.key)
			}
		})
	}
}

// Rule 2: Put then Get returns the exact bytes, in and after the
// transaction, and an overwrite leaves nothing of the longer old value.
func testExactBytes(t *testing.T, b storage.Backend) {
	large := make([]byte, 64<<10)
	for i := range large {
		large[i] = byte(i * 7)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"ascii", []byte("hello")},
		{"binary with NUL and 0xff", []byte{0, 1, 0xff, 0, 0xfe}},
		{"invalid utf-8", []byte{0xc3, 0x28, 0xa0, 0xa1}},
		{"64 KiB", large},
		{"shorter overwrite", []byte("x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every case writes the same key, so "shorter overwrite" replaces
			// the 64 KiB value.
			const key = "k"
			var inTx []byte
			var inTxErr error
			update(t, b, func(tx storage.Tx) error {
				if err := tx.Put(key, tc.value); err != nil {
					return err
				}
				inTx, inTxErr = tx.Get(key)
				return nil
			})
			if inTxErr != nil || !bytes.Equal(inTx, tc.value) {
				t.Errorf("Get in the Update that put %d bytes = %d bytes, %v; want the exact bytes", len(tc.value), len(inTx), inTxErr)
			}
			got, err := get(t, b, key)
			if err != nil || !bytes.Equal(got, tc.value) {
				t.Errorf("Get after committing %d bytes = %d bytes, %v; want the exact bytes", len(tc.value), len(got), err)
			}
		})
	}
}

// Rule 2: mutating the slice passed to Put changes nothing stored.
func testCopyIn(t *testing.T, b storage.Backend) {
	buf := []byte("original")
	update(t, b, func(tx storage.Tx) error { return tx.Put("committed", buf) })
	for i := range buf {
		buf[i] = 'X'
	}
	wantValue(t, b, "committed", "original")

	var inTx []byte
	update(t, b, func(tx storage.Tx) error {
		buf := []byte("original")
		if err := tx.Put("same-tx", buf); err != nil {
			return err
		}
		for i := range buf {
			buf[i] = 'X'
		}
		var err error
		inTx, err = tx.Get("same-tx")
		return err
	})
	if string(inTx) != "original" {
		t.Errorf("Get after mutating the Put input in the same Update = %q, want %q", inTx, "original")
	}
	wantValue(t, b, "same-tx", "original")
}

// Rule 2: mutating a slice returned by Get, up to its capacity, changes
// nothing stored, neither the key read nor its neighbours.
func testCopyOut(t *testing.T, b storage.Backend) {
	putAll(t, b, map[string]string{"a": "alpha", "b": "bravo", "c": "charlie"})
	scribble := func(v []byte) {
		full := v[:cap(v)]
		for i := range full {
			full[i] = 'X'
		}
	}

	view(t, b, func(tx storage.Tx) error {
		v, err := tx.Get("b")
		if err != nil {
			return err
		}
		scribble(v)
		return nil
	})
	wantValue(t, b, "a", "alpha")
	wantValue(t, b, "b", "bravo")
	wantValue(t, b, "c", "charlie")

	var again []byte
	update(t, b, func(tx storage.Tx) error {
		if err := tx.Put("d", []byte("delta")); err != nil {
			return err
		}
		for _, k := range []string{"b", "d"} {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			scribble(v)
		}
		var err error
		again, err = tx.Get("d")
		return err
	})
	if string(again) != "delta" {
		t.Errorf("Get(%q) after mutating an earlier Get result in the same Update = %q, want %q", "d", again, "delta")
	}
	wantValue(t, b, "b", "bravo")
	wantValue(t, b, "d", "delta")
}

// Rule 3: Delete is idempotent, in one transaction and across several.
func testDeleteIdempotent(t *testing.T, b storage.Backend) {
	putKeys(t, b, "k", "j")

	update(t, b, func(tx storage.Tx) error {
		for _, k := range []string{"never", "k", "k"} {
			if err := tx.Delete(k); err != nil {
				return fmt.Errorf("Delete(%q): %w", k, err)
			}
		}
		return nil
	})
	update(t, b, func(tx storage.Tx) error { return tx.Delete("k") })
	wantMissing(t, b, "k")
	wantMissing(t, b, "never")
	wantValue(t, b, "j", "j")

	// A put followed by a delete in one transaction leaves nothing; the
	// reverse leaves the value.
	update(t, b, func(tx storage.Tx) error {
		if err := tx.Put("put-del", []byte("v")); err != nil {
			return err
		}
		if err := tx.Delete("put-del"); err != nil {
			return err
		}
		if err := tx.Delete("j"); err != nil {
			return err
		}
		return tx.Put("j", []byte("again"))
	})
	wantMissing(t, b, "put-del")
	wantValue(t, b, "j", "again")
}

// Rule 3: keys are flat; deleting "a" does not touch "a/b".
func testDeleteParent(t *testing.T, b storage.Backend) {
	putKeys(t, b, "a", "a/b", "a/b/c", "a/c", "a-", "ab")
	update(t, b, func(tx storage.Tx) error {
		if err := tx.Delete("a"); err != nil {
			return err
		}
		// "a/" is a directory-like prefix, not a key: deleting it is a no-op.
		return tx.Delete("a/")
	})
	wantMissing(t, b, "a")
	want := []string{"a-", "a/b", "a/b/c", "a/c", "ab"}
	wantKeys(t, "List(\"\", \"\", 0)", list(t, b, "", "", 0), want)
	for _, k := range want {
		wantValue(t, b, k, k)
	}
}

// Rule 4: keys sort byte-wise, whatever the case, punctuation or encoding.
func testListOrder(t *testing.T, b storage.Backend) {
	want := []string{
		"A", "Z", "_", "a", "a b", "a-", "a.", "a/", "a/b", "a0", "aA", "a_", "aa",
		"b", "z", "~", "é", "日本", "😀",
	}
	if !slices.IsSorted(want) {
		t.Fatal("test data is not in byte-wise order")
	}
	keys := shuffled(want)
	half := len(keys) / 2
	putKeys(t, b, keys[:half]...)

	// Half the keys are committed and half are pending, so the transaction's
	// List must merge both in order.
	var inTx []string
	update(t, b, func(tx storage.Tx) error {
		for _, k := range keys[half:] {
			if err := tx.Put(k, []byte(k)); err != nil {
				return err
			}
		}
		var err error
		inTx, err = tx.List("", "", 0)
		return err
	})
	wantKeys(t, "List(\"\", \"\", 0) in Update", inTx, want)
	wantKeys(t, "List(\"\", \"\", 0)", list(t, b, "", "", 0), want)
}

// Rule 4: List filters by byte-wise prefix.
func testListPrefix(t *testing.T, b storage.Backend) {
	putKeys(t, b, "a", "a/b", "a/b/c", "a/c", "a0", "ab", "b/x", "é/1", "é/2")
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a", "a/b", "a/b/c", "a/c", "a0", "ab", "b/x", "é/1", "é/2"}},
		{"a", []string{"a", "a/b", "a/b/c", "a/c", "a0", "ab"}},
		{"a/", []string{"a/b", "a/b/c", "a/c"}},
		{"a/b", []string{"a/b", "a/b/c"}},
		{"a/b/c", []string{"a/b/c"}},
		{"b/", []string{"b/x"}},
		{"é/", []string{"é/1", "é/2"}},
		{"A", nil},
		{"c", nil},
		{"a/b/c/", nil},
	}
	for _, tc := range tests {
		t.Run("prefix="+tc.prefix, func(t *testing.T) {
			call := fmt.Sprintf("List(%q, \"\", 0)", tc.prefix)
			wantKeys(t, call, list(t, b, tc.prefix, "", 0), tc.want)
		})
	}
}

// Rule 4: List pages with after (exclusive) and limit (<= 0: no limit).
func testListPaging(t *testing.T, b storage.Backend) {
	p := func(ns ...int) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = "p/" + strconv.Itoa(n)
		}
		return out
	}
	putKeys(t, b, append(p(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), "o/9", "p", "q/0")...)
	all := p(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	tests := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, all},
		{"", -1, all},
		{"", 3, p(0, 1, 2)},
		{"", 100, all},
		{"p/2", 0, p(3, 4, 5, 6, 7, 8, 9)},
		{"p/2", 2, p(3, 4)},
		{"p/25", 2, p(3, 4)}, // after need not be a key
		{"p/9", 0, nil},
		{"z", 0, nil},
		{"a", 0, all}, // after sorts before the prefix
		{"p", 0, all},
		{"p/", 0, all},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("after=%s/limit=%d", tc.after, tc.limit)
		t.Run(name, func(t *testing.T) {
			call := fmt.Sprintf("List(%q, %q, %d)", "p/", tc.after, tc.limit)
			wantKeys(t, call, list(t, b, "p/", tc.after, tc.limit), tc.want)
		})
	}

	t.Run("page by page", func(t *testing.T) {
		var pages [][]string
		after := ""
		for range 10 {
			page := list(t, b, "p/", after, 3)
			if len(page) == 0 {
				break
			}
			pages = append(pages, page)
			after = page[len(page)-1]
		}
		want := [][]string{p(0, 1, 2), p(3, 4, 5), p(6, 7, 8), p(9)}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages of 3 under %q = %q, want %q", "p/", pages, want)
		}
	})
}

// Rule 4: List inside Update sees the transaction's own puts and deletes.
func testListOwnWrites(t *testing.T, b storage.Backend) {
	putKeys(t, b, "a/1", "a/3", "a/5", "a/8")
	var all, page, afterDelete []string
	update(t, b, func(tx storage.Tx) error {
		for _, k := range []string{"a/2", "a/3", "a/6", "b/1"} {
			if err := tx.Put(k, []byte("new")); err != nil {
				return err
			}
		}
		for _, k := range []string{"a/5", "a/7"} {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		var err error
		if all, err = tx.List("a/", "", 0); err != nil {
			return err
		}
		if page, err = tx.List("a/", "a/1", 2); err != nil {
			return err
		}
		if err := tx.Delete("a/2"); err != nil {
			return err
		}
		afterDelete, err = tx.List("a/", "", 0)
		return err
	})
	wantKeys(t, "List(\"a/\", \"\", 0) in Update", all, []string{"a/1", "a/2", "a/3", "a/6", "a/8"})
	wantKeys(t, "List(\"a/\", \"a/1\", 2) in Update", page, []string{"a/2", "a/3"})
	wantKeys(t, "List(\"a/\", \"\", 0) in Update after Delete(\"a/2\")", afterDelete, []string{"a/1", "a/3", "a/6", "a/8"})
	wantKeys(t, "List(\"\", \"\", 0) after commit", list(t, b, "", "", 0), []string{"a/1", "a/3", "a/6", "a/8", "b/1"})
}

// Rule 4 at scale: 2,000 keys put in one transaction come back in order in
// pages of 100.
func testListLarge(t *testing.T, b storage.Backend) {
	const n, pageSize = 2000, 100
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("bulk/%05d", i)
	}
	update(t, b, func(tx storage.Tx) error {
		// Neighbours outside the prefix, on both sides.
		for _, k := range append(shuffled(want), "bulj/x", "bulk0", "a") {
			if err := tx.Put(k, []byte("v-"+k)); err != nil {
				return err
			}
		}
		return nil
	})

	var got []string
	pages := 0
	view(t, b, func(tx storage.Tx) error {
		after := ""
		for {
			page, err := tx.List("bulk/", after, pageSize)
			if err != nil {
				return err
			}
			if len(page) > pageSize {
				return fmt.Errorf("List(%q, %q, %d) returned %d keys", "bulk/", after, pageSize, len(page))
			}
			if len(page) == 0 {
				return nil
			}
			pages++
			got = append(got, page...)
			after = page[len(page)-1]
		}
	})
	if pages != n/pageSize {
		t.Errorf("listing %d keys in pages of %d took %d pages, want %d", n, pageSize, pages, n/pageSize)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged List returned %d keys (first %q), want %d keys in order", len(got), got[:min(len(got), 3)], n)
	}
	view(t, b, func(tx storage.Tx) error {
		for _, k := range want {
			v, err := tx.Get(k)
			if err != nil || string(v) != "v-"+k {
				return fmt.Errorf("Get(%q) = %q, %v; want %q", k, v, err, "v-"+k)
			}
		}
		return nil
	})
}

// codedError is a custom error type, to check that Update hands back fn's
// error itself and not a copy or a string.
type codedError struct{ code int }

func (e *codedError) Error() string { return "storagetest: coded error " + strconv.Itoa(e.code) }

// Rule 5: an Update whose fn fails returns that error and leaves no trace.
func testUpdateError(t *testing.T, b storage.Backend) {
	putAll(t, b, map[string]string{"keep": "1", "gone": "1", "over": "old"})
	coded := &codedError{code: 42}
	tests := []struct {
		name string
		err  error // returned by fn after its writes
	}{
		{"sentinel", errRollback},
		{"custom type", coded},
		{"wrapped ErrNotFound", fmt.Errorf("service lookup: %w", storage.ErrNotFound)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Update(t.Context(), func(tx storage.Tx) error {
				if err := tx.Put("over", []byte("new")); err != nil {
					return err
				}
				if err := tx.Put("added", []byte("1")); err != nil {
					return err
				}
				if err := tx.Delete("gone"); err != nil {
					return err
				}
				return tc.err
			})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Update() = %v, want an error matching %v", err, tc.err)
			}
			if tc.err == coded {
				var ce *codedError
				if !errors.As(err, &ce) || ce != coded {
					t.Errorf("Update() = %#v, want the very *codedError fn returned", err)
				}
			}
			wantValue(t, b, "over", "old")
			wantValue(t, b, "gone", "1")
			wantMissing(t, b, "added")
			wantKeys(t, "List(\"\", \"\", 0)", list(t, b, "", "", 0), []string{"gone", "keep", "over"})
		})
	}
}

// Rule 8: reads inside Update see the transaction's own writes.
func testReadOwnWrites(t *testing.T, b storage.Backend) {
	putAll(t, b, map[string]string{"c": "committed"})
	put := func(k, v string) func(storage.Tx) error {
		return func(tx storage.Tx) error { return tx.Put(k, []byte(v)) }
	}
	del := func(k string) func(storage.Tx) error {
		return func(tx storage.Tx) error { return tx.Delete(k) }
	}
	tests := []struct {
		name    string
		ops     []func(storage.Tx) error
		key     string
		want    string
		missing bool
	}{
		{"put then get", []func(storage.Tx) error{put("k", "v1")}, "k", "v1", false},
		{"overwrite twice", []func(storage.Tx) error{put("k", "v1"), put("k", "v2")}, "k", "v2", false},
		{"overwrite committed", []func(storage.Tx) error{put("c", "new")}, "c", "new", false},
		{"delete committed", []func(storage.Tx) error{del("c")}, "c", "", true},
		{"put then delete", []func(storage.Tx) error{put("k", "v1"), del("k")}, "k", "", true},
		{"delete then put", []func(storage.Tx) error{del("c"), put("c", "again")}, "c", "again", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			var getErr error
			// Each case rolls back, so the cases do not see each other.
			err := b.Update(t.Context(), func(tx storage.Tx) error {
				for _, op := range tc.ops {
					if err := op(tx); err != nil {
						return err
					}
				}
				got, getErr = tx.Get(tc.key)
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("Update() = %v, want %v", err, errRollback)
			}
			switch {
			case tc.missing && !errors.Is(getErr, storage.ErrNotFound):
				t.Errorf("Get(%q) in Update = %q, %v; want ErrNotFound", tc.key, got, getErr)
			case !tc.missing && (getErr != nil || string(got) != tc.want):
				t.Errorf("Get(%q) in Update = %q, %v; want %q, nil", tc.key, got, getErr, tc.want)
			}
			wantValue(t, b, "c", "committed")
		})
	}
}

// concurrency is the number of goroutines in the concurrency tests.
const concurrency = 50

// Rule 6: N concurrent read-modify-write Updates of one counter lose none.
func testConcurrentIncrement(t *testing.T, b storage.Backend) {
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			err := b.Update(t.Context(), func(tx storage.Tx) error { return increment(tx, "counter") })
			if err != nil {
				t.Errorf("Update(increment) = %v, want nil", err)
			}
		})
	}
	wg.Wait()
	wantValue(t, b, "counter", strconv.Itoa(concurrency))
}

// Rules 5 and 6 together: among concurrent Updates of one counter, those
// whose fn fails or panics get their own error or panic back and leave no
// trace, while the others all commit. Backends that group concurrent
// Updates into one transaction must take the failures out of the group.
func testConcurrentFailures(t *testing.T, b storage.Backend) {
	type outcome struct {
		err       error
		recovered any
	}
	outcomes := make([]outcome, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			var o outcome
			o.recovered = catchPanic(func() {
				o.err = b.Update(t.Context(), func(tx storage.Tx) error {
					if err := increment(tx, "counter"); err != nil {
						return err
					}
					key := "ok/" + strconv.Itoa(i)
					if i%3 != 0 {
						key = "failed/" + strconv.Itoa(i)
					}
					if err := tx.Put(key, []byte("v")); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return &codedError{code: i}
					case 2:
						panic(codedError{code: i})
					}
					return nil
				})
			})
			outcomes[i] = o
		})
	}
	wg.Wait()

	var wantOK []string
	for i, o := range outcomes {
		switch i % 3 {
		case 0:
			wantOK = append(wantOK, "ok/"+strconv.Itoa(i))
			if o.err != nil || o.recovered != nil {
				t.Errorf("Update %d (succeeds) = %v, panic %v; want nil, no panic", i, o.err, o.recovered)
			}
		case 1:
			var ce *codedError
			if !errors.As(o.err, &ce) || ce.code != i || o.recovered != nil {
				t.Errorf("Update %d (fails) = %v, panic %v; want its own error, coded %d", i, o.err, o.recovered, i)
			}
		case 2:
			if o.recovered != (codedError{code: i}) {
				t.Errorf("Update %d (panics) recovered %v, want its own panic, coded %d", i, o.recovered, i)
			}
		}
	}
	slices.Sort(wantOK)
	wantKeys(t, "List(\"ok/\", \"\", 0)", list(t, b, "ok/", "", 0), wantOK)
	wantKeys(t, "List(\"failed/\", \"\", 0)", list(t, b, "failed/", "", 0), nil)
	wantValue(t, b, "counter", strconv.Itoa(len(wantOK)))
}

// increment adds one to the decimal counter stored under key, which is
// absent before the first increment.
func increment(tx storage.Tx, key string) error {
	n := 0
	v, err := tx.Get(key)
	switch {
	case err == nil:
		if n, err = strconv.Atoi(string(v)); err != nil {
			return fmt.Errorf("counter %q holds %q: %w", key, v, err)
		}
	case !errors.Is(err, storage.ErrNotFound):
		return err
	}
	return tx.Put(key, []byte(strconv.Itoa(n+1)))
}

// storage.GetShared reads what Get reads (missing keys, own writes, in
// Views and Updates), and concurrent Updates that read a common key shared
// while others write it all commit without losing a write: the writers of
// the common key are counted exactly, and every reader recorded a value
// the key held.
func testSharedReads(t *testing.T, b storage.Backend) {
	putAll(t, b, map[string]string{"common": "0"})
	view(t, b, func(tx storage.Tx) error {
		if v, err := storage.GetShared(tx, "common"); err != nil || string(v) != "0" {
			t.Errorf("View: GetShared(common) = %q, %v; want \"0\"", v, err)
		}
		if _, err := storage.GetShared(tx, "missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("View: GetShared(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	err := b.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := storage.GetShared(tx, "missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Update: GetShared(missing) = %v, want ErrNotFound", err)
		}
		if err := tx.Put("own", []byte("mine")); err != nil {
			return err
		}
		if v, err := storage.GetShared(tx, "own"); err != nil || string(v) != "mine" {
			t.Errorf("Update: GetShared(own write) = %q, %v; want \"mine\"", v, err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want the rollback", err)
	}
	wantMissing(t, b, "own")

	const writers = 5
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			err := b.Update(t.Context(), func(tx storage.Tx) error {
				if i%(concurrency/writers) == 0 {
					return increment(tx, "common")
				}
				v, err := storage.GetShared(tx, "common")
				if err != nil {
					return err
				}
				return tx.Put("reader/"+strconv.Itoa(i), v)
			})
			if err != nil {
				t.Errorf("Update %d = %v, want nil", i, err)
			}
		})
	}
	wg.Wait()
	wantValue(t, b, "common", strconv.Itoa(writers))
	view(t, b, func(tx storage.Tx) error {
		keys, err := tx.List("reader/", "", 0)
		if err != nil {
			return err
		}
		if len(keys) != concurrency-writers {
			t.Errorf("%d readers committed, want %d", len(keys), concurrency-writers)
		}
		for _, k := range keys {
			v, err := tx.Get(k)
			if n, cerr := strconv.Atoi(string(v)); err != nil || cerr != nil || n < 0 || n > writers {
				t.Errorf("%s = %q, %v: not a value the common key held", k, v, err)
			}
		}
		return nil
	})
}

// storage.Revisioner, for backends that offer it: Views with no commit
// between them read the same revision, and every committed Update changes
// it; a failed Update does not have to.
func testRevision(t *testing.T, b storage.Backend) {
	rev := func() (uint64, bool) {
		var r uint64
		var ok bool
		view(t, b, func(tx storage.Tx) error {
			r, ok = storage.RevisionOf(tx)
			return nil
		})
		return r, ok
	}
	r0, ok := rev()
	if !ok {
		t.Skip("the backend's Views have no revision")
	}
	if r, _ := rev(); r != r0 {
		t.Errorf("two Views without a commit between them: revisions %d and %d", r0, r)
	}
	seen := map[uint64]bool{r0: true}
	for i := range 3 {
		putAll(t, b, map[string]string{"k": strconv.Itoa(i)})
		r, _ := rev()
		if seen[r] {
			t.Errorf("commit %d: revision %d seen before a commit already", i, r)
		}
		seen[r] = true
	}
}

// Rule 7: N concurrent create-if-absent Updates of one key: exactly one
// creates it and every other observes the winner's value.
func testCreateIfAbsent(t *testing.T, b storage.Backend) {
	type result struct {
		created bool
		seen    string
	}
	results := make([]result, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			mine := "goroutine-" + strconv.Itoa(i)
			var r result
			err := b.Update(t.Context(), func(tx storage.Tx) error {
				// fn may run more than once: only the last run counts.
				r = result{}
				v, err := tx.Get("leader")
				if err == nil {
					r.seen = string(v)
					return nil
				}
				if !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				if err := tx.Put("leader", []byte(mine)); err != nil {
					return err
				}
				r = result{created: true, seen: mine}
				return nil
			})
			if err != nil {
				t.Errorf("Update(create-if-absent) = %v, want nil", err)
			}
			results[i] = r
		})
	}
	wg.Wait()

	stored, err := get(t, b, "leader")
	if err != nil {
		t.Fatalf("Get(%q) = %v, want the winner's value", "leader", err)
	}
	winners, strays := 0, 0
	for i, r := range results {
		if r.created {
			winners++
		}
		if r.seen != string(stored) {
			// Report the first; the count tells how widespread it is.
			if strays == 0 {
				t.Errorf("goroutine %d observed %q (created=%t), but %q is stored", i, r.seen, r.created, stored)
			}
			strays++
		}
	}
	if strays > 0 {
		t.Errorf("%d of %d goroutines observed a value other than the stored one", strays, concurrency)
	}
	if winners != 1 {
		t.Errorf("%d goroutines created the key, want exactly 1", winners)
	}
}

// panicValue is what the panicking test functions panic with.
const panicValue = "storagetest: deliberate panic"

// catchPanic calls f and returns the value it panicked with, or nil.
func catchPanic(f func()) (recovered any) {
	defer func() { recovered = recover() }()
	f()
	return nil
}

// An Update whose fn panics lets the panic reach its caller, commits
// nothing, and leaves the backend usable. (The contract leaves panics
// unspecified; coffer backends choose to propagate them, like bbolt and
// database/sql, rather than turn them into errors.)
func testUpdatePanics(t *testing.T, b storage.Backend) {
	putKeys(t, b, "before")
	got := catchPanic(func() {
		_ = b.Update(t.Context(), func(tx storage.Tx) error {
			if err := tx.Put("k", []byte("v")); err != nil {
				return err
			}
			if err := tx.Delete("before"); err != nil {
				return err
			}
			panic(panicValue)
		})
	})
	if got != panicValue {
		t.Errorf("Update(fn that panics) recovered %v, want the panic %q to propagate", got, panicValue)
	}
	wantUsable(t, b, "an Update")
	wantMissing(t, b, "k")
	wantValue(t, b, "before", "before")
}

// patience bounds the wait for calls that can only hang through a bug,
// such as a lock leaked by a panic, so that the bug fails one subtest
// instead of stalling the whole run until go test's timeout.
const patience = 10 * time.Second

// within runs f in another goroutine and returns its error, or an error
// saying what hung if f has not returned after patience.
func within(what string, f func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(patience):
		return fmt.Errorf("%s has not returned after %v", what, patience)
	}
}

// wantUsable fails the test unless an Update still completes after a
// transaction that panicked, which it cannot if the panic leaked a lock.
// panicked names that transaction, e.g. "an Update".
func wantUsable(t *testing.T, b storage.Backend, panicked string) {
	t.Helper()
	err := within("Update", func() error {
		return b.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("after", []byte("after")) })
	})
	if err != nil {
		t.Fatalf("after %s that panicked: %v, want nil (a lock leaked by the panic would hang it)", panicked, err)
	}
	wantValue(t, b, "after", "after")
}

// Rule 8: View sees a snapshot: a writer keeps two keys equal in every
// Update, and concurrent readers must never see them differ.
func testViewSnapshot(t *testing.T, b storage.Backend) {
	const rounds, readers = 50, 4
	putAll(t, b, map[string]string{"x": "0", "y": "0"})

	done := make(chan struct{})
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for {
				var x, y []byte
				err := b.View(t.Context(), func(tx storage.Tx) error {
					var err error
					if x, err = tx.Get("x"); err != nil {
						return err
					}
					y, err = tx.Get("y")
					return err
				})
				if err != nil {
					t.Errorf("View() = %v, want nil", err)
					return
				}
				if !bytes.Equal(x, y) {
					t.Errorf("View saw x=%q, y=%q; a single Update always sets both", x, y)
					return
				}
				select {
				case <-done:
					return
				default:
				}
				// Readers that never block would keep the writer (and any
				// timer a backend uses to group commits) off the CPUs of a
				// small machine until the next preemption, stretching the
				// test from milliseconds to seconds.
				runtime.Gosched()
			}
		})
	}
	for i := 1; i <= rounds; i++ {
		v := []byte(strconv.Itoa(i))
		update(t, b, func(tx storage.Tx) error {
			if err := tx.Put("x", v); err != nil {
				return err
			}
			return tx.Put("y", v)
		})
	}
	close(done)
	wg.Wait()
}

// Writes inside View fail with ErrReadOnly and change nothing.
func testViewReadOnly(t *testing.T, b storage.Backend) {
	putAll(t, b, map[string]string{"k": "v"})
	tests := []struct {
		name string
		op   func(storage.Tx) error
	}{
		{"put existing", func(tx storage.Tx) error { return tx.Put("k", []byte("x")) }},
		{"put new", func(tx storage.Tx) error { return tx.Put("new", []byte("x")) }},
		{"delete existing", func(tx storage.Tx) error { return tx.Delete("k") }},
		{"delete absent", func(tx storage.Tx) error { return tx.Delete("absent") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opErr error
			view(t, b, func(tx storage.Tx) error {
				opErr = tc.op(tx)
				return nil
			})
			if !errors.Is(opErr, storage.ErrReadOnly) {
				t.Errorf("%s in View = %v, want ErrReadOnly", tc.name, opErr)
			}
			wantValue(t, b, "k", "v")
			wantMissing(t, b, "new")
		})
	}
}

// A View whose fn panics lets the panic reach its caller and leaves the
// backend usable.
func testViewPanics(t *testing.T, b storage.Backend) {
	got := catchPanic(func() {
		_ = b.View(t.Context(), func(storage.Tx) error { panic(panicValue) })
	})
	if got != panicValue {
		t.Errorf("View(fn that panics) recovered %v, want the panic %q to propagate", got, panicValue)
	}
	wantUsable(t, b, "a View")
}

// Rule 9: a context that is done makes View and Update fail with its error
// without running fn.
func testContextDone(t *testing.T, b storage.Backend) {
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"canceled", canceled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			err := b.View(tc.ctx, func(storage.Tx) error { ran = true; return nil })
			if !errors.Is(err, tc.want) || ran {
				t.Errorf("View(%s ctx) = %v, fn ran: %t; want %v, fn not run", tc.name, err, ran, tc.want)
			}
			ran = false
			err = b.Update(tc.ctx, func(tx storage.Tx) error {
				ran = true
				return tx.Put("k", []byte("v"))
			})
			if !errors.Is(err, tc.want) || ran {
				t.Errorf("Update(%s ctx) = %v, fn ran: %t; want %v, fn not run", tc.name, err, ran, tc.want)
			}
			wantMissing(t, b, "k")
		})
	}
}

// getManyWays are the two ways a caller reads several keys at once: the
// backend's own GetMany when it has one, and the View it must agree with.
var getManyWays = []struct {
	name string
	fn   func(ctx context.Context, b storage.Backend, keys []string) ([][]byte, error)
}{
	{"GetMany", storage.GetMany},
	{"GetManyView", storage.GetManyView},
}

// GetMany returns one entry per key, in order: the value, nil for an absent
// key, an empty non-nil slice for an empty value; repeated keys get
// separate copies, and changing a result changes nothing stored.
func testGetMany(t *testing.T, b storage.Backend) {
	update(t, b, func(tx storage.Tx) error {
		if err := tx.Put("a", []byte("alpha")); err != nil {
			return err
		}
		if err := tx.Put("a/b", []byte("below")); err != nil {
			return err
		}
		return tx.Put("e", []byte{})
	})
	if _, ok := b.(storage.MultiGetter); !ok {
		t.Logf("%T has no GetMany of its own: storage.GetMany reads through View", b)
	}
	keys := []string{"a", "missing", "e", "a", "a/", "a/b", "A"}
	for _, w := range getManyWays {
		got, err := w.fn(t.Context(), b, keys)
		if err != nil {
			t.Fatalf("%s(%q) = %v", w.name, keys, err)
		}
		want := []string{"alpha", "", "", "alpha", "", "below", ""}
		absent := []bool{false, true, false, false, true, false, true}
		if len(got) != len(keys) {
			t.Fatalf("%s returned %d values for %d keys", w.name, len(got), len(keys))
		}
		for i := range keys {
			switch {
			case absent[i] && got[i] != nil:
				t.Errorf("%s: %q = %q, want nil (absent)", w.name, keys[i], got[i])
			case !absent[i] && got[i] == nil:
				t.Errorf("%s: %q = nil, want %q (present)", w.name, keys[i], want[i])
			case string(got[i]) != want[i]:
				t.Errorf("%s: %q = %q, want %q", w.name, keys[i], got[i], want[i])
			}
		}
		got[0][0] = 'X'
		if string(got[3]) != "alpha" {
			t.Errorf("%s: changing the first copy of a repeated key changed the second: %q", w.name, got[3])
		}
		wantValue(t, b, "a", "alpha")
		if got, err := w.fn(t.Context(), b, nil); err != nil || len(got) != 0 {
			t.Errorf("%s(no keys) = %q, %v; want empty, nil", w.name, got, err)
		}
	}
}

// GetMany reads one committed state, as a View does.
func testGetManySnapshot(t *testing.T, b storage.Backend) {
	const rounds, readers = 50, 4
	putAll(t, b, map[string]string{"x": "0", "y": "0"})
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			w := getManyWays[r%len(getManyWays)]
			for {
				got, err := w.fn(t.Context(), b, []string{"x", "y"})
				if err != nil {
					t.Errorf("%s() = %v, want nil", w.name, err)
					return
				}
				if !bytes.Equal(got[0], got[1]) || got[0] == nil {
					t.Errorf("%s saw x=%q, y=%q; a single Update always sets both", w.name, got[0], got[1])
					return
				}
				select {
				case <-done:
					return
				default:
				}
				runtime.Gosched()
			}
		})
	}
	for i := 1; i <= rounds; i++ {
		v := []byte(strconv.Itoa(i))
		update(t, b, func(tx storage.Tx) error {
			if err := tx.Put("x", v); err != nil {
				return err
			}
			return tx.Put("y", v)
		})
	}
	close(done)
	wg.Wait()
}

// GetMany fails with ctx's error when ctx is done, and with ErrClosed
// after Close.
func testGetManyDone(t *testing.T, b storage.Backend) {
	putKeys(t, b, "k")
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, w := range getManyWays {
		if _, err := w.fn(canceled, b, []string{"k"}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s(canceled ctx) = %v, want context.Canceled", w.name, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for _, w := range getManyWays {
		if _, err := w.fn(t.Context(), b, []string{"k"}); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", w.name, err)
		}
	}
}

// Rule 9: after Close every View and Update fails with ErrClosed without
// running fn, and Close may be called again.
func testClosed(t *testing.T, b storage.Backend) {
	putKeys(t, b, "k")
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	ran := false
	if err := b.View(t.Context(), func(storage.Tx) error { ran = true; return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if err := b.Update(t.Context(), func(storage.Tx) error { ran = true; return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if ran {
		t.Error("fn ran after Close, want it not run")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

// ErrInjected is the error [FailingUpdates] returns when its Err is nil.
var ErrInjected = errors.New("storagetest: injected failure")

// FailingUpdates wraps a real backend so that every Update fails, as if the
// commit had failed (disk full, lost connection): Update returns Err, or
// [ErrInjected] if Err is nil, without running fn. View and Close are the
// embedded backend's. Service tests use it to check that a storage failure
// is reported and leaves no partial state:
//
//	store := storagetest.FailingUpdates{Backend: memstore.New(), Err: errDisk}
//
// It is safe for concurrent use if the embedded backend is.
type FailingUpdates struct {
	storage.Backend       // the real backend, used for View and Close
	Err             error // returned by every Update
}

// Update returns f.Err, or [ErrInjected] if f.Err is nil, without running fn.
func (f FailingUpdates) Update(context.Context, func(storage.Tx) error) error {
	if f.Err == nil {
		return ErrInjected
	}
	return f.Err
}
