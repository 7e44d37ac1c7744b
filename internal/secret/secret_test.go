package secret

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

var testT0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

// versionIDs returns the ids of the retained versions.
func versionIDs(s *Secret) []uint32 {
	ids := make([]uint32, len(s.Versions))
	for i, v := range s.Versions {
		ids[i] = v.ID
	}
	return ids
}

// seq returns the ids from..to.
func seq(from, to uint32) []uint32 {
	var ids []uint32
	for id := from; id <= to; id++ {
		ids = append(ids, id)
	}
	return ids
}

// addVersions adds n versions one minute apart with eff and fails the test
// on error. It returns the ids pruned along the way.
func addVersions(t *testing.T, s *Secret, n int, eff Effective) []uint32 {
	t.Helper()
	var pruned []uint32
	for range n {
		now := testT0.Add(time.Duration(s.CurrentVersion+1) * time.Minute)
		_, p, err := s.AddVersion(now, eff)
		if err != nil {
			t.Fatalf("AddVersion(version %d) = error %v", s.CurrentVersion+1, err)
		}
		pruned = append(pruned, p...)
	}
	return pruned
}

func TestNew(t *testing.T) {
	t.Parallel()
	p := MustParsePath("app/db")
	s := New("4a1c…", p, testT0)
	want := &Secret{ID: "4a1c…", Path: p, CreatedAt: testT0, UpdatedAt: testT0}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("New = %+v, want %+v", s, want)
	}
}

func TestSecret_AddVersion(t *testing.T) {
	t.Parallel()
	eff := func(max uint32) Effective { return Effective{MaxVersions: max} }
	type phase struct {
		n   int
		max uint32
	}
	tests := []struct {
		name       string
		phases     []phase
		wantIDs    []uint32
		wantOldest uint32
		wantPruned []uint32
		wantCur    uint32
	}{
		{"first version", []phase{{1, 10}}, []uint32{1}, 0, nil, 1},
		{"ids increase by one", []phase{{3, 10}}, []uint32{1, 2, 3}, 0, nil, 3},
		{"ten versions at max 10 prune nothing", []phase{{10, 10}}, seq(1, 10), 0, nil, 10},
		{"eleventh version at max 10 prunes 1", []phase{{11, 10}}, seq(2, 11), 2, []uint32{1}, 11},
		{"twelfth version at max 10 prunes 2", []phase{{12, 10}}, seq(3, 12), 3, []uint32{1, 2}, 12},
		// okms-rest.md 3.2 and vault-kv2.md 5.1.
		{"max 2 after ten versions", []phase{{10, 10}, {1, 2}}, []uint32{10, 11}, 10, seq(1, 9), 11},
		{"max 1 after three versions", []phase{{3, 10}, {1, 1}}, []uint32{4}, 4, []uint32{1, 2, 3}, 4},
		{"max 1 throughout", []phase{{5, 1}}, []uint32{5}, 5, seq(1, 4), 5},
		{"raising max restores nothing", []phase{{10, 10}, {1, 2}, {1, 10}}, []uint32{10, 11, 12}, 10, seq(1, 9), 12},
		{"lowering max prunes at the next write only", []phase{{5, 10}, {1, 3}}, []uint32{4, 5, 6}, 4, []uint32{1, 2, 3}, 6},
		{"max 24000", []phase{{30, 24000}}, seq(1, 30), 0, nil, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New("id", MustParsePath("a"), testT0)
			var pruned []uint32
			for _, ph := range tc.phases {
				pruned = append(pruned, addVersions(t, s, ph.n, eff(ph.max))...)
			}
			if got := versionIDs(s); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("after %v, retained versions = %v, want %v", tc.phases, got, tc.wantIDs)
			}
			if s.OldestVersion != tc.wantOldest {
				t.Errorf("after %v, OldestVersion = %d, want %d", tc.phases, s.OldestVersion, tc.wantOldest)
			}
			if !slices.Equal(pruned, tc.wantPruned) {
				t.Errorf("after %v, pruned = %v, want %v", tc.phases, pruned, tc.wantPruned)
			}
			if s.CurrentVersion != tc.wantCur {
				t.Errorf("after %v, CurrentVersion = %d, want %d", tc.phases, s.CurrentVersion, tc.wantCur)
			}
		})
	}
}

func TestSecret_AddVersion_returnedVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		eff     Effective
		wantDue time.Duration // 0 for no schedule
	}{
		{"no deactivation", Effective{MaxVersions: 10}, 0},
		{"deactivate after one day", Effective{MaxVersions: 10, DeactivateAfter: 24 * time.Hour}, 24 * time.Hour},
		{"deactivate after one second", Effective{MaxVersions: 10, DeactivateAfter: time.Second}, time.Second},
		{"negative period means none", Effective{MaxVersions: 10, DeactivateAfter: -time.Second}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New("id", MustParsePath("a"), testT0)
			now := testT0.Add(time.Hour)
			v, pruned, err := s.AddVersion(now, tc.eff)
			if err != nil {
				t.Fatalf("AddVersion(%+v) = error %v", tc.eff, err)
			}
			want := Version{ID: 1, State: Active, CreatedAt: now}
			if tc.wantDue != 0 {
				want.DeactivateAt = now.Add(tc.wantDue)
			}
			if v != want {
				t.Errorf("AddVersion(%+v) = %+v, want %+v", tc.eff, v, want)
			}
			if pruned != nil {
				t.Errorf("AddVersion(%+v) pruned %v, want none", tc.eff, pruned)
			}
			if len(s.Versions) != 1 || s.Versions[0] != v {
				t.Errorf("after AddVersion, Versions = %+v, want [%+v]", s.Versions, v)
			}
			if !s.UpdatedAt.Equal(now) || !s.CreatedAt.Equal(testT0) {
				t.Errorf("after AddVersion at %v, CreatedAt %v UpdatedAt %v, want %v and %v", now, s.CreatedAt, s.UpdatedAt, testT0, now)
			}
		})
	}
}

func TestSecret_AddVersion_deletedVersionsCount(t *testing.T) {
	t.Parallel()
	eff := Effective{MaxVersions: 3}
	s := New("id", MustParsePath("a"), testT0)
	addVersions(t, s, 3, eff)
	for _, id := range []uint32{2, 3} {
		if _, _, err := s.SetState(id, Deleted, testT0.Add(time.Hour), eff, SetOptions{}); err != nil {
			t.Fatalf("SetState(%d, deleted) = error %v", id, err)
		}
	}
	pruned := addVersions(t, s, 1, eff)
	if !slices.Equal(pruned, []uint32{1}) {
		t.Errorf("with max 3 and versions {1, 2 deleted, 3 deleted}, adding v4 pruned %v, want [1]", pruned)
	}
	if got := versionIDs(s); !slices.Equal(got, []uint32{2, 3, 4}) {
		t.Errorf("retained versions = %v, want [2 3 4] (deleted versions stay until pruned)", got)
	}
	if s.OldestVersion != 2 {
		t.Errorf("OldestVersion = %d, want 2", s.OldestVersion)
	}
	if got := s.RetainedActive(); got != 1 {
		t.Errorf("RetainedActive() = %d, want 1 (only v4 is not deleted)", got)
	}
	pruned = addVersions(t, s, 2, eff)
	if !slices.Equal(pruned, []uint32{2, 3}) {
		t.Errorf("adding v5 and v6 pruned %v, want the deleted [2 3]", pruned)
	}
}

func TestSecret_AddVersion_idsNeverReused(t *testing.T) {
	t.Parallel()
	s := New("id", MustParsePath("a"), testT0)
	eff := Effective{MaxVersions: 1}
	seen := map[uint32]bool{}
	for i := 1; i <= 25; i++ {
		v, _, err := s.AddVersion(testT0, eff)
		if err != nil {
			t.Fatalf("AddVersion #%d = error %v", i, err)
		}
		if v.ID != uint32(i) || seen[v.ID] {
			t.Fatalf("AddVersion #%d = id %d, want %d (never reused)", i, v.ID, i)
		}
		seen[v.ID] = true
		if got := versionIDs(s); !slices.Equal(got, []uint32{v.ID}) {
			t.Fatalf("after AddVersion #%d, retained %v, want [%d]", i, got, v.ID)
		}
	}
}

func TestSecret_AddVersion_limit(t *testing.T) {
	t.Parallel()
	eff := Effective{MaxVersions: 10}
	s := New("id", MustParsePath("a"), testT0)
	s.CurrentVersion = 23999
	s.Versions = []Version{{ID: 23999, State: Active, CreatedAt: testT0}}
	s.OldestVersion = 23999
	v, _, err := s.AddVersion(testT0.Add(time.Minute), eff)
	if err != nil || v.ID != 24000 {
		t.Fatalf("AddVersion at current 23999 = id %d, %v; want 24000, nil", v.ID, err)
	}
	before := cloneSecret(s)
	v, pruned, err := s.AddVersion(testT0.Add(time.Hour), eff)
	if !errors.Is(err, ErrVersionLimit) {
		t.Errorf("AddVersion at current 24000 = %+v, %v; want ErrVersionLimit", v, err)
	}
	if pruned != nil {
		t.Errorf("AddVersion at current 24000 pruned %v, want nothing", pruned)
	}
	if !reflect.DeepEqual(s, before) {
		t.Errorf("failed AddVersion changed the secret: %+v, want %+v", s, before)
	}
}

func TestSecret_Version(t *testing.T) {
	t.Parallel()
	eff := Effective{MaxVersions: 2, DeactivateAfter: time.Hour}
	s := New("id", MustParsePath("a"), testT0)
	addVersions(t, s, 3, eff) // retains 2 and 3, created at t0+2m and t0+3m
	tests := []struct {
		name      string
		id        uint32
		now       time.Time
		wantID    uint32
		wantState State
		wantErr   error
	}{
		{"current by zero", 0, testT0, 3, Active, nil},
		{"by id", 2, testT0, 2, Active, nil},
		{"lazily deactivated", 2, testT0.Add(2*time.Minute + time.Hour), 2, Deactivated, nil},
		{"one ns before its deadline", 2, testT0.Add(2*time.Minute + time.Hour - 1), 2, Active, nil},
		{"pruned", 1, testT0, 0, 0, ErrVersionNotFound},
		{"never existed", 4, testT0, 0, 0, ErrVersionNotFound},
		{"far beyond", 24000, testT0, 0, 0, ErrVersionNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := s.Version(tc.id, tc.now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("Version(%d) = %+v, %v; want %v", tc.id, v, err, tc.wantErr)
				}
				return
			}
			if err != nil || v.ID != tc.wantID || v.State != tc.wantState {
				t.Errorf("Version(%d, %v) = id %d %v, %v; want id %d %v", tc.id, tc.now, v.ID, v.State, err, tc.wantID, tc.wantState)
			}
		})
	}
	t.Run("no version yet", func(t *testing.T) {
		t.Parallel()
		empty := New("id", MustParsePath("b"), testT0)
		if _, err := empty.Version(0, testT0); !errors.Is(err, ErrVersionNotFound) {
			t.Errorf("Version(0) on a secret without versions = %v, want ErrVersionNotFound", err)
		}
	})
}

func TestSecret_VersionsAt(t *testing.T) {
	t.Parallel()
	s := New("id", MustParsePath("a"), testT0)
	addVersions(t, s, 1, Effective{MaxVersions: 10, DeactivateAfter: time.Hour})
	addVersions(t, s, 1, Effective{MaxVersions: 10})
	now := testT0.Add(2 * time.Hour)
	got := s.VersionsAt(now)
	if len(got) != 2 || got[0].State != Deactivated || got[1].State != Active {
		t.Fatalf("VersionsAt(t0+2h) = %+v, want v1 deactivated by schedule and v2 active", got)
	}
	if s.Versions[0].State != Active {
		t.Errorf("VersionsAt changed the stored version: %+v, want it still active (lazy evaluation)", s.Versions[0])
	}
	got[1].State = Deleted
	if s.Versions[1].State != Active {
		t.Errorf("VersionsAt returned a slice aliasing the stored versions")
	}
}

func TestSecret_SetState(t *testing.T) {
	t.Parallel()
	var (
		created  = testT0
		deact    = testT0.Add(10 * time.Minute) // explicit deactivation time
		schedule = testT0.Add(time.Hour)        // a deadline already passed at now
		now      = testT0.Add(2 * time.Hour)
		future   = now.Add(time.Hour) // a deadline not yet reached
		rearm    = 30 * time.Minute   // effective period at the time of the call
	)
	eff := Effective{MaxVersions: 10, DeactivateAfter: rearm}
	noDeact := Effective{MaxVersions: 10}
	starts := map[string]Version{
		"active":                   {ID: 1, State: Active, CreatedAt: created},
		"active scheduled":         {ID: 1, State: Active, CreatedAt: created, DeactivateAt: future},
		"deactivated":              {ID: 1, State: Deactivated, CreatedAt: created, DeactivatedAt: deact},
		"lazily deactivated":       {ID: 1, State: Active, CreatedAt: created, DeactivateAt: schedule},
		"deleted after deactivate": {ID: 1, State: Deleted, CreatedAt: created, DeactivatedAt: deact},
		"deleted":                  {ID: 1, State: Deleted, CreatedAt: created},
	}
	yes, no := true, false
	tests := []struct {
		start       string
		to          State
		eff         Effective
		opt         SetOptions
		want        Version // ID and CreatedAt are filled in
		wantChanged *bool   // nil: either is acceptable
		wantErr     error
	}{
		// active →
		{"active", Active, eff, SetOptions{}, Version{State: Active}, &no, nil},
		{"active", Active, eff, SetOptions{Rearm: true}, Version{State: Active, DeactivateAt: now.Add(rearm)}, &yes, nil},
		{"active", Active, noDeact, SetOptions{Rearm: true}, Version{State: Active}, &no, nil},
		{"active", Deactivated, eff, SetOptions{}, Version{State: Deactivated, DeactivatedAt: now}, &yes, nil},
		{"active", Deleted, eff, SetOptions{}, Version{State: Deleted}, &yes, nil},
		{"active scheduled", Active, eff, SetOptions{}, Version{State: Active, DeactivateAt: future}, &no, nil},
		{"active scheduled", Active, eff, SetOptions{Rearm: true}, Version{State: Active, DeactivateAt: now.Add(rearm)}, &yes, nil},
		{"active scheduled", Active, noDeact, SetOptions{Rearm: true}, Version{State: Active}, &yes, nil},
		// vault-kv2.md 4.5: deactivating replaces a future schedule.
		{"active scheduled", Deactivated, eff, SetOptions{}, Version{State: Deactivated, DeactivatedAt: now}, &yes, nil},
		// vault-kv2.md 3: a deleted version keeps the deactivation time it had, even scheduled.
		{"active scheduled", Deleted, eff, SetOptions{}, Version{State: Deleted, DeactivateAt: future}, &yes, nil},
		// deactivated →
		{"deactivated", Active, eff, SetOptions{}, Version{State: Active, DeactivateAt: now.Add(rearm)}, &yes, nil},
		{"deactivated", Active, noDeact, SetOptions{}, Version{State: Active}, &yes, nil},
		{"deactivated", Active, eff, SetOptions{Rearm: true}, Version{State: Active, DeactivateAt: now.Add(rearm)}, &yes, nil},
		{"deactivated", Deactivated, eff, SetOptions{}, Version{State: Deactivated, DeactivatedAt: deact}, &no, nil},
		{"deactivated", Deleted, eff, SetOptions{}, Version{State: Deleted, DeactivatedAt: deact}, &yes, nil},
		// an active version past its schedule is deactivated (okms-rest.md 3.5) →
		{"lazily deactivated", Active, eff, SetOptions{}, Version{State: Active, DeactivateAt: now.Add(rearm)}, &yes, nil},
		{"lazily deactivated", Active, noDeact, SetOptions{}, Version{State: Active}, &yes, nil},
		{"lazily deactivated", Deactivated, eff, SetOptions{}, Version{State: Deactivated, DeactivatedAt: schedule, DeactivateAt: schedule}, nil, nil},
		{"lazily deactivated", Deleted, eff, SetOptions{}, Version{State: Deleted, DeactivatedAt: schedule, DeactivateAt: schedule}, &yes, nil},
		// deleted → (final)
		{"deleted after deactivate", Active, eff, SetOptions{}, Version{}, &no, ErrTransition},
		{"deleted after deactivate", Active, eff, SetOptions{Rearm: true}, Version{}, &no, ErrTransition},
		{"deleted after deactivate", Deactivated, eff, SetOptions{}, Version{}, &no, ErrTransition},
		{"deleted after deactivate", Deleted, eff, SetOptions{}, Version{State: Deleted, DeactivatedAt: deact}, &no, nil},
		{"deleted", Active, eff, SetOptions{}, Version{}, &no, ErrTransition},
		{"deleted", Deactivated, eff, SetOptions{}, Version{}, &no, ErrTransition},
		{"deleted", Deleted, eff, SetOptions{}, Version{State: Deleted}, &no, nil},
		// invalid target states
		{"active", State(0), eff, SetOptions{}, Version{}, &no, ErrTransition},
		{"deactivated", State(7), eff, SetOptions{}, Version{}, &no, ErrTransition},
	}
	for _, tc := range tests {
		name := tc.start + " to " + tc.to.String()
		if tc.opt.Rearm {
			name += "/rearm"
		}
		if tc.eff.DeactivateAfter == 0 {
			name += "/no period"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := New("id", MustParsePath("a"), testT0)
			s.CurrentVersion = 2
			s.Versions = []Version{starts[tc.start], {ID: 2, State: Active, CreatedAt: created}}
			before := cloneSecret(s)
			got, changed, err := s.SetState(1, tc.to, now, tc.eff, tc.opt)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("SetState(1, %v) from %s = %+v, %v; want %v", tc.to, tc.start, got, err, tc.wantErr)
				}
				if changed {
					t.Errorf("SetState(1, %v) from %s reported a change with its error", tc.to, tc.start)
				}
				if !reflect.DeepEqual(s, before) {
					t.Errorf("failed SetState(1, %v) from %s changed the secret: %+v, want %+v", tc.to, tc.start, s, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetState(1, %v) from %s = error %v", tc.to, tc.start, err)
			}
			want := tc.want
			want.ID, want.CreatedAt = 1, created
			if got != want {
				t.Errorf("SetState(1, %v) from %s = %+v, want %+v", tc.to, tc.start, got, want)
			}
			if tc.wantChanged != nil && changed != *tc.wantChanged {
				t.Errorf("SetState(1, %v) from %s changed = %v, want %v", tc.to, tc.start, changed, *tc.wantChanged)
			}
			if stored := s.Versions[0].At(now); stored != want {
				t.Errorf("after SetState(1, %v) from %s, stored version at now = %+v, want %+v", tc.to, tc.start, stored, want)
			}
			if !changed && !reflect.DeepEqual(s, before) {
				t.Errorf("SetState(1, %v) from %s reported no change but changed the secret", tc.to, tc.start)
			}
			// okms-rest.md 2.1: version state changes do not move updatedAt;
			// 3.4: currentVersion does not change either.
			if !s.UpdatedAt.Equal(before.UpdatedAt) || s.CurrentVersion != 2 || s.OldestVersion != before.OldestVersion {
				t.Errorf("SetState changed secret-level fields: updated %v current %d oldest %d", s.UpdatedAt, s.CurrentVersion, s.OldestVersion)
			}
			if s.Versions[1] != before.Versions[1] {
				t.Errorf("SetState(1, …) changed version 2: %+v", s.Versions[1])
			}
		})
	}
}

func TestSecret_SetState_versionNotFound(t *testing.T) {
	t.Parallel()
	eff := Effective{MaxVersions: 2}
	s := New("id", MustParsePath("a"), testT0)
	addVersions(t, s, 3, eff) // version 1 is pruned
	before := cloneSecret(s)
	for _, id := range []uint32{0, 1, 4, 24000} {
		for _, to := range []State{Active, Deactivated, Deleted} {
			_, changed, err := s.SetState(id, to, testT0.Add(time.Hour), eff, SetOptions{Rearm: true})
			if !errors.Is(err, ErrVersionNotFound) || changed {
				t.Errorf("SetState(%d, %v) = changed %v, %v; want ErrVersionNotFound", id, to, changed, err)
			}
		}
	}
	if !reflect.DeepEqual(s, before) {
		t.Errorf("failed SetState calls changed the secret: %+v, want %+v", s, before)
	}
}

// TestSecret_SetState_reactivationRearms follows vault-kv2.md 5.3
// (TestDeleteVersionAfter): the timer restarts from the reactivation, with
// the period in force then, not the one at creation.
func TestSecret_SetState_reactivationRearms(t *testing.T) {
	t.Parallel()
	s := New("id", MustParsePath("a"), testT0)
	if _, _, err := s.AddVersion(testT0, Effective{MaxVersions: 10, DeactivateAfter: time.Hour}); err != nil {
		t.Fatalf("AddVersion = error %v", err)
	}
	// Past its schedule at t0+3h: deactivated since t0+1h.
	if v, _ := s.Version(1, testT0.Add(3*time.Hour)); v.State != Deactivated || !v.DeactivatedAt.Equal(testT0.Add(time.Hour)) {
		t.Fatalf("Version(1, t0+3h) = %+v, want deactivated at t0+1h", v)
	}
	undelete := testT0.Add(3 * time.Hour)
	v, changed, err := s.SetState(1, Active, undelete, Effective{MaxVersions: 10, DeactivateAfter: 2 * time.Hour}, SetOptions{Rearm: true})
	if err != nil || !changed {
		t.Fatalf("SetState(1, active, t0+3h) = %v, %v; want a change", changed, err)
	}
	if want := undelete.Add(2 * time.Hour); !v.DeactivateAt.Equal(want) || !v.DeactivatedAt.IsZero() {
		t.Errorf("reactivated version = %+v, want schedule %v and no deactivation time", v, want)
	}
	for _, tc := range []struct {
		at   time.Duration
		want State
	}{
		{3 * time.Hour, Active},
		{5*time.Hour - time.Nanosecond, Active},
		{5 * time.Hour, Deactivated},
	} {
		if got, _ := s.Version(1, testT0.Add(tc.at)); got.State != tc.want {
			t.Errorf("after reactivation at t0+3h, Version(1, t0+%v).State = %v, want %v", tc.at, got.State, tc.want)
		}
	}
}

func TestSecret_RetainedActive(t *testing.T) {
	t.Parallel()
	s := New("id", MustParsePath("a"), testT0)
	if got := s.RetainedActive(); got != 0 {
		t.Errorf("RetainedActive() of a new secret = %d, want 0", got)
	}
	eff := Effective{MaxVersions: 10}
	addVersions(t, s, 4, eff)
	if _, _, err := s.SetState(1, Deleted, testT0, eff, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SetState(2, Deactivated, testT0, eff, SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := s.RetainedActive(); got != 3 {
		t.Errorf("RetainedActive() with versions {deleted, deactivated, active, active} = %d, want 3 (not deleted)", got)
	}
}
