package secret

import (
	"slices"
	"time"
)

// Secret is a secret's metadata and version index. Its versions' data is
// stored apart, keyed by the secret's ID, so that a ciphertext can never be
// valid at a re-created path.
type Secret struct {
	// ID is a random UUID assigned at creation and never reused.
	ID        string
	Path      Path
	CreatedAt time.Time
	// UpdatedAt moves when a version is created or secret-level metadata
	// changes; version state changes do not move it.
	UpdatedAt time.Time
	// CurrentVersion is the highest version id ever created (0 if none).
	CurrentVersion uint32
	// OldestVersion is 0 until a version has been pruned, then the lowest
	// retained version id (okms-rest.md 3.2).
	OldestVersion  uint32
	Settings       Settings
	CustomMetadata map[string]string
	// Versions are the retained versions, ascending by id.
	Versions []Version
}

// New returns a secret created at now, with no version.
func New(id string, path Path, now time.Time) *Secret {
	return &Secret{ID: id, Path: path, CreatedAt: now, UpdatedAt: now}
}

// Version returns the retained version id as it stands at now, or
// [ErrVersionNotFound]. An id of 0 means the current version.
func (s *Secret) Version(id uint32, now time.Time) (Version, error) {
	if id == 0 {
		id = s.CurrentVersion
	}
	i, ok := s.index(id)
	if !ok {
		return Version{}, ErrVersionNotFound
	}
	return s.Versions[i].At(now), nil
}

// VersionsAt returns the retained versions as they stand at now.
func (s *Secret) VersionsAt(now time.Time) []Version {
	out := make([]Version, len(s.Versions))
	for i, v := range s.Versions {
		out[i] = v.At(now)
	}
	return out
}

func (s *Secret) index(id uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Versions, id, func(v Version, id uint32) int {
		switch {
		case v.ID < id:
			return -1
		case v.ID > id:
			return 1
		}
		return 0
	})
}

// AddVersion creates the next version at now with the deactivation
// schedule of eff, then prunes the oldest retained versions beyond
// eff.MaxVersions (okms-rest.md 3.1, 3.2). It returns the new version and
// the ids of the pruned versions, whose data the caller must destroy. It
// fails with [ErrVersionLimit] once version 24000 exists. CAS is checked by
// the caller, before, with [CheckCAS].
func (s *Secret) AddVersion(now time.Time, eff Effective) (Version, []uint32, error) {
	if s.CurrentVersion >= MaxVersionID {
		return Version{}, nil, ErrVersionLimit
	}
	s.CurrentVersion++
	v := Version{ID: s.CurrentVersion, State: Active, CreatedAt: now, DeactivateAt: schedule(now, eff)}
	s.Versions = append(s.Versions, v)
	s.UpdatedAt = now
	var pruned []uint32
	if max := int(eff.MaxVersions); max > 0 && len(s.Versions) > max {
		n := len(s.Versions) - max
		for _, old := range s.Versions[:n] {
			pruned = append(pruned, old.ID)
		}
		s.Versions = slices.Delete(s.Versions, 0, n)
		s.OldestVersion = s.Versions[0].ID
	}
	return v, pruned, nil
}

// SetOptions tune [Secret.SetState].
type SetOptions struct {
	// Rearm restarts the deactivation schedule even when the version is
	// already active (Vault's undelete does; surface B's active→active is a
	// no-op).
	Rearm bool
}

// SetState moves version id to state to at now, following the transition
// table of okms-rest.md 3.4 on the version's state as it stands at now:
// deactivating records deactivatedAt; reactivating clears it and re-arms
// the schedule from now with eff; deleting is final (the caller destroys the
// data) and keeps the deactivation times. It returns the version after the
// change and whether anything changed. Errors: [ErrVersionNotFound],
// [ErrTransition]. On error s is unchanged.
func (s *Secret) SetState(id uint32, to State, now time.Time, eff Effective, opt SetOptions) (Version, bool, error) {
	i, ok := s.index(id)
	if !ok {
		return Version{}, false, ErrVersionNotFound
	}
	stored := s.Versions[i]
	v := stored.At(now)
	if err := Transition(v.State, to); err != nil {
		return v, false, err
	}
	switch {
	case to == Active && (v.State != Active || opt.Rearm):
		v.State, v.DeactivatedAt, v.DeactivateAt = Active, time.Time{}, schedule(now, eff)
	case to == Deactivated && v.State == Active:
		v.State, v.DeactivatedAt, v.DeactivateAt = Deactivated, now, time.Time{}
	case to == Deleted && v.State != Deleted:
		v.State = Deleted
	}
	if v == stored {
		return v, false, nil
	}
	s.Versions[i] = v
	return v, true, nil
}

// RetainedActive counts the retained versions that are not deleted
// (active or deactivated, explicitly or by schedule).
func (s *Secret) RetainedActive() int {
	n := 0
	for _, v := range s.Versions {
		if v.State != Deleted {
			n++
		}
	}
	return n
}
