package service

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The Vault Transit use cases (issue 16). A Transit key is a service key
// of the domain addressed by its name, through the name index
// (d/<okmsId>/kn/<name>/<keyId>), which every change of a key's name or
// existence maintains in its own transaction. Each method authorizes the
// okms:apikms:serviceKey/* action of the OKMS route it corresponds to on
// the key's URN, audits like the OKMS routes, and answers ErrSealed while
// sealed. Batches are one authorization and one audit pair per request.

// Limits of Transit requests: a plaintext (or an input to sign or HMAC) of
// at most 512 KiB, at most 1000 items in a batch.
const (
	MaxTransitPlaintext = 512 << 10
	MaxTransitBatch     = 1000
)

// errTransitBatch: a batch larger than MaxTransitBatch.
var errTransitBatch = servicekey.Violations{{Field: servicekey.FieldTransit, Rule: servicekey.RuleMaxExceeded,
	Limit: MaxTransitBatch, Reason: "batch_input has more than 1000 items"}}

// TransitKey is a Transit key as a read returns it: the key and the public
// part of each retained version of a key pair.
type TransitKey struct {
	Key     *servicekey.Key
	Publics map[uint32]servicekey.Public
	// Existed: a creation found the key already there and changed nothing.
	Existed bool
}

// TransitCreate asks for a new Transit key (Vault's keys/<name> write).
type TransitCreate struct {
	Type string
	// Options coffer does not support: true is refused with a violation.
	Exportable, Derived, AllowPlaintextBackup, Convergent bool
	AutoRotate                                            bool
}

// TransitConfig changes a Transit key's settings; nil changes nothing.
type TransitConfig struct {
	MinDecryptionVersion *uint32
	MinEncryptionVersion *uint32
	DeletionAllowed      *bool
	// Options coffer does not support: true is refused with a violation.
	Exportable, AllowPlaintextBackup, AutoRotate bool
}

func unsupported(what string) error {
	return servicekey.Violations{{Field: servicekey.FieldTransit, Rule: servicekey.RuleUnsupported,
		Reason: what + " is not supported by coffer: key material never leaves the server and keys are not derived"}}
}

// checkNameless refuses Transit options coffer does not offer.
func (in TransitCreate) unsupported() error {
	switch {
	case in.Exportable:
		return unsupported("exportable")
	case in.Derived || in.Convergent:
		return unsupported("derived")
	case in.AllowPlaintextBackup:
		return unsupported("allow_plaintext_backup")
	case in.AutoRotate:
		return unsupported("auto_rotate_period")
	}
	return nil
}

// keyNamesBuilt marks a domain whose name index has been built for the
// keys that existed before it (transitIndex).
func (s *Service) transitIndex(ctx context.Context, domain string) error {
	built := false
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		_, err := tx.Get(keyNamesBuiltKey(domain))
		switch {
		case err == nil:
			built = true
		case errors.Is(err, storage.ErrNotFound):
			return domainExists(tx, domain)
		}
		return err
	})
	if err != nil || built {
		return err
	}
	// Keys created before the index: index them all, once. Idempotent,
	// so that running again after a conflict, or on two nodes, is harmless.
	return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
		for after := ""; ; {
			keys, err := tx.List(keyPrefix(domain), after, 1000)
			if err != nil {
				return err
			}
			for _, sk := range keys {
				b, err := tx.Get(sk)
				if err != nil {
					return err
				}
				k, err := decodeKey(b)
				if err != nil {
					return err
				}
				if !k.State.Destroyed() {
					if err := tx.Put(keyNameKey(domain, k.Name, k.ID), []byte{recordFormat}); err != nil {
						return err
					}
				}
			}
			if len(keys) < 1000 {
				break
			}
			after = keys[len(keys)-1]
		}
		return tx.Put(keyNamesBuiltKey(domain), []byte{recordFormat})
	})
}

// indexName and unindexName maintain the name index inside the
// transaction that creates, renames or destroys a key.
func indexName(tx storage.Tx, domain, name, id string) error {
	return tx.Put(keyNameKey(domain, name, id), []byte{recordFormat})
}

func unindexName(tx storage.Tx, domain, name, id string) error {
	return tx.Delete(keyNameKey(domain, name, id))
}

// keysNamed returns the ids of up to limit keys named name.
func keysNamed(tx storage.Tx, domain, name string, limit int) ([]string, error) {
	prefix := keyNamePrefix(domain, name)
	keys, err := tx.List(prefix, "", limit)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, prefix)
	}
	return keys, nil
}

// resolveName returns the id of the one live key named name. A name no
// key has that is the id of a key of the domain names that key; several
// keys with the name are servicekey.ErrNameAmbiguous.
func (s *Service) resolveName(ctx context.Context, domain, name string) (string, error) {
	var id string
	built := true
	resolve := func(tx storage.Tx) error {
		if _, err := tx.Get(keyNamesBuiltKey(domain)); errors.Is(err, storage.ErrNotFound) {
			built = false
			return nil
		} else if err != nil {
			return err
		}
		ids, err := keysNamed(tx, domain, name, 2)
		if err != nil {
			return err
		}
		switch len(ids) {
		case 1:
			id = ids[0]
			return nil
		case 2:
			return servicekey.ErrNameAmbiguous
		}
		if kid, err := parseKeyID(name); err == nil {
			if _, err := tx.Get(keyKey(domain, kid)); err == nil {
				id = kid
				return nil
			}
		}
		return servicekey.ErrNotFound
	}
	// One read transaction in the common case: the index is built.
	err := s.domainView(ctx, domain, resolve)
	if err == nil && !built {
		if err = s.transitIndex(ctx, domain); err == nil {
			err = s.domainView(ctx, domain, resolve)
		}
	}
	return id, err
}

// transitKey resolves name and returns the check of action on the key. A
// name that names no key is checked on every key of the domain
// (serviceKey/*): a caller whose policies allow the action on any key
// learns that it does not exist, others are denied, so that names are not
// revealed to callers who may not use them.
func (s *Service) transitKey(ctx context.Context, c Caller, domain, name string, actions ...string) (string, []keyCheck, error) {
	if s.keys == nil {
		return "", nil, ErrNoKMS
	}
	if name == "" {
		return "", nil, servicekey.Required("name")
	}
	id, err := s.resolveName(ctx, domain, name)
	target := id
	if errors.Is(err, servicekey.ErrNotFound) || errors.Is(err, servicekey.ErrNameAmbiguous) {
		target = "*"
	} else if err != nil {
		return "", nil, err
	}
	checks := make([]keyCheck, len(actions))
	for i, a := range actions {
		checks[i] = s.on(c, a, domain, target)
	}
	if err != nil {
		// Authorize, audit the refusal, answer it.
		rerr := s.runKey(ctx, c, checks, func() error { return err })
		return "", nil, internalUnlessKey("Transit", rerr)
	}
	return id, checks, nil
}

// transitRun resolves name, authorizes actions on the key and runs fn with
// its id, audited.
func (s *Service) transitRun(ctx context.Context, c Caller, domain, name string, actions []string, fn func(id string) error) error {
	id, checks, err := s.transitKey(ctx, c, domain, name, actions...)
	if err != nil {
		return err
	}
	return internalUnlessKey("Transit", s.runKey(ctx, c, checks, func() error { return fn(id) }))
}

// transitView reads a key and the publics of its versions.
func (s *Service) transitView(ctx context.Context, domain, id string) (TransitKey, error) {
	var (
		k    *servicekey.Key
		mats = map[uint32]servicekey.Material{}
	)
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		var err error
		if k, err = loadKey(tx, domain, id); err != nil {
			return err
		}
		if k.State.Destroyed() {
			return servicekey.ErrNotFound
		}
		clear(mats)
		if k.Type == servicekey.Oct {
			return nil
		}
		for _, v := range k.Versions {
			if mats[v.Number], err = loadMaterial(tx, domain, id, v.Number); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return TransitKey{}, err
	}
	out := TransitKey{Key: k}
	if len(mats) > 0 {
		out.Publics = make(map[uint32]servicekey.Public, len(mats))
		for n, m := range mats {
			p, err := s.keys.Public(m)
			if err != nil {
				return TransitKey{}, err
			}
			out.Publics[n] = p
		}
	}
	return out, nil
}

// TransitCreateKey creates a key named name of a Transit type (Vault's
// keys/<name> write) with the usages Vault gives keys of that type. If a
// key already has the name, nothing changes and the key is returned with
// Existed set, as Vault answers. Action: serviceKey/create on the new key
// (serviceKey/get on an existing one).
func (s *Service) TransitCreateKey(ctx context.Context, c Caller, domain, name string, in TransitCreate) (TransitKey, error) {
	if s.keys == nil {
		return TransitKey{}, ErrNoKMS
	}
	n, err := servicekey.ParseName(name)
	spec, terr := servicekey.ParseTransitType(in.Type)
	if err := servicekey.Join(err, terr, in.unsupported()); err != nil {
		return TransitKey{}, err
	}
	if err := s.transitIndex(ctx, domain); err != nil {
		return TransitKey{}, internalUnlessKey("TransitCreateKey", err)
	}
	if id, err := s.resolveName(ctx, domain, n); err == nil {
		var out TransitKey
		err := s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyGet, domain, id)}, func() (err error) {
			out, err = s.transitView(ctx, domain, id)
			out.Existed = true
			return err
		})
		return out, internalUnlessKey("TransitCreateKey", err)
	} else if !errors.Is(err, servicekey.ErrNotFound) {
		return TransitKey{}, internalUnlessKey("TransitCreateKey", err)
	}
	id := s.newID()
	now := s.clock()
	var out TransitKey
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyCreate, domain, id)}, func() error {
		imp, err := s.generate(spec)
		if err != nil {
			return err
		}
		k := servicekey.New(id, n, "", spec, imp.Class, servicekey.TransitUsages(spec.Type), false, now)
		err = s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			if ids, err := keysNamed(tx, domain, n, 1); err != nil {
				return err
			} else if len(ids) > 0 {
				return servicekey.ErrExists // created meanwhile
			}
			if err := putMaterial(tx, domain, id, 1, imp.Material); err != nil {
				return err
			}
			if err := indexName(tx, domain, n, id); err != nil {
				return err
			}
			return saveKey(tx, domain, k)
		})
		if err != nil {
			return err
		}
		out, err = s.transitView(ctx, domain, id)
		return err
	})
	return out, internalUnlessKey("TransitCreateKey", err)
}

// TransitReadKey returns a key with the publics of its versions. Action:
// serviceKey/get.
func (s *Service) TransitReadKey(ctx context.Context, c Caller, domain, name string) (TransitKey, error) {
	var out TransitKey
	err := s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyGet}, func(id string) (err error) {
		out, err = s.transitView(ctx, domain, id)
		return err
	})
	return out, err
}

// maxNameScan bounds the index records one Transit list reads.
const maxNameScan = 100000

// TransitListKeys returns the names of the live keys of the domain the
// caller may serviceKey/get, sorted, each once (LIST transit/keys).
func (s *Service) TransitListKeys(ctx context.Context, c Caller, domain string) ([]string, error) {
	if s.keys == nil {
		return nil, ErrNoKMS
	}
	if err := s.transitIndex(ctx, domain); err != nil {
		return nil, internalUnlessKey("TransitListKeys", err)
	}
	act := c.action(policy.ServiceKeyGet)
	var names []string
	err := s.runList(ctx, c, s.DomainURN(domain), act, func() error {
		return s.domainView(ctx, domain, func(tx storage.Tx) error {
			names = names[:0]
			prefix := keyNamesPrefix(domain)
			for after, scanned := "", 0; scanned < maxNameScan; {
				keys, err := tx.List(prefix, after, 1000)
				if err != nil {
					return err
				}
				for _, k := range keys {
					scanned++
					esc, id, ok := strings.Cut(strings.TrimPrefix(k, prefix), "/")
					if !ok || !s.allowed(c, act, s.ServiceKeyURN(domain, id)) {
						continue
					}
					if name, err := url.PathUnescape(esc); err == nil && (len(names) == 0 || names[len(names)-1] != name) {
						names = append(names, name)
					}
				}
				if len(keys) < 1000 {
					break
				}
				after = keys[len(keys)-1]
			}
			return nil
		})
	})
	slices.Sort(names)
	return slices.Compact(names), internalUnlessKey("TransitListKeys", err)
}

// TransitDeleteKey deletes a key whose deletion_allowed is set: an active
// key is deactivated (cessation of operation) and destroyed in one
// transaction, its name freed. Action: serviceKey/delete.
func (s *Service) TransitDeleteKey(ctx context.Context, c Caller, domain, name string) error {
	now := s.clock()
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyDelete}, func(id string) error {
		return s.updateLiveKey(ctx, domain, id, func(tx storage.Tx, k *servicekey.Key) error {
			if !k.DeletionAllowed {
				return servicekey.ErrDeletionNotAllowed
			}
			if k.State == servicekey.Active {
				if _, err := k.Deactivate(servicekey.ReasonCessationOfOperation, now); err != nil {
					return err
				}
			}
			_, err := destroyKey(tx, domain, id, k, now)
			return err
		})
	})
}

// updateLiveKey runs fn on key id, which must not be destroyed, and saves
// it, in one transaction.
func (s *Service) updateLiveKey(ctx context.Context, domain, id string, fn func(tx storage.Tx, k *servicekey.Key) error) error {
	return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
		k, err := loadKey(tx, domain, id)
		if err != nil {
			return err
		}
		if k.State.Destroyed() {
			return servicekey.ErrNotFound
		}
		if err := fn(tx, k); err != nil {
			return err
		}
		return saveKey(tx, domain, k)
	})
}

// transitUpdate resolves name, authorizes serviceKey/update, runs fn with
// the key's id, audited, and returns the key as it is then.
func (s *Service) transitUpdate(ctx context.Context, c Caller, domain, name string, fn func(id string) error) (TransitKey, error) {
	var out TransitKey
	err := s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyUpdate}, func(id string) error {
		if err := fn(id); err != nil {
			return err
		}
		var err error
		out, err = s.transitView(ctx, domain, id)
		return err
	})
	return out, err
}

// TransitConfigKey changes a key's Transit settings (keys/<name>/config).
// Action: serviceKey/update.
func (s *Service) TransitConfigKey(ctx context.Context, c Caller, domain, name string, cfg TransitConfig) (TransitKey, error) {
	switch {
	case cfg.Exportable:
		return TransitKey{}, unsupported("exportable")
	case cfg.AllowPlaintextBackup:
		return TransitKey{}, unsupported("allow_plaintext_backup")
	case cfg.AutoRotate:
		return TransitKey{}, unsupported("auto_rotate_period")
	}
	return s.transitUpdate(ctx, c, domain, name, func(id string) error {
		return s.updateLiveKey(ctx, domain, id, func(_ storage.Tx, k *servicekey.Key) error {
			if v := cfg.MinDecryptionVersion; v != nil && *v != 0 {
				if *v > k.LatestVersion || *v < k.MinAvailableVersion() {
					return transitInvalid("min_decryption_version must be between the oldest retained version and the latest version")
				}
				k.MinDecryptionVersion = *v
			}
			if v := cfg.MinEncryptionVersion; v != nil {
				if err := k.SetMinEncryptionVersion(*v); err != nil {
					return transitInvalid("min_encryption_version must be 0 or at most the latest version")
				}
			}
			if k.MinEncryptionVersion != 0 && k.MinEncryptionVersion < k.MinDecryptionVersion {
				return transitInvalid("min encryption version should not be less than min decryption version")
			}
			if cfg.DeletionAllowed != nil {
				k.DeletionAllowed = *cfg.DeletionAllowed
			}
			return nil
		})
	})
}

func transitInvalid(reason string) error { return servicekey.Invalid(servicekey.FieldTransit, reason) }

// TransitRotateKey adds a version to a key (keys/<name>/rotate), as the
// OKMS side's RotateServiceKey does. Action: serviceKey/update.
func (s *Service) TransitRotateKey(ctx context.Context, c Caller, domain, name string) (TransitKey, error) {
	now := s.clock()
	return s.transitUpdate(ctx, c, domain, name, func(id string) error {
		_, err := s.rotateKey(ctx, domain, id, now, servicekey.ErrNotFound)
		return err
	})
}

// TransitTrimKey destroys the material of the versions below
// minAvailable, which must not exceed the minimum decryption version nor a
// set minimum encryption version (keys/<name>/trim). Action:
// serviceKey/update.
func (s *Service) TransitTrimKey(ctx context.Context, c Caller, domain, name string, minAvailable uint32) (TransitKey, error) {
	if minAvailable == 0 {
		return TransitKey{}, transitInvalid("missing or invalid min_available_version")
	}
	return s.transitUpdate(ctx, c, domain, name, func(id string) error {
		return s.updateLiveKey(ctx, domain, id, func(tx storage.Tx, k *servicekey.Key) error {
			if k.MinEncryptionVersion != 0 && minAvailable > k.MinEncryptionVersion {
				return transitInvalid("cannot trim to a version above min_encryption_version")
			}
			gone, err := k.Trim(minAvailable)
			if err != nil {
				return transitInvalid("cannot trim to a version above min_decryption_version")
			}
			for _, v := range gone {
				if err := tx.Delete(materialKey(domain, id, v)); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// TransitItem is one item of a batch: its input, and, after the call, its
// result or its own error. Errors of an item never fail the call.
type TransitItem struct {
	// Inputs (which are used depends on the call).
	Plaintext  servicekey.Material // encrypt
	Ciphertext string              // decrypt, rewrap
	Context    []byte              // associated data
	KeyVersion uint32              // encrypt, rewrap, sign, hmac: 0 the latest
	Input      []byte              // sign, verify, hmac
	Signature  string              // verify
	HMAC       string              // verify with an HMAC

	// Results.
	Value   string              // ciphertext, signature or HMAC
	Version uint32              // the key version used
	Output  servicekey.Material // plaintext
	Valid   bool                // verify
	Err     error
}

// transitMaterials loads a key and the material of the versions want
// returns, after op is permitted, in one read transaction. A version want
// names that the key does not retain is left out: the item asking for it
// fails on its own.
func (s *Service) transitMaterials(ctx context.Context, domain, id string, permit func(k *servicekey.Key) error,
	want func(k *servicekey.Key) []uint32) (*servicekey.Key, map[uint32]servicekey.Material, error) {
	var (
		k    *servicekey.Key
		mats = map[uint32]servicekey.Material{}
	)
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		var err error
		if k, err = s.loadKeyCached(tx, domain, id); err != nil {
			return err
		}
		if err := permit(k); err != nil {
			return err
		}
		clear(mats)
		for _, v := range want(k) {
			if _, ok := k.Version(v); !ok {
				continue
			}
			if _, ok := mats[v]; ok {
				continue
			}
			if mats[v], err = loadMaterial(tx, domain, id, v); err != nil {
				return err
			}
		}
		return nil
	})
	return k, mats, err
}

func permitOp(op servicekey.Operation) func(k *servicekey.Key) error {
	return func(k *servicekey.Key) error {
		if err := k.Permit(op); err != nil {
			if errors.Is(err, servicekey.ErrDestroyed) {
				return servicekey.ErrNotFound
			}
			return err
		}
		return nil
	}
}

// encryptVersions returns, per item, the version it encrypts with.
func encryptVersions(k *servicekey.Key, items []TransitItem) []uint32 {
	out := make([]uint32, 0, len(items))
	for _, it := range items {
		if v, err := k.EncryptionVersion(it.KeyVersion); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func checkBatch(n int) error {
	switch {
	case n == 0:
		return servicekey.Required("plaintext")
	case n > MaxTransitBatch:
		return errTransitBatch
	}
	return nil
}

// encryptItem encrypts one item with the version it asks for.
func (s *Service) encryptItem(k *servicekey.Key, mats map[uint32]servicekey.Material, it *TransitItem) {
	v, err := k.EncryptionVersion(it.KeyVersion)
	if err == nil && it.Plaintext.Len() > MaxTransitPlaintext {
		err = servicekey.Violations{{Field: servicekey.FieldPlaintext, Rule: servicekey.RuleMaxExceeded,
			Limit: MaxTransitPlaintext, Reason: "plaintext exceeds 524288 bytes"}}
	}
	if err != nil {
		it.Err = err
		return
	}
	ct, err := s.keys.TransitEncrypt(mats[v], it.Plaintext.Bytes(), it.Context)
	if err != nil {
		it.Err = err
		return
	}
	it.Value, it.Version = servicekey.TransitValue(v, ct, false), v
}

// TransitEncrypt encrypts each item with the key's latest version, or the
// version it names (from min_encryption_version on), binding its context
// as associated data. The key must be active with the encrypt usage: an
// OKMS-deactivated key refuses. Action: serviceKey/encrypt.
func (s *Service) TransitEncrypt(ctx context.Context, c Caller, domain, name string, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyEncrypt}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, permitOp(servicekey.OpEncrypt),
			func(k *servicekey.Key) []uint32 { return encryptVersions(k, items) })
		if err != nil {
			return err
		}
		for i := range items {
			s.encryptItem(k, mats, &items[i])
		}
		return nil
	})
}

// valueVersions returns the versions the items' Transit values (the
// field value picks) name.
func valueVersions(items []TransitItem, value func(*TransitItem) string) []uint32 {
	out := make([]uint32, 0, len(items))
	for i := range items {
		if v, _, err := servicekey.ParseTransitValue(value(&items[i])); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func itemCiphertext(it *TransitItem) string { return it.Ciphertext }
func itemSignature(it *TransitItem) string  { return it.Signature }
func itemHMAC(it *TransitItem) string       { return it.HMAC }

// ciphertextVersions returns the versions the items' ciphertexts name.
func ciphertextVersions(items []TransitItem) []uint32 {
	return valueVersions(items, itemCiphertext)
}

// decryptItem decrypts one item's ciphertext.
func (s *Service) decryptItem(k *servicekey.Key, mats map[uint32]servicekey.Material, it *TransitItem) {
	if it.Ciphertext == "" {
		it.Err = servicekey.Required("ciphertext")
		return
	}
	v, ct, err := servicekey.ParseTransitValue(it.Ciphertext)
	if err != nil {
		it.Err = err
		return
	}
	if _, err := k.DecryptionVersion(v); err != nil {
		it.Err = err
		return
	}
	pt, err := s.keys.TransitDecrypt(mats[v], ct, it.Context)
	if err != nil {
		it.Err = err
		return
	}
	it.Output, it.Version = servicekey.MaterialOf(pt), v
}

// TransitDecrypt decrypts each item's ciphertext with the version it
// names, from min_decryption_version on, and its context. A deactivated
// or compromised key still decrypts. Action: serviceKey/decrypt.
func (s *Service) TransitDecrypt(ctx context.Context, c Caller, domain, name string, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyDecrypt}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, permitOp(servicekey.OpDecrypt),
			func(*servicekey.Key) []uint32 { return ciphertextVersions(items) })
		if err != nil {
			return err
		}
		for i := range items {
			s.decryptItem(k, mats, &items[i])
		}
		return nil
	})
}

// TransitRewrap decrypts each item's ciphertext and encrypts it again with
// the latest version (or the one it names), never revealing the
// plaintext. Actions: serviceKey/decrypt and serviceKey/encrypt.
func (s *Service) TransitRewrap(ctx context.Context, c Caller, domain, name string, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyDecrypt, policy.ServiceKeyEncrypt}, func(id string) error {
		permit := func(k *servicekey.Key) error {
			if err := permitOp(servicekey.OpDecrypt)(k); err != nil {
				return err
			}
			return permitOp(servicekey.OpEncrypt)(k)
		}
		k, mats, err := s.transitMaterials(ctx, domain, id, permit,
			func(k *servicekey.Key) []uint32 {
				return append(ciphertextVersions(items), encryptVersions(k, items)...)
			})
		if err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			s.decryptItem(k, mats, it)
			if it.Err != nil {
				continue
			}
			it.Plaintext, it.Output = it.Output, servicekey.Material{}
			s.encryptItem(k, mats, it)
			it.Plaintext = servicekey.Material{}
		}
		return nil
	})
}

// TransitDataKey makes a data key of bits bits (128, 256 or 512) and
// encrypts it as TransitEncrypt would, so that transit/decrypt returns
// it. The plaintext is in the result's Output. Action:
// serviceKey/dataKey/create.
func (s *Service) TransitDataKey(ctx context.Context, c Caller, domain, name string, bits int, it *TransitItem) error {
	if bits != 128 && bits != 256 && bits != 512 {
		return servicekey.Invalid(servicekey.FieldDataKeySize, "bits must be 128, 256 or 512")
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyDataKeyCreate}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, permitOp(servicekey.OpDataKeyCreate),
			func(k *servicekey.Key) []uint32 { return encryptVersions(k, []TransitItem{*it}) })
		if err != nil {
			return err
		}
		if !k.Usages.Has(servicekey.Encrypt) {
			return servicekey.ErrUsage
		}
		dk, err := s.keys.DataKey(bits)
		if err != nil {
			return err
		}
		it.Plaintext = dk
		s.encryptItem(k, mats, it)
		it.Output, it.Plaintext = dk, servicekey.Material{}
		return it.Err
	})
}

// TransitSignOptions are the parameters of a signature common to a batch.
type TransitSignOptions struct {
	Hash      servicekey.Hash
	Prehashed bool
	PKCS1v15  bool
	JWS       bool
}

func (o TransitSignOptions) input(b []byte) servicekey.TransitSignInput {
	return servicekey.TransitSignInput{Hash: o.Hash, Input: b, Prehashed: o.Prehashed, PKCS1v15: o.PKCS1v15, JWS: o.JWS}
}

// TransitSign signs each item's input with the latest version (or the one
// it names). The key must be active with the sign usage. Action:
// serviceKey/sign.
func (s *Service) TransitSign(ctx context.Context, c Caller, domain, name string, opt TransitSignOptions, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeySign}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, permitOp(servicekey.OpSign),
			func(k *servicekey.Key) []uint32 { return encryptVersions(k, items) })
		if err != nil {
			return err
		}
		if err := signOptionsFit(k, opt); err != nil {
			return err
		}
		tagItems(k, items, opt.JWS, func(v uint32, input []byte) ([]byte, error) {
			return s.keys.TransitSign(mats[v], opt.input(input))
		})
		return nil
	})
}

// tagItems computes each item's tag (a signature or an HMAC of its input)
// with the version it asks for; an item that cannot be tagged gets its
// own error.
func tagItems(k *servicekey.Key, items []TransitItem, jws bool, tag func(v uint32, input []byte) ([]byte, error)) {
	for i := range items {
		it := &items[i]
		v, err := k.EncryptionVersion(it.KeyVersion)
		if err == nil && len(it.Input) > MaxTransitPlaintext {
			err = transitInvalid("input exceeds 524288 bytes")
		}
		if err != nil {
			it.Err = err
			continue
		}
		b, err := tag(v, it.Input)
		if err != nil {
			it.Err = err
			continue
		}
		it.Value, it.Version = servicekey.TransitValue(v, b, jws), v
	}
}

// checkItems parses each item's tag (the field value picks) and, when it
// names a version the key still decrypts with, runs check on it; an item
// whose tag does not parse is servicekey.ErrSignature.
func checkItems(k *servicekey.Key, items []TransitItem, value func(*TransitItem) string, check func(it *TransitItem, v uint32, tag []byte)) {
	for i := range items {
		it := &items[i]
		v, tag, err := servicekey.ParseTransitValue(value(it))
		if err != nil {
			it.Err = servicekey.ErrSignature
			continue
		}
		if _, err := k.DecryptionVersion(v); err != nil {
			it.Err = err
			continue
		}
		check(it, v, tag)
	}
}

// signOptionsFit refuses options of another key type: a signature
// algorithm for a key that is not RSA, a marshaling algorithm for a key
// that is not ECDSA.
func signOptionsFit(k *servicekey.Key, opt TransitSignOptions) error {
	switch {
	case opt.PKCS1v15 && k.Type != servicekey.RSA:
		return transitInvalid("signature_algorithm applies to RSA keys only")
	case opt.JWS && k.Type != servicekey.EC:
		return transitInvalid("marshaling_algorithm jws applies to ECDSA keys only")
	}
	return nil
}

// TransitVerify checks each item's signature with the version it names,
// from min_decryption_version on. A signature that does not match is
// Valid false, not an error. The key may be deactivated. Action:
// serviceKey/verify.
func (s *Service) TransitVerify(ctx context.Context, c Caller, domain, name string, opt TransitSignOptions, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	versions := func(*servicekey.Key) []uint32 { return valueVersions(items, itemSignature) }
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyVerify}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, permitOp(servicekey.OpVerify), versions)
		if err != nil {
			return err
		}
		if err := signOptionsFit(k, opt); err != nil {
			return err
		}
		checkItems(k, items, itemSignature, func(it *TransitItem, v uint32, sig []byte) {
			it.Valid, it.Err = s.keys.TransitVerify(mats[v], opt.input(it.Input), sig)
			it.Version = v
		})
		return nil
	})
}

// hmacPermit: any key whose material exists can HMAC (Vault derives an
// HMAC key for every key); making one needs an active key.
func hmacPermit(active bool) func(k *servicekey.Key) error {
	return func(k *servicekey.Key) error {
		switch {
		case k.State.Destroyed():
			return servicekey.ErrNotFound
		case k.Class == servicekey.PublicKey:
			return servicekey.ErrUsage
		case active && k.State != servicekey.Active:
			return servicekey.ErrNotActive
		}
		return nil
	}
}

// TransitHMAC computes each item's HMAC with the HMAC key of the latest
// version (or the one it names). Action: serviceKey/sign.
func (s *Service) TransitHMAC(ctx context.Context, c Caller, domain, name string, h servicekey.Hash, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeySign}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, hmacPermit(true),
			func(k *servicekey.Key) []uint32 { return encryptVersions(k, items) })
		if err != nil {
			return err
		}
		tagItems(k, items, false, func(v uint32, input []byte) ([]byte, error) {
			return s.keys.HMAC(mats[v], h, input)
		})
		return nil
	})
}

// TransitVerifyHMAC checks each item's HMAC. Action: serviceKey/verify.
func (s *Service) TransitVerifyHMAC(ctx context.Context, c Caller, domain, name string, h servicekey.Hash, items []TransitItem) error {
	if err := checkBatch(len(items)); err != nil {
		return err
	}
	versions := func(*servicekey.Key) []uint32 { return valueVersions(items, itemHMAC) }
	return s.transitRun(ctx, c, domain, name, []string{policy.ServiceKeyVerify}, func(id string) error {
		k, mats, err := s.transitMaterials(ctx, domain, id, hmacPermit(false), versions)
		if err != nil {
			return err
		}
		checkItems(k, items, itemHMAC, func(it *TransitItem, v uint32, mac []byte) {
			want, err := s.keys.HMAC(mats[v], h, it.Input)
			if err != nil {
				it.Err = err
				return
			}
			it.Valid, it.Version = hmacEqual(want, mac), v
		})
		return nil
	})
}

// hmacEqual compares in constant time for equal lengths.
func hmacEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// TransitHash hashes input (transit/hash): no key is involved, so any
// authenticated caller may, while the service is unsealed; it is not
// audited, as it reads and changes nothing.
func (s *Service) TransitHash(h servicekey.Hash, input []byte) ([]byte, error) {
	if s.keys == nil {
		return nil, ErrNoKMS
	}
	if err := s.sealedErr(); err != nil {
		return nil, err
	}
	if len(input) > MaxTransitPlaintext {
		return nil, transitInvalid("input exceeds 524288 bytes")
	}
	return s.keys.Digest(h, input)
}
