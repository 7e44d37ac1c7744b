package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// KeyOps is how the service reaches the cryptography of service keys
// without importing any (architecture.md 2.1): the server wires
// internal/crypto/keyops. Material is opaque to the service, which stores
// it in records of its own, sealed like every record.
type KeyOps interface {
	// Generate returns fresh material for a key of spec.
	Generate(spec servicekey.Spec) (servicekey.Material, error)
	// ImportJWK turns an imported JWK into material.
	ImportJWK(jwk servicekey.JWK) (servicekey.Imported, error)
	// ImportKey turns unwrapped key material in format into material.
	ImportKey(format servicekey.KeyFormat, plain servicekey.Material) (servicekey.Imported, error)
	// ExportKey writes material in format, for a wrapped export.
	ExportKey(format servicekey.KeyFormat, m servicekey.Material) (servicekey.Material, error)
	// Public returns the public part of material.
	Public(m servicekey.Material) (servicekey.Public, error)
	// Wrap encrypts plain for the transport key (a JWE).
	Wrap(transport servicekey.Material, transportID string, alg servicekey.WrappingAlgorithm, plain servicekey.Material) (string, error)
	// Unwrap decrypts a wrapped key with the transport key.
	Unwrap(transport servicekey.Material, wrapped string) (servicekey.Material, error)
	// ReadEnvelope reads the key and version a ciphertext names.
	ReadEnvelope(ciphertext string) (servicekey.Envelope, error)
	// Encrypt encrypts plaintext, naming env in the ciphertext and binding
	// context.
	Encrypt(m servicekey.Material, env servicekey.Envelope, plaintext, context []byte) (string, error)
	// Decrypt decrypts a ciphertext of Encrypt.
	Decrypt(m servicekey.Material, ciphertext string, context []byte) ([]byte, error)
	// DataKey returns a fresh data key of bits bits.
	DataKey(bits int) (servicekey.Material, error)
	// Sign signs with the material.
	Sign(m servicekey.Material, in servicekey.SignInput) (string, error)
	// Verify checks a signature with the material.
	Verify(m servicekey.Material, in servicekey.VerifyInput) (bool, error)
	// Forget drops whatever it keeps in memory from key material (parsed
	// keys); the service calls it when it seals.
	Forget()

	// The Vault Transit operations (transit.go), whose outputs are raw.
	// TransitEncrypt encrypts with aad bound (AES-GCM nonce||ct||tag, or
	// RSA-OAEP-256).
	TransitEncrypt(m servicekey.Material, plaintext, aad []byte) ([]byte, error)
	// TransitDecrypt decrypts a ciphertext of TransitEncrypt.
	TransitDecrypt(m servicekey.Material, ciphertext, aad []byte) ([]byte, error)
	// TransitSign signs as Vault's Transit does.
	TransitSign(m servicekey.Material, in servicekey.TransitSignInput) ([]byte, error)
	// TransitVerify checks a signature of TransitSign.
	TransitVerify(m servicekey.Material, in servicekey.TransitSignInput, sig []byte) (bool, error)
	// HMAC computes an HMAC under a key derived from the material.
	HMAC(m servicekey.Material, h servicekey.Hash, input []byte) ([]byte, error)
	// Digest hashes input.
	Digest(h servicekey.Hash, input []byte) ([]byte, error)
}

// ErrNoKMS: the server was built without key operations.
var ErrNoKMS = errors.New("service: the key management service is not available")

// Limits of the data-plane crypto requests (the OKMS swagger: up to 4 KiB
// of plaintext or message, random bytes 1 to 4096).
const (
	MaxPlaintext   = 4096
	MaxRandomBytes = 4096
)

// ServiceKeyURN returns the URN of a service key.
func (s *Service) ServiceKeyURN(domain, keyID string) string {
	return policy.ServiceKeyURN(s.zone, domain, keyID)
}

// keyCheck is one authorization of an operation on service keys: an
// action on a resource. Wrapped import and export check a second key, the
// transport key.
type keyCheck struct{ action, resource string }

// runKey authorizes every check, in order, audits the request under the
// first check's resource, runs fn and audits its response, as run does for
// one resource.
func (s *Service) runKey(ctx context.Context, c Caller, checks []keyCheck, fn func() error) error {
	if s.keys == nil {
		return ErrNoKMS
	}
	actions := make([]string, len(checks))
	for i, k := range checks {
		actions[i] = k.action
	}
	o := newOp(c, checks[0].resource, actions...)
	outcome, reason := audit.Allowed, ""
	for _, k := range checks {
		d := s.decide(c, k.action, k.resource)
		reason = d.String()
		if k.resource != checks[0].resource {
			reason += " on " + k.resource
		}
		if !d.Allowed {
			outcome, reason = audit.Denied, k.action+": "+reason
			break
		}
	}
	if err := s.start(ctx, o, outcome, reason); err != nil {
		return err
	}
	return s.finish(ctx, o, fn())
}

// on is one check of action (a suffix) on a key of the domain.
func (s *Service) on(c Caller, action, domain, keyID string) keyCheck {
	return keyCheck{c.action(action), s.ServiceKeyURN(domain, keyID)}
}

// parseKeyID checks a key id: a UUID, returned in its canonical lower-case
// form. Anything else is a ServiceKeyIdInvalid violation.
func parseKeyID(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", servicekey.Invalid(servicekey.FieldID, "a key id is a UUID")
	}
	return u.String(), nil
}

// internalUnlessKey keeps the errors surfaces render and wraps the rest as
// internal errors.
func internalUnlessKey(op string, err error) error {
	if err == nil || isKeyError(err) {
		return err
	}
	return internalUnlessDomain(op, err)
}

func isKeyError(err error) bool {
	if _, ok := servicekey.AsViolations(err); ok {
		return true
	}
	for _, e := range keyErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// keyErrors are the refusals of service key operations that every surface
// renders.
var keyErrors = []error{
	servicekey.ErrNotFound, servicekey.ErrExists, servicekey.ErrNotActive, servicekey.ErrActive,
	servicekey.ErrDestroyed, servicekey.ErrUsage, servicekey.ErrIncompatible, servicekey.ErrNotExtractable,
	servicekey.ErrCiphertext, servicekey.ErrVersionNotFound, servicekey.ErrSignature, servicekey.ErrTransition,
	servicekey.ErrVersionLimit, ErrNoKMS, servicekey.ErrNameAmbiguous, servicekey.ErrDeletionNotAllowed,
}

// KeyView is a key as a read returns it: its metadata, the public part of
// its latest version when asked for, and its wrapped material on a
// wrapped export.
type KeyView struct {
	Key     *servicekey.Key
	Public  *servicekey.Public
	Wrapped []WrappedKey
}

// WrappedKey is key material encrypted under a transport key (a JWE).
type WrappedKey struct {
	Format        servicekey.KeyFormat
	WrappingKeyID string
	Ciphertext    string
}

// KeyInput creates or imports a service key (the swagger's
// CreateImportServiceKeyRequest). With Wrapped it is a wrapped import,
// with Keys a plain import, otherwise a generation of Type with Size or
// Curve. Enumerations are as surface B spells them; the service validates
// everything and reports every violation at once.
type KeyInput struct {
	ID              string // optional: the key's id, a UUID
	Name            string
	Context         string
	Type            string
	Size            int
	Curve           string
	Operations      []string
	ProtectionLevel string
	Extractable     *bool // default false; true for public keys
	Keys            []servicekey.JWK
	Wrapped         []WrappedKeyInput
	// Public asks for the new key's public part in the answer.
	Public bool
}

// WrappedKeyInput is one wrapped key of a wrapped import.
type WrappedKeyInput struct {
	Format        string // RAW, JWK, PKCS1 or PKCS8
	WrappingKeyID string
	Ciphertext    string
}

// CreateServiceKey generates or imports a service key in the domain. The
// new key is active, with version 1. Actions: serviceKey/create to
// generate, serviceKey/import to import, on the new key's URN; a wrapped
// import also needs serviceKey/unwrapKey on the transport key, which must
// be a key pair of the domain with the unwrapKey usage. A key id already
// taken is servicekey.ErrExists.
func (s *Service) CreateServiceKey(ctx context.Context, c Caller, domain string, in KeyInput) (KeyView, error) {
	var vs []error
	id := s.newID()
	if in.ID != "" {
		var err error
		id, err = parseKeyID(in.ID)
		vs = append(vs, err)
	}
	name, err := servicekey.ParseName(in.Name)
	vs = append(vs, err)
	keyContext, err := servicekey.ParseContext(in.Context)
	vs = append(vs, err, servicekey.ParseProtectionLevel(in.ProtectionLevel))
	action := policy.ServiceKeyCreate
	switch {
	case len(in.Wrapped) > 0 && len(in.Keys) > 0:
		vs = append(vs, servicekey.Invalid(servicekey.FieldWrappedKeys, "give either keys or wrappedKeys, not both"))
	case len(in.Wrapped) > 1:
		vs = append(vs, servicekey.Violations{{Field: servicekey.FieldWrappedKeys, Rule: servicekey.RuleMaxExceeded, Limit: 1,
			Reason: "a key is imported from exactly one wrapped key"}})
	case len(in.Keys) > 1:
		vs = append(vs, servicekey.Violations{{Field: servicekey.FieldKeys, Rule: servicekey.RuleMaxExceeded, Limit: 1,
			Reason: "a key is imported from exactly one JWK"}})
	}
	var gen servicekey.Spec
	if len(in.Wrapped) > 0 || len(in.Keys) > 0 {
		action = policy.ServiceKeyImport
	} else {
		var err error
		gen, err = parseGeneration(in)
		vs = append(vs, err)
	}
	var (
		wrapped   WrappedKeyInput
		format    servicekey.KeyFormat
		transport string
	)
	if len(in.Wrapped) > 0 {
		wrapped = in.Wrapped[0]
		format, err = servicekey.ParseKeyFormat(wrapped.Format)
		vs = append(vs, err)
		if transport, err = parseKeyID(wrapped.WrappingKeyID); err != nil {
			vs = append(vs, servicekey.Invalid(servicekey.FieldWrappedKeys, "wrappingKeyId must be the UUID of a transport key"))
		}
		if wrapped.Ciphertext == "" {
			vs = append(vs, servicekey.Required("wrappedKeys.ciphertext"))
		}
	}
	if err := servicekey.Join(vs...); err != nil {
		return KeyView{}, err
	}
	checks := []keyCheck{s.on(c, action, domain, id)}
	if transport != "" {
		checks = append(checks, s.on(c, policy.ServiceKeyUnwrapKey, domain, transport))
	}
	var out KeyView
	now := s.clock()
	err = s.runKey(ctx, c, checks, func() error {
		var (
			imp    servicekey.Imported
			err    error
			usages []string
		)
		switch {
		case transport != "":
			imp, err = s.unwrapImport(ctx, domain, transport, format, wrapped.Ciphertext)
		case len(in.Keys) > 0:
			imp, err = s.keys.ImportJWK(in.Keys[0])
		default:
			imp, err = s.generate(gen)
		}
		if err != nil {
			return err
		}
		if err := checkInferred(in, imp.Spec); err != nil {
			return err
		}
		usages = in.Operations
		if len(usages) == 0 {
			usages = imp.Usages
		}
		ops, err := servicekey.ParseUsages(imp.Spec.Type, imp.Class, usages)
		if err != nil {
			return err
		}
		extractable := imp.Class == servicekey.PublicKey
		if in.Extractable != nil {
			extractable = *in.Extractable
		}
		k := servicekey.New(id, name, keyContext, imp.Spec, imp.Class, ops, extractable, now)
		err = s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			if _, err := tx.Get(keyKey(domain, id)); err == nil {
				return servicekey.ErrExists
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err := putMaterial(tx, domain, id, 1, imp.Material); err != nil {
				return err
			}
			if err := indexName(tx, domain, name, id); err != nil {
				return err
			}
			return saveKey(tx, domain, k)
		})
		if err != nil {
			return err
		}
		out = KeyView{Key: k}
		if in.Public {
			pub, err := s.keys.Public(imp.Material)
			if err != nil {
				return err
			}
			out.Public = &pub
		}
		return nil
	})
	return out, internalUnlessKey("CreateServiceKey", err)
}

// parseGeneration checks a generation's type, size or curve and usages.
func parseGeneration(in KeyInput) (servicekey.Spec, error) {
	t, err := servicekey.ParseType(in.Type)
	if err != nil {
		return servicekey.Spec{}, err
	}
	spec, serr := servicekey.ParseSpec(t, in.Size, in.Curve)
	_, uerr := servicekey.ParseUsages(t, servicekey.ClassOf(t, true), in.Operations)
	return spec, servicekey.Join(serr, uerr)
}

// generate makes the material of a new key. RSA 4096 takes a while: it
// runs outside any transaction.
func (s *Service) generate(spec servicekey.Spec) (servicekey.Imported, error) {
	m, err := s.keys.Generate(spec)
	if err != nil {
		return servicekey.Imported{}, err
	}
	return servicekey.Imported{Spec: spec, Class: servicekey.ClassOf(spec.Type, true), Material: m}, nil
}

// checkInferred compares the type, size and curve an import states, if
// any, with those of the material it carries.
func checkInferred(in KeyInput, got servicekey.Spec) error {
	if len(in.Keys) == 0 && len(in.Wrapped) == 0 {
		return nil
	}
	switch {
	case in.Type != "" && servicekey.Type(in.Type) != got.Type,
		in.Size != 0 && in.Size != got.Size,
		in.Curve != "" && servicekey.Curve(in.Curve) != got.Curve:
		return servicekey.Violations{{Field: servicekey.FieldType, Rule: servicekey.RuleIncompatible,
			Reason: "type, size and curve, when given with an import, must be those of the imported key"}}
	}
	return nil
}

// unwrapImport decrypts a wrapped key with a transport key of the domain
// and parses it.
func (s *Service) unwrapImport(ctx context.Context, domain, transport string, format servicekey.KeyFormat, ciphertext string) (servicekey.Imported, error) {
	var m servicekey.Material
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		t, err := loadKey(tx, domain, transport)
		if err != nil {
			return transportError(err)
		}
		if err := t.Permit(servicekey.OpUnwrap); err != nil {
			return transportError(err)
		}
		m, err = loadMaterial(tx, domain, transport, t.LatestVersion)
		return err
	})
	if err != nil {
		return servicekey.Imported{}, err
	}
	plain, err := s.keys.Unwrap(m, ciphertext)
	if err != nil {
		return servicekey.Imported{}, err
	}
	return s.keys.ImportKey(format, plain)
}

// transportError names the transport key in refusals about it: a missing
// or unsuitable transport key is a bad request, not a missing key.
func transportError(err error) error {
	switch {
	case errors.Is(err, servicekey.ErrNotFound):
		return servicekey.Invalid(servicekey.FieldWrappedKeys, "the transport key (wrappingKeyId) does not exist in this domain")
	case errors.Is(err, servicekey.ErrDestroyed), errors.Is(err, servicekey.ErrNotActive),
		errors.Is(err, servicekey.ErrUsage), errors.Is(err, servicekey.ErrIncompatible):
		return servicekey.Invalid(servicekey.FieldWrappedKeys,
			"the transport key (wrappingKeyId) must be an RSA key of this domain with the wrapKey (export) or unwrapKey (import) usage: "+
				strings.TrimPrefix(err.Error(), "servicekey: "))
	}
	return err
}

// KeyGetOptions select what GetServiceKey returns.
type KeyGetOptions struct {
	// Public adds the public part of the latest version (format=jwk).
	Public bool
	// Export, when set, exports the key's material wrapped under a
	// transport key instead.
	Export *KeyExport
}

// KeyExport asks for a wrapped export (the swagger's wrappingKeyId,
// wrappedKeyFormat and wrappingAlgorithm).
type KeyExport struct {
	WrappingKeyID string
	Format        string
	Algorithm     string
}

// GetServiceKey returns a key's metadata (okms swagger GetServiceKey), with
// the public part of its latest version when asked, or its material
// wrapped under a transport key of the domain. Actions: serviceKey/get on
// the key; a wrapped export also needs serviceKey/wrapKey on the transport
// key, and the key must be extractable.
func (s *Service) GetServiceKey(ctx context.Context, c Caller, domain, keyID string, opt KeyGetOptions) (KeyView, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return KeyView{}, err
	}
	checks := []keyCheck{s.on(c, policy.ServiceKeyGet, domain, id)}
	var (
		transport string
		format    servicekey.KeyFormat
		alg       servicekey.WrappingAlgorithm
	)
	if e := opt.Export; e != nil {
		var vs []error
		if transport, err = parseKeyID(e.WrappingKeyID); err != nil {
			vs = append(vs, servicekey.Invalid(servicekey.FieldWrappedKeys, "wrappingKeyId must be the UUID of a transport key"))
		}
		format, err = servicekey.ParseKeyFormat(e.Format)
		vs = append(vs, err)
		alg, err = servicekey.ParseWrappingAlgorithm(e.Algorithm)
		vs = append(vs, err)
		if err := servicekey.Join(vs...); err != nil {
			return KeyView{}, err
		}
		checks = append(checks, s.on(c, policy.ServiceKeyWrapKey, domain, transport))
	}
	var out KeyView
	err = s.runKey(ctx, c, checks, func() error {
		var (
			m, tm servicekey.Material
			t     *servicekey.Key
		)
		err := s.domainView(ctx, domain, func(tx storage.Tx) error {
			k, err := loadKey(tx, domain, id)
			if err != nil {
				return err
			}
			out = KeyView{Key: k}
			if (!opt.Public && transport == "") || k.State.Destroyed() && transport == "" {
				return nil
			}
			if k.State.Destroyed() {
				return servicekey.ErrDestroyed
			}
			if m, err = loadMaterial(tx, domain, id, k.LatestVersion); err != nil {
				return err
			}
			if transport == "" {
				return nil
			}
			if !k.Extractable {
				return servicekey.ErrNotExtractable
			}
			if err := format.Fits(k.Spec, k.Class); err != nil {
				return err
			}
			if t, err = loadKey(tx, domain, transport); err != nil {
				return transportError(err)
			}
			if err := t.Permit(servicekey.OpWrap); err != nil {
				return transportError(err)
			}
			tm, err = loadMaterial(tx, domain, transport, t.LatestVersion)
			return err
		})
		if err != nil || m.IsZero() {
			return err
		}
		if transport == "" {
			pub, err := s.keys.Public(m)
			out.Public = &pub
			return err
		}
		plain, err := s.keys.ExportKey(format, m)
		if err != nil {
			return err
		}
		w, err := s.keys.Wrap(tm, transport, alg, plain)
		if err != nil {
			return err
		}
		out.Wrapped = []WrappedKey{{Format: format, WrappingKeyID: transport, Ciphertext: w}}
		return nil
	})
	return out, internalUnlessKey("GetServiceKey", err)
}

// KeyListOptions page through a domain's keys.
type KeyListOptions struct {
	// State keeps the keys in one state as surface B spells it; "" and
	// "all" keep every key, "pre_active" none (coffer's keys are active
	// from creation).
	State string
	// Cursor resumes the list where a previous page's Next left it; ""
	// from the start. It is opaque (cursors.go).
	Cursor string
	// Limit is the page size (at least 1).
	Limit int
}

// KeyPage is one page of a key list.
type KeyPage struct {
	Items []*servicekey.Key
	// Next is the opaque cursor of the next page, set only when more keys
	// may follow: a page reads a bounded number of records, and its last
	// may be a key the caller may not see.
	Next string
}

// maxKeyScan bounds the key records one list page reads. Pages are short
// only when the caller may see few of the keys scanned.
const maxKeyScan = 10000

// ListServiceKeys returns one page of the keys of a domain the caller may
// serviceKey/get, in key id order. A cursor that is not one of this list's
// for this caller is ErrCursorInvalid.
func (s *Service) ListServiceKeys(ctx context.Context, c Caller, domain string, opt KeyListOptions) (KeyPage, error) {
	if s.keys == nil {
		return KeyPage{}, ErrNoKMS
	}
	if opt.Limit < 1 {
		opt.Limit = 1
	}
	var (
		want servicekey.State
		none bool
		page KeyPage
	)
	switch opt.State {
	case "", "all":
	case "pre_active":
		none = true
	default:
		st, ok := servicekey.ParseState(opt.State)
		if !ok {
			return KeyPage{}, servicekey.Invalid(servicekey.FieldState,
				"state must be one of pre_active, active, deactivated, compromised, destroyed, destroyed_compromised, all")
		}
		want = st
	}
	l := Listing{Kind: ListServiceKeys, Domain: domain, Of: opt.State}
	next, err := s.listDomain(ctx, c, l, c.action(policy.ServiceKeyGet), opt.Cursor, func(tx storage.Tx, pos string) (string, error) {
		page = KeyPage{}
		if none {
			return "", nil
		}
		return s.scanKeys(tx, c, domain, want, opt.Limit, pos, &page)
	})
	page.Next = next
	return page, internalUnlessKey("ListServiceKeys", err)
}

// scanKeys fills page with the keys after position pos (a key id) that the
// caller may see, in state want (0: any), and returns the position of the
// next page, "" at the end. The position may be a key the caller may not
// see: it leaves only sealed (cursors.go).
func (s *Service) scanKeys(tx storage.Tx, c Caller, domain string, want servicekey.State, limit int, pos string, page *KeyPage) (string, error) {
	act, prefix := c.action(policy.ServiceKeyGet), keyPrefix(domain)
	after := ""
	if pos != "" {
		after = prefix + pos
	}
	for scanned := 0; ; {
		keys, err := tx.List(prefix, after, limit+1)
		if err != nil {
			return "", err
		}
		for _, k := range keys {
			if len(page.Items) == limit || scanned == maxKeyScan {
				return strings.TrimPrefix(after, prefix), nil
			}
			scanned, after = scanned+1, k
			id := strings.TrimPrefix(k, prefix)
			if !s.allowed(c, act, s.ServiceKeyURN(domain, id)) {
				continue
			}
			b, err := tx.Get(k)
			if err != nil {
				return "", err
			}
			key, err := decodeKey(b)
			if err != nil {
				return "", err
			}
			if want == 0 || key.State == want {
				page.Items = append(page.Items, key)
			}
		}
		if len(keys) < limit+1 {
			return "", nil
		}
	}
}

// KeyChange changes a key: its name, whether it is extractable, its state.
// Nil members change nothing.
type KeyChange struct {
	Name        *string
	Extractable *bool
	Activate    bool
	// Deactivate deactivates the key for this reason (as surface B spells
	// it); a compromise reason marks it compromised.
	Deactivate *string
}

// UpdateServiceKey applies a change to a key in one transaction. Actions:
// serviceKey/update for the name or extractable, serviceKey/activate or
// serviceKey/deactivate for the state. A destroyed key cannot change
// (servicekey.ErrDestroyed); a change that changes nothing is
// ServiceKeyFieldRequired.
func (s *Service) UpdateServiceKey(ctx context.Context, c Caller, domain, keyID string, ch KeyChange) (*servicekey.Key, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	var (
		vs     []error
		name   string
		reason servicekey.Reason
		checks []keyCheck
	)
	if ch.Name != nil {
		name, err = servicekey.ParseName(*ch.Name)
		vs = append(vs, err)
	}
	if ch.Deactivate != nil {
		reason, err = servicekey.ParseReason(*ch.Deactivate)
		vs = append(vs, err)
	}
	if ch.Activate && ch.Deactivate != nil {
		vs = append(vs, servicekey.Invalid(servicekey.FieldState, "a key cannot be activated and deactivated at once"))
	}
	if ch.Name == nil && ch.Extractable == nil && !ch.Activate && ch.Deactivate == nil {
		vs = append(vs, servicekey.Required("name or extractable"))
	}
	if err := servicekey.Join(vs...); err != nil {
		return nil, err
	}
	if ch.Name != nil || ch.Extractable != nil {
		checks = append(checks, s.on(c, policy.ServiceKeyUpdate, domain, id))
	}
	if ch.Activate {
		checks = append(checks, s.on(c, policy.ServiceKeyActivate, domain, id))
	}
	if ch.Deactivate != nil {
		checks = append(checks, s.on(c, policy.ServiceKeyDeactivate, domain, id))
	}
	var out *servicekey.Key
	now := s.clock()
	err = s.runKey(ctx, c, checks, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			k, err := loadKey(tx, domain, id)
			if err != nil {
				return err
			}
			changed := false
			if (ch.Name != nil || ch.Extractable != nil) && k.State.Destroyed() {
				return servicekey.ErrDestroyed
			}
			if ch.Name != nil && k.Name != name {
				if err := unindexName(tx, domain, k.Name, id); err != nil {
					return err
				}
				if err := indexName(tx, domain, name, id); err != nil {
					return err
				}
				k.Rename(name)
				changed = true
			}
			if ch.Extractable != nil && (k.Extractable != *ch.Extractable || *ch.Extractable && k.NeverExtractable) {
				k.SetExtractable(*ch.Extractable)
				changed = true
			}
			var moved bool
			switch {
			case ch.Activate:
				moved, err = k.Activate(now)
			case ch.Deactivate != nil:
				moved, err = k.Deactivate(reason, now)
			}
			if err != nil {
				return err
			}
			out = k
			if !changed && !moved {
				return nil
			}
			return saveKey(tx, domain, k)
		})
	})
	return out, internalUnlessKey("UpdateServiceKey", err)
}

// DeleteServiceKey destroys a key's material for good; its metadata stays,
// in state destroyed or destroyed_compromised. An active key must be
// deactivated first (servicekey.ErrActive); deleting a destroyed key
// changes nothing. Action: serviceKey/delete.
func (s *Service) DeleteServiceKey(ctx context.Context, c Caller, domain, keyID string) error {
	id, err := parseKeyID(keyID)
	if err != nil {
		return err
	}
	now := s.clock()
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyDelete, domain, id)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			k, err := loadKey(tx, domain, id)
			if err != nil {
				return err
			}
			changed, err := destroyKey(tx, domain, id, k, now)
			if err != nil || !changed {
				return err
			}
			return saveKey(tx, domain, k)
		})
	})
	return internalUnlessKey("DeleteServiceKey", err)
}

// destroyKey destroys key id (k) with its material and frees its name; a
// key already destroyed is left as it is (changed false). The caller saves
// k.
func destroyKey(tx storage.Tx, domain, id string, k *servicekey.Key, now time.Time) (changed bool, err error) {
	if changed, err = k.Destroy(now); err != nil || !changed {
		return changed, err
	}
	if err := destroyMaterial(tx, domain, id); err != nil {
		return true, err
	}
	return true, unindexName(tx, domain, k.Name, id)
}

// RotateServiceKey adds a new latest version of fresh material to a key:
// encryption and signatures use it from then on, while ciphertexts and
// signatures of older versions keep decrypting and verifying. The OKMS API
// has no route for it; the Vault Transit surface rotates through it.
// Action: serviceKey/update.
func (s *Service) RotateServiceKey(ctx context.Context, c Caller, domain, keyID string) (*servicekey.Key, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return nil, err
	}
	var out *servicekey.Key
	now := s.clock()
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyUpdate, domain, id)}, func() error {
		var err error
		out, err = s.rotateKey(ctx, domain, id, now, servicekey.ErrDestroyed)
		return err
	})
	return out, internalUnlessKey("RotateServiceKey", err)
}

// rotateKey adds a version of fresh material to key id and returns the
// key; a destroyed key is the error destroyed.
func (s *Service) rotateKey(ctx context.Context, domain, id string, now time.Time, destroyed error) (*servicekey.Key, error) {
	var k *servicekey.Key
	err := s.domainView(ctx, domain, func(tx storage.Tx) (err error) {
		k, err = loadKey(tx, domain, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if k.State.Destroyed() {
		return nil, destroyed
	}
	// Generated outside the transaction, which may run more than once.
	m, err := s.keys.Generate(k.Spec)
	if err != nil {
		return nil, err
	}
	var out *servicekey.Key
	err = s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
		k, err := loadKey(tx, domain, id)
		if err != nil {
			return err
		}
		v, err := k.Rotate(now)
		if err != nil {
			return err
		}
		if err := putMaterial(tx, domain, id, v.Number, m); err != nil {
			return err
		}
		out = k
		return saveKey(tx, domain, k)
	})
	return out, err
}

// withMaterial runs fn with a key and the material of one of its
// versions, chosen by pick from the key (after op is permitted), in a read
// transaction.
func (s *Service) withMaterial(ctx context.Context, domain, id string, op servicekey.Operation,
	pick func(k *servicekey.Key) (uint32, error), fn func(k *servicekey.Key, m servicekey.Material) error) error {
	var (
		k *servicekey.Key
		m servicekey.Material
	)
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		var err error
		if k, err = s.loadKeyCached(tx, domain, id); err != nil {
			return err
		}
		if err := k.Permit(op); err != nil {
			return err
		}
		v, err := pick(k)
		if err != nil {
			return err
		}
		m, err = loadMaterial(tx, domain, id, v)
		return err
	})
	if err != nil {
		return err
	}
	return fn(k, m)
}

func latest(k *servicekey.Key) (uint32, error) { return k.LatestVersion, nil }

func checkPlaintext(n int, f servicekey.Field) error {
	switch {
	case n == 0:
		return servicekey.Violations{{Field: f, Rule: servicekey.RuleMinRequired, Limit: 1,
			Reason: strings.ToLower(string(f)) + " must not be empty"}}
	case n > MaxPlaintext:
		return servicekey.Violations{{Field: f, Rule: servicekey.RuleMaxExceeded, Limit: MaxPlaintext,
			Reason: strings.ToLower(string(f)) + " exceeds 4096 bytes"}}
	}
	return nil
}

// Encrypt encrypts up to 4 KiB with the latest version of an active key
// that has the encrypt usage, binding context (at most 64 characters) as
// associated data. The ciphertext is a JWE naming the key and version.
// Action: serviceKey/encrypt.
func (s *Service) Encrypt(ctx context.Context, c Caller, domain, keyID string, plaintext servicekey.Material, keyContext string) (string, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return "", err
	}
	_, cerr := servicekey.ParseContext(keyContext)
	if err := servicekey.Join(checkPlaintext(plaintext.Len(), servicekey.FieldPlaintext), cerr); err != nil {
		return "", err
	}
	var out string
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyEncrypt, domain, id)}, func() error {
		return s.withMaterial(ctx, domain, id, servicekey.OpEncrypt, latest, func(k *servicekey.Key, m servicekey.Material) (err error) {
			out, err = s.keys.Encrypt(m, servicekey.Envelope{KeyID: id, Version: k.LatestVersion}, plaintext.Bytes(), []byte(keyContext))
			return err
		})
	})
	return out, internalUnlessKey("Encrypt", err)
}

// envelopeOf reads and checks the envelope of a ciphertext or data key
// blob for key id.
func (s *Service) envelopeOf(ciphertext, id string, dataKey bool) (servicekey.Envelope, error) {
	env, err := s.keys.ReadEnvelope(ciphertext)
	if err != nil {
		return env, err
	}
	if env.KeyID != id || env.DataKey != dataKey {
		return env, servicekey.ErrCiphertext
	}
	return env, nil
}

// Decrypt decrypts a ciphertext of Encrypt with the version of the key it
// names, which must be at least the key's minimum decryption version; the
// key may be deactivated or compromised. The context must be the one
// given to Encrypt. Action: serviceKey/decrypt.
func (s *Service) Decrypt(ctx context.Context, c Caller, domain, keyID, ciphertext, keyContext string) (servicekey.Material, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return servicekey.Material{}, err
	}
	if ciphertext == "" {
		return servicekey.Material{}, servicekey.Required("ciphertext")
	}
	if _, err := servicekey.ParseContext(keyContext); err != nil {
		return servicekey.Material{}, err
	}
	var out servicekey.Material
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyDecrypt, domain, id)}, func() error {
		env, err := s.envelopeOf(ciphertext, id, false)
		if err != nil {
			return err
		}
		pick := func(k *servicekey.Key) (uint32, error) {
			v, err := k.DecryptionVersion(env.Version)
			return v.Number, err
		}
		return s.withMaterial(ctx, domain, id, servicekey.OpDecrypt, pick, func(_ *servicekey.Key, m servicekey.Material) error {
			b, err := s.keys.Decrypt(m, ciphertext, []byte(keyContext))
			out = servicekey.MaterialOf(b)
			return err
		})
	})
	return out, internalUnlessKey("Decrypt", err)
}

// DataKey is a fresh data key, in plaintext and wrapped under a service
// key (a JWE that DecryptDataKey unwraps).
type DataKey struct {
	Plaintext servicekey.Material
	Blob      string
}

// GenerateDataKey makes a data key of bits bits (a multiple of 8 from 64
// to 4096) and wraps it with the latest version of an active key that
// has the encrypt or wrapKey usage. name, at most 32 characters, is
// checked and not kept. Action: serviceKey/dataKey/create.
func (s *Service) GenerateDataKey(ctx context.Context, c Caller, domain, keyID string, bits int, name string) (DataKey, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return DataKey{}, err
	}
	if name != "" {
		if _, err := servicekey.ParseName(name); err != nil {
			return DataKey{}, err
		}
	}
	var out DataKey
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyDataKeyCreate, domain, id)}, func() error {
		return s.withMaterial(ctx, domain, id, servicekey.OpDataKeyCreate, latest, func(k *servicekey.Key, m servicekey.Material) error {
			dk, err := s.keys.DataKey(bits)
			if err != nil {
				return err
			}
			blob, err := s.keys.Encrypt(m, servicekey.Envelope{KeyID: id, Version: k.LatestVersion, DataKey: true}, dk.Bytes(), nil)
			out = DataKey{Plaintext: dk, Blob: blob}
			return err
		})
	})
	return out, internalUnlessKey("GenerateDataKey", err)
}

// DecryptDataKey unwraps a data key blob of GenerateDataKey. Action:
// serviceKey/dataKey/decrypt.
func (s *Service) DecryptDataKey(ctx context.Context, c Caller, domain, keyID, blob string) (servicekey.Material, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return servicekey.Material{}, err
	}
	if blob == "" {
		return servicekey.Material{}, servicekey.Required("key")
	}
	var out servicekey.Material
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyDataKeyDecrypt, domain, id)}, func() error {
		env, err := s.envelopeOf(blob, id, true)
		if err != nil {
			return err
		}
		pick := func(k *servicekey.Key) (uint32, error) {
			v, err := k.DecryptionVersion(env.Version)
			return v.Number, err
		}
		return s.withMaterial(ctx, domain, id, servicekey.OpDataKeyDecrypt, pick, func(_ *servicekey.Key, m servicekey.Material) error {
			b, err := s.keys.Decrypt(m, blob, nil)
			out = servicekey.MaterialOf(b)
			return err
		})
	})
	return out, internalUnlessKey("DecryptDataKey", err)
}

// Sign signs a message of up to 4 KiB, or its digest, with the latest
// version of an active key that has the sign usage. Action:
// serviceKey/sign.
func (s *Service) Sign(ctx context.Context, c Caller, domain, keyID string, in servicekey.SignInput) (string, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return "", err
	}
	if err := checkPlaintext(len(in.Message), servicekey.FieldMessage); err != nil {
		return "", err
	}
	in.KeyID = id
	var out string
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeySign, domain, id)}, func() error {
		return s.withMaterial(ctx, domain, id, servicekey.OpSign, latest, func(k *servicekey.Key, m servicekey.Material) error {
			if err := in.Alg.Fits(k.Spec); err != nil {
				return err
			}
			out, err = s.keys.Sign(m, in)
			return err
		})
	})
	return out, internalUnlessKey("Sign", err)
}

// Verify checks a signature with every version of the key that may still
// verify, latest first: true as soon as one matches. The key may be
// deactivated or compromised. Action: serviceKey/verify.
func (s *Service) Verify(ctx context.Context, c Caller, domain, keyID string, in servicekey.VerifyInput) (bool, error) {
	id, err := parseKeyID(keyID)
	if err != nil {
		return false, err
	}
	var vs []error
	if in.Signature == "" {
		vs = append(vs, servicekey.Required("signature"))
	}
	if len(in.Message) > MaxPlaintext {
		vs = append(vs, checkPlaintext(len(in.Message), servicekey.FieldMessage))
	}
	if err := servicekey.Join(vs...); err != nil {
		return false, err
	}
	var ok bool
	err = s.runKey(ctx, c, []keyCheck{s.on(c, policy.ServiceKeyVerify, domain, id)}, func() error {
		var (
			k    *servicekey.Key
			mats []servicekey.Material
		)
		err := s.domainView(ctx, domain, func(tx storage.Tx) error {
			var err error
			if k, err = s.loadKeyCached(tx, domain, id); err != nil {
				return err
			}
			if err := k.Permit(servicekey.OpVerify); err != nil {
				return err
			}
			mats = mats[:0]
			for _, v := range k.DecryptionVersions() {
				m, err := loadMaterial(tx, domain, id, v.Number)
				if err != nil {
					return err
				}
				mats = append(mats, m)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if in.Alg != "" {
			if err := in.Alg.Fits(k.Spec); err != nil {
				return err
			}
		}
		for _, m := range mats {
			if ok, err = s.keys.Verify(m, in); err != nil || ok {
				return err
			}
		}
		return nil
	})
	return ok, internalUnlessKey("Verify", err)
}

// Random returns n random bytes (1 to 4096) from the service's source of
// randomness, crypto/rand outside tests. Action: random/get on the
// domain.
func (s *Service) Random(ctx context.Context, c Caller, domain string, n int) ([]byte, error) {
	if n < 1 || n > MaxRandomBytes {
		return nil, servicekey.Invalid(servicekey.FieldLength, "length must be between 1 and 4096")
	}
	var out []byte
	err := s.runKey(ctx, c, []keyCheck{{c.action(policy.RandomGet), s.DomainURN(domain)}}, func() error {
		if err := s.domainView(ctx, domain, func(tx storage.Tx) error { return domainExists(tx, domain) }); err != nil {
			return err
		}
		out = make([]byte, n)
		_, err := io.ReadFull(s.rand, out)
		return err
	})
	return out, internalUnlessKey("Random", err)
}

// ServiceKeyReference returns the allowed combinations of key types,
// sizes, curves and usages (GET /v2/okms/reference/serviceKey). Any
// authenticated caller may read it.
func (s *Service) ServiceKeyReference() []servicekey.Reference { return servicekey.ReferenceTable() }

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
