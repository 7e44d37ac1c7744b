package secret

import (
	"errors"
	"testing"
	"time"
)

func TestState_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   State
		want string
	}{
		{Active, "active"},
		{Deactivated, "deactivated"},
		{Deleted, "deleted"},
		{State(0), "invalid"},
		{State(42), "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.in.String(); got != tc.want {
				t.Errorf("State(%d).String() = %q, want %q", uint8(tc.in), got, tc.want)
			}
		})
	}
}

func TestParseState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    State
		wantErr bool
	}{
		{"active", Active, false},
		{"deactivated", Deactivated, false},
		{"deleted", Deleted, false},
		// okms-rest.md 3.4: okms-cli tests step 011, --state activated fails.
		{"activated", 0, true},
		{"ACTIVE", 0, true},
		{"Active", 0, true},
		{"", 0, true},
		{" active", 0, true},
		{"destroyed", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseState(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseState(%q) = %v, nil; want an error", tc.in, got)
				}
				if id := violationID(t, err); id != "SecretVersionStateInvalid" {
					t.Errorf("ParseState(%q) violation ID = %q, want SecretVersionStateInvalid", tc.in, id)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseState(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("ParseState(%q).String() = %q, want the input", tc.in, got.String())
			}
		})
	}
}

func TestTransition(t *testing.T) {
	t.Parallel()
	// okms-rest.md 3.4: every move is allowed except leaving deleted.
	tests := []struct {
		from, to State
		want     error
	}{
		{Active, Active, nil},
		{Active, Deactivated, nil},
		{Active, Deleted, nil},
		{Deactivated, Active, nil},
		{Deactivated, Deactivated, nil},
		{Deactivated, Deleted, nil},
		{Deleted, Active, ErrTransition},
		{Deleted, Deactivated, ErrTransition},
		{Deleted, Deleted, nil},
		{Active, State(0), ErrTransition},
		{State(0), Active, ErrTransition},
		{Active, State(9), ErrTransition},
	}
	for _, tc := range tests {
		t.Run(tc.from.String()+" to "+tc.to.String(), func(t *testing.T) {
			t.Parallel()
			if got := Transition(tc.from, tc.to); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
				t.Errorf("Transition(%v, %v) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestVersion_At(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 22, 2, 24, 6, 945319214, time.UTC)
	deadline := t0.Add(time.Hour)
	scheduled := Version{ID: 1, State: Active, CreatedAt: t0, DeactivateAt: deadline}
	tests := []struct {
		name      string
		v         Version
		now       time.Time
		wantState State
		wantAt    time.Time // DeactivatedAt of the result
	}{
		{"no schedule stays active", Version{ID: 1, State: Active, CreatedAt: t0}, t0.Add(1000 * time.Hour), Active, time.Time{}},
		{"before the deadline", scheduled, t0, Active, time.Time{}},
		{"one nanosecond before the deadline", scheduled, deadline.Add(-time.Nanosecond), Active, time.Time{}},
		{"exactly at the deadline", scheduled, deadline, Deactivated, deadline},
		{"one nanosecond after the deadline", scheduled, deadline.Add(time.Nanosecond), Deactivated, deadline},
		{"long after the deadline", scheduled, deadline.Add(24 * time.Hour), Deactivated, deadline},
		{"deadline in another zone", scheduled, deadline.In(time.FixedZone("x", 7200)), Deactivated, deadline},
		{"explicitly deactivated keeps its time", Version{ID: 1, State: Deactivated, CreatedAt: t0, DeactivatedAt: t0.Add(time.Minute)}, deadline.Add(time.Hour), Deactivated, t0.Add(time.Minute)},
		{"deleted stays deleted past a schedule", Version{ID: 1, State: Deleted, CreatedAt: t0, DeactivateAt: deadline}, deadline.Add(time.Hour), Deleted, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.v.At(tc.now)
			if got.State != tc.wantState || !got.DeactivatedAt.Equal(tc.wantAt) {
				t.Errorf("%+v.At(%v) = state %v deactivatedAt %v, want %v and %v", tc.v, tc.now, got.State, got.DeactivatedAt, tc.wantState, tc.wantAt)
			}
			if got.ID != tc.v.ID || !got.CreatedAt.Equal(tc.v.CreatedAt) || !got.DeactivateAt.Equal(tc.v.DeactivateAt) {
				t.Errorf("%+v.At(%v) = %+v, changed id, creation or schedule", tc.v, tc.now, got)
			}
		})
	}
	t.Run("value receiver does not change the version", func(t *testing.T) {
		t.Parallel()
		v := scheduled
		_ = v.At(deadline.Add(time.Hour))
		if v != scheduled {
			t.Errorf("Version.At modified its receiver: %+v, want %+v", v, scheduled)
		}
	})
}

// TestVersion_DeletionTime follows the state table of vault-kv2.md
// section 3, building each row through the secret's own operations.
func TestVersion_DeletionTime(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 22, 2, 0, 0, 0, time.UTC)
	hourly := Effective{MaxVersions: 10, DeactivateAfter: time.Hour}
	never := Effective{MaxVersions: 10}
	type step struct {
		to  State
		at  time.Duration // after t0
		eff Effective
	}
	tests := []struct {
		name  string
		eff   Effective // at creation (t0)
		steps []step
		now   time.Duration // after t0, when the version is read
		want  time.Duration // after t0; -1 for no time
		state State
	}{
		{"active, no schedule", never, nil, 30 * time.Minute, -1, Active},
		{"active, deactivation scheduled in the future", hourly, nil, 30 * time.Minute, time.Hour, Active},
		{"deactivated explicitly", never, []step{{Deactivated, 10 * time.Minute, never}}, 30 * time.Minute, 10 * time.Minute, Deactivated},
		{"deactivated explicitly before its schedule", hourly, []step{{Deactivated, 10 * time.Minute, hourly}}, 30 * time.Minute, 10 * time.Minute, Deactivated},
		{"deactivated by its schedule", hourly, nil, 2 * time.Hour, time.Hour, Deactivated},
		{"deleted after an explicit deactivation", never, []step{{Deactivated, 10 * time.Minute, never}, {Deleted, 20 * time.Minute, never}}, 30 * time.Minute, 10 * time.Minute, Deleted},
		{"deleted after its schedule passed", hourly, []step{{Deleted, 2 * time.Hour, hourly}}, 3 * time.Hour, time.Hour, Deleted},
		{"deleted with a schedule still in the future", hourly, []step{{Deleted, 10 * time.Minute, hourly}}, 30 * time.Minute, time.Hour, Deleted},
		{"deleted with a future schedule read after it", hourly, []step{{Deleted, 10 * time.Minute, hourly}}, 5 * time.Hour, time.Hour, Deleted},
		{"deleted, never deactivated nor scheduled", never, []step{{Deleted, 10 * time.Minute, never}}, 30 * time.Minute, -1, Deleted},
		{"reactivated without schedule", hourly, []step{{Deactivated, 10 * time.Minute, hourly}, {Active, 20 * time.Minute, never}}, 30 * time.Minute, -1, Active},
		{"reactivated with schedule from reactivation", never, []step{{Deactivated, 10 * time.Minute, never}, {Active, 20 * time.Minute, hourly}}, 30 * time.Minute, 80 * time.Minute, Active},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New("id", MustParsePath("a"), t0)
			if _, _, err := s.AddVersion(t0, tc.eff); err != nil {
				t.Fatalf("AddVersion = error %v", err)
			}
			for _, st := range tc.steps {
				if _, _, err := s.SetState(1, st.to, t0.Add(st.at), st.eff, SetOptions{}); err != nil {
					t.Fatalf("SetState(1, %v, t0+%v) = error %v", st.to, st.at, err)
				}
			}
			v, err := s.Version(1, t0.Add(tc.now))
			if err != nil {
				t.Fatalf("Version(1, t0+%v) = error %v", tc.now, err)
			}
			if v.State != tc.state {
				t.Errorf("Version(1, t0+%v).State = %v, want %v", tc.now, v.State, tc.state)
			}
			want := time.Time{}
			if tc.want >= 0 {
				want = t0.Add(tc.want)
			}
			if got := v.DeletionTime(); !got.Equal(want) {
				t.Errorf("Version(1, t0+%v).DeletionTime() = %v, want %v", tc.now, got, want)
			}
			if v.State == Deactivated && v.DeletionTime().After(t0.Add(tc.now)) {
				t.Errorf("deactivated version has deletion time %v after now %v", v.DeletionTime(), t0.Add(tc.now))
			}
		})
	}
}
