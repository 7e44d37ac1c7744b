package service

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// keyRecord is the stored form of a servicekey.Key (d/<okmsId>/k/<keyId>).
// Its material is not here: each version's lives in a record of its own
// (materialKey), sealed like a secret version's data.
type keyRecord struct {
	F                int                `json:"f"`
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	Context          string             `json:"ctx,omitempty"`
	Type             string             `json:"type"`
	Size             int                `json:"size,omitempty"`
	Curve            string             `json:"crv,omitempty"`
	Class            string             `json:"class"`
	Usages           []string           `json:"ops"`
	Extractable      bool               `json:"ext,omitempty"`
	NeverExtractable bool               `json:"next,omitempty"`
	State            string             `json:"state"`
	Reason           string             `json:"reason,omitempty"`
	Created          int64              `json:"created"`
	Activated        int64              `json:"activated,omitempty"`
	Deactivated      int64              `json:"deactivated,omitempty"`
	Compromised      int64              `json:"compromised,omitempty"`
	Destroyed        int64              `json:"destroyed,omitempty"`
	Versions         []keyVersionRecord `json:"v"`
	Latest           uint32             `json:"latest"`
	MinDecryption    uint32             `json:"minDecrypt"`
}

type keyVersionRecord struct {
	N       uint32 `json:"n"`
	Created int64  `json:"c"`
}

func encodeKey(k *servicekey.Key) ([]byte, error) {
	r := keyRecord{
		F: recordFormat, ID: k.ID, Name: k.Name, Context: k.Context,
		Type: string(k.Type), Size: k.Size, Curve: string(k.Curve), Class: string(k.Class),
		Extractable: k.Extractable, NeverExtractable: k.NeverExtractable,
		State: k.State.String(), Reason: string(k.Reason),
		Created: unixNano(k.CreatedAt), Activated: unixNano(k.ActivatedAt), Deactivated: unixNano(k.DeactivatedAt),
		Compromised: unixNano(k.CompromisedAt), Destroyed: unixNano(k.DestroyedAt),
		Versions: make([]keyVersionRecord, len(k.Versions)), Latest: k.LatestVersion, MinDecryption: k.MinDecryptionVersion,
	}
	for _, u := range k.Usages.List() {
		r.Usages = append(r.Usages, string(u))
	}
	for i, v := range k.Versions {
		r.Versions[i] = keyVersionRecord{N: v.Number, Created: unixNano(v.CreatedAt)}
	}
	return json.Marshal(r)
}

func decodeKey(b []byte) (*servicekey.Key, error) {
	var r keyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("service: decode service key record: %w", err)
	}
	if r.F != recordFormat {
		return nil, fmt.Errorf("service: service key record format %d is not supported", r.F)
	}
	st, ok := servicekey.ParseState(r.State)
	if !ok {
		return nil, fmt.Errorf("service: service key record has an unknown state")
	}
	k := &servicekey.Key{
		ID: r.ID, Name: r.Name, Context: r.Context,
		Spec:  servicekey.Spec{Type: servicekey.Type(r.Type), Size: r.Size, Curve: servicekey.Curve(r.Curve)},
		Class: servicekey.Class(r.Class), Extractable: r.Extractable, NeverExtractable: r.NeverExtractable,
		State: st, Reason: servicekey.Reason(r.Reason),
		CreatedAt: fromNano(r.Created), ActivatedAt: fromNano(r.Activated), DeactivatedAt: fromNano(r.Deactivated),
		CompromisedAt: fromNano(r.Compromised), DestroyedAt: fromNano(r.Destroyed),
		LatestVersion: r.Latest, MinDecryptionVersion: r.MinDecryption,
	}
	for _, u := range r.Usages {
		k.Usages |= servicekey.UsagesOf(servicekey.Usage(u))
	}
	for _, v := range r.Versions {
		k.Versions = append(k.Versions, servicekey.Version{Number: v.N, CreatedAt: fromNano(v.Created)})
	}
	return k, nil
}

// loadKey reads a key record; a missing one is servicekey.ErrNotFound, or
// ErrDomainNotFound when the domain itself is missing.
func loadKey(tx storage.Tx, domain, id string) (*servicekey.Key, error) {
	b, err := tx.Get(keyKey(domain, id))
	if errors.Is(err, storage.ErrNotFound) {
		if derr := domainExists(tx, domain); derr != nil {
			return nil, derr
		}
		return nil, servicekey.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeKey(b)
}

func saveKey(tx storage.Tx, domain string, k *servicekey.Key) error {
	b, err := encodeKey(k)
	if err != nil {
		return err
	}
	return tx.Put(keyKey(domain, k.ID), b)
}

// Key material is stored as one format byte followed by the material.
func putMaterial(tx storage.Tx, domain, id string, version uint32, m servicekey.Material) error {
	b := make([]byte, 1+m.Len())
	b[0] = recordFormat
	copy(b[1:], m.Bytes())
	return tx.Put(materialKey(domain, id, version), b)
}

// loadMaterial reads the material of one version; the key record says it
// exists, so its absence is an internal error.
func loadMaterial(tx storage.Tx, domain, id string, version uint32) (servicekey.Material, error) {
	b, err := tx.Get(materialKey(domain, id, version))
	if err != nil {
		return servicekey.Material{}, fmt.Errorf("service: material of key version %d: %w", version, err)
	}
	if len(b) < 2 || b[0] != recordFormat {
		return servicekey.Material{}, fmt.Errorf("service: material record of key version %d has an unknown format", version)
	}
	return servicekey.MaterialOf(b[1:]), nil
}

// destroyMaterial deletes the material of every version of a key.
func destroyMaterial(tx storage.Tx, domain, id string) error {
	keys, err := tx.List(materialPrefix(domain, id), "", 0)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// countKeys counts the keys of a domain whose material exists.
func countKeys(tx storage.Tx, domain string) (int, error) {
	n := 0
	for after := ""; ; {
		keys, err := tx.List(keyPrefix(domain), after, 1000)
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			b, err := tx.Get(k)
			if err != nil {
				return 0, err
			}
			key, err := decodeKey(b)
			if err != nil {
				return 0, err
			}
			if key.Counts() {
				n++
			}
		}
		if len(keys) < 1000 {
			return n, nil
		}
		after = keys[len(keys)-1]
	}
}
