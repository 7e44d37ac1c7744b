package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// SecretView is a secret as a read returns it: its metadata, one version
// as it stands at the time of the read, and that version's data when it was
// asked for, allowed and the version is active.
type SecretView struct {
	Secret  *secret.Secret
	Version *secret.Version // nil when the secret has no version
	Data    *secret.Data
}

// GetOptions select what GetSecret returns.
type GetOptions struct {
	Version     uint32 // 0: the current version
	IncludeData bool   // needs secret/version/getData
}

// CreateSecret creates a secret at path p with version 1 holding d, and
// the settings and custom metadata of meta (okms-rest.md 4.2). It fails with
// secret.ErrExists if the path is taken. Action: secret/create.
func (s *Service) CreateSecret(ctx context.Context, c Caller, domain string, p secret.Path, d secret.Data, meta secret.MetadataUpdate) (*secret.Secret, error) {
	var out *secret.Secret
	now := s.clock()
	id := s.newID()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretCreate)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			if _, err := tx.Get(secretKey(domain, p)); err == nil {
				return secret.ErrExists
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			secretRead(tx, secretKey(domain, p), -1)
			sec := secret.New(id, p, now)
			if err := sec.ApplyMetadata(meta, now); err != nil {
				return err
			}
			if _, err := s.writeVersion(tx, domain, sec, d, now, secret.EffectiveSettings(cfg, sec.Settings)); err != nil {
				return err
			}
			out = sec
			return nil
		})
	})
	return out, internalUnlessDomain("CreateSecret", err)
}

// GetSecret returns a secret with one version (okms-rest.md 4.3, 4.8).
// Actions: secret/get, plus secret/version/getData when data is asked for.
// A version that is not active is returned without data.
func (s *Service) GetSecret(ctx context.Context, c Caller, domain string, p secret.Path, opt GetOptions) (SecretView, error) {
	actions := []string{c.action(policy.SecretGet)}
	if opt.IncludeData {
		actions = append(actions, c.action(policy.SecretVersionGetData))
	}
	var view SecretView
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), actions, func() error {
		var err error
		view, err = s.readSecret(ctx, domain, p, opt, now)
		return err
	})
	if errors.Is(err, ErrAuditUnavailable) {
		return SecretView{}, err // read, but not audited: nothing is handed out
	}
	return view, internalUnlessDomain("GetSecret", err)
}

// readSecret reads what GetSecret returns in one step of the store when it
// can: the secret record and, if data is asked for, the data record of the
// version the read hints (readhints.go) expect, with one storage.GetMany
// (one statement on PostgreSQL, without BEGIN and COMMIT). When the record
// fetched names another version or secret id than the hint, or the secret
// is absent, it reads again in a View, as every read did before: the answer
// always comes from one snapshot.
func (s *Service) readSecret(ctx context.Context, domain string, p secret.Path, opt GetOptions, now time.Time) (SecretView, error) {
	st, err := s.regionStore(ctx, domain)
	if err != nil {
		return SecretView{}, err
	}
	skey := secretKey(domain, p)
	var keys [2]string
	keys[0] = skey
	n, want := 1, uint32(0)
	h, hinted := s.hints.get(skey)
	if hinted && opt.IncludeData {
		if want = opt.Version; want == 0 {
			want = h.current
		}
		if want != 0 {
			keys[1], n = versionKey(domain, h.id, want), 2
		}
	}
	vals, err := storage.GetMany(ctx, st, keys[:n])
	if err != nil {
		return SecretView{}, err
	}
	if vals[0] == nil {
		return s.viewSecret(ctx, st, domain, p, opt, now)
	}
	sec, err := decodeSecret(vals[0])
	if err != nil {
		return SecretView{}, err
	}
	s.hints.put(skey, readHint{id: sec.ID, current: sec.CurrentVersion})
	view, v, err := versionView(sec, opt, now)
	if err != nil || v == nil || !opt.IncludeData || v.State != secret.Active {
		return view, err
	}
	if n < 2 || vals[1] == nil || h.id != sec.ID || want != v.ID {
		return s.viewSecret(ctx, st, domain, p, opt, now)
	}
	d, err := decodeData(vals[1])
	if err != nil {
		return view, err
	}
	view.Data = &d
	return view, nil
}

// viewSecret reads what GetSecret returns in a View.
func (s *Service) viewSecret(ctx context.Context, st storage.Backend, domain string, p secret.Path, opt GetOptions, now time.Time) (SecretView, error) {
	var view SecretView
	err := st.View(ctx, func(tx storage.Tx) error {
		sec, err := loadSecret(tx, domain, p)
		if err != nil {
			return err
		}
		s.hints.put(secretKey(domain, p), readHint{id: sec.ID, current: sec.CurrentVersion})
		var v *secret.Version
		if view, v, err = versionView(sec, opt, now); err != nil || v == nil {
			return err
		}
		if opt.IncludeData && v.State == secret.Active {
			d, err := loadData(tx, domain, sec.ID, v.ID)
			if err != nil {
				return err
			}
			view.Data = &d
		}
		return nil
	})
	return view, err
}

// versionView returns sec with the version opt asks for, as of now (nil
// when it asks for the current version of a secret without any).
func versionView(sec *secret.Secret, opt GetOptions, now time.Time) (SecretView, *secret.Version, error) {
	view := SecretView{Secret: sec}
	if opt.Version == 0 && sec.CurrentVersion == 0 {
		return view, nil, nil
	}
	v, err := sec.Version(opt.Version, now)
	if err != nil {
		return view, nil, err
	}
	view.Version = &v
	return view, &v, nil
}

// UpdateSecretInput is a surface-B or surface-A secret update: metadata,
// a new version, or both.
type UpdateSecretInput struct {
	Metadata *secret.MetadataUpdate
	Data     *secret.Data
	CAS      *uint32
}

// UpdateSecret applies metadata and/or adds a version in one transaction
// (okms-rest.md 4.4): metadata first, then CAS with the new effective
// settings, then the version and pruning; all or nothing. Actions:
// secret/version/create with data, secret/updateMetadata with metadata, and
// secret/edit on surface A.
func (s *Service) UpdateSecret(ctx context.Context, c Caller, domain string, p secret.Path, in UpdateSecretInput) (*secret.Secret, error) {
	var actions []string
	if c.Dialect == Central {
		actions = append(actions, c.action(policy.SecretEdit))
	}
	if in.Data != nil {
		actions = append(actions, c.action(policy.SecretVersionCreate))
	}
	if in.Metadata != nil {
		actions = append(actions, c.action(policy.SecretUpdateMetadata))
	}
	var out *secret.Secret
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), actions, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			if in.Metadata != nil {
				if err := sec.ApplyMetadata(*in.Metadata, now); err != nil {
					return err
				}
			}
			eff := secret.EffectiveSettings(cfg, sec.Settings)
			if in.Data == nil {
				// okms-rest.md 3.3: a metadata-only PUT is not subject to
				// casRequired, but a cas it carries is checked.
				if err := secret.CheckCAS(false, in.CAS, sec.CurrentVersion); err != nil {
					return err
				}
				out = sec
				return saveSecret(tx, domain, sec)
			}
			if err := secret.CheckCAS(eff.CASRequired, in.CAS, sec.CurrentVersion); err != nil {
				return err
			}
			if _, err := s.writeVersion(tx, domain, sec, *in.Data, now, eff); err != nil {
				return err
			}
			out = sec
			return nil
		})
	})
	return out, internalUnlessDomain("UpdateSecret", err)
}

// DeleteSecret deletes a secret and destroys all its versions' data
// (okms-rest.md 4.5). It returns secret.ErrNotFound if there is no such
// secret. Action: secret/delete.
func (s *Service) DeleteSecret(ctx context.Context, c Caller, domain string, p secret.Path) error {
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretDelete)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			keys, err := tx.List(versionPrefix(domain, sec.ID), "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			if err := secretWritten(tx, secretKey(domain, p), -1); err != nil {
				return err
			}
			return tx.Delete(secretKey(domain, p))
		})
	})
	return internalUnlessDomain("DeleteSecret", err)
}

// ListOptions page through a domain's secrets.
type ListOptions struct {
	// Prefix restricts the list to paths starting with it ("prod/").
	Prefix string
	// Cursor resumes the list where a previous page's Next left it; ""
	// from the start. It is opaque (cursors.go).
	Cursor string
	// Limit is the page size (at least 1).
	Limit int
}

// SecretPage is one page of a secret list.
type SecretPage struct {
	Items []SecretView // each with its current version, without data
	// Next is the cursor of the next page, set only when more secrets may
	// follow; pages may be short because items the caller may not see are
	// skipped and each page scans a bounded number of records. It is
	// opaque: it may stand for a path the caller may not see.
	Next string
}

// maxScan bounds the records one list page reads (okms-rest.md 7).
const maxScan = 1000

// ListSecrets returns one page of the secrets of a domain that the caller
// may secret/get, in byte-wise path order (okms-rest.md 4.1). A cursor
// that is not one of this list's for this caller is ErrCursorInvalid.
func (s *Service) ListSecrets(ctx context.Context, c Caller, domain string, opt ListOptions) (SecretPage, error) {
	if opt.Limit < 1 {
		opt.Limit = 1
	}
	var page SecretPage
	now := s.clock()
	l := Listing{Kind: ListSecrets, Domain: domain, Of: opt.Prefix}
	next, err := s.listDomain(ctx, c, l, c.action(policy.SecretGet), opt.Cursor, func(tx storage.Tx, pos string) (string, error) {
		page = SecretPage{}
		return s.scanSecrets(tx, c, domain, opt, pos, now, &page)
	})
	page.Next = next
	return page, internalUnlessDomain("ListSecrets", err)
}

// listDomain runs one page of a list l of a domain's objects for c:
// audited as one list request under action, filtered per item by scan
// (runList), it opens the caller's cursor, runs scan from that position in
// a read transaction of the domain, which must exist, and returns the
// cursor of the position scan returns ("" at the end).
func (s *Service) listDomain(ctx context.Context, c Caller, l Listing, action, cursor string, scan func(tx storage.Tx, pos string) (string, error)) (string, error) {
	var next string
	err := s.runList(ctx, c, s.DomainURN(l.Domain), action, func() error {
		pos, err := s.Position(c, l, cursor)
		if err != nil {
			return err
		}
		err = s.domainView(ctx, l.Domain, func(tx storage.Tx) error {
			if err := domainExists(tx, l.Domain); err != nil {
				return err
			}
			var err error
			next, err = scan(tx, pos)
			return err
		})
		if err != nil {
			return err
		}
		next, err = s.Cursor(c, l, next)
		return err
	})
	return next, err
}

// scanSecrets fills page from position pos (a path) and returns the
// position of the next page, "" at the end. The position may name a secret
// the caller may not see: it leaves only sealed (cursors.go).
func (s *Service) scanSecrets(tx storage.Tx, c Caller, domain string, opt ListOptions, pos string, now time.Time, page *SecretPage) (string, error) {
	act := c.action(policy.SecretGet)
	prefix := secretPrefix(domain)
	after := ""
	if pos != "" {
		after = prefix + pos
	}
	// Keys are listed in chunks of what the page still needs (plus one, to
	// know whether a next page exists), not maxScan at once: a page of 100
	// from a domain of a million secrets lists about 100 keys. More chunks
	// follow only when the caller's policies filter keys out, up to maxScan
	// keys read.
	scanned, last := 0, ""
	for {
		want := min(opt.Limit-len(page.Items), maxScan-scanned) + 1
		keys, err := tx.List(prefix+opt.Prefix, after, want)
		if err != nil {
			return "", err
		}
		for _, k := range keys {
			if scanned == maxScan || len(page.Items) == opt.Limit {
				return strings.TrimPrefix(last, prefix), nil
			}
			scanned, last = scanned+1, k
			if !s.allowed(c, act, policy.SecretURN(s.zone, domain, escapeKeyPath(k, prefix))) {
				continue
			}
			view, err := secretViewOf(tx, k, now)
			if err != nil {
				return "", err
			}
			page.Items = append(page.Items, view)
		}
		if len(keys) < want {
			return "", nil // the end of the prefix
		}
		after = last
	}
}

// secretViewOf reads the secret record under key with its current
// version, as lists show it (no data).
func secretViewOf(tx storage.Tx, key string, now time.Time) (SecretView, error) {
	b, err := tx.Get(key)
	if err != nil {
		return SecretView{}, err
	}
	sec, err := decodeSecret(b)
	if err != nil {
		return SecretView{}, err
	}
	view := SecretView{Secret: sec}
	if sec.CurrentVersion != 0 {
		if v, err := sec.Version(0, now); err == nil {
			view.Version = &v
		}
	}
	return view, nil
}

// ChildOptions page through the immediate children of a folder.
type ChildOptions struct {
	// Prefix is the folder: "" (the root) or a path followed by "/".
	Prefix string
	// Cursor resumes the list where a previous page's Next left it; ""
	// from the start.
	Cursor string
	// Limit is the page size (at least 1).
	Limit int
}

// Child is an immediate child of a folder: a secret, or a folder holding
// at least one secret the caller may see.
type Child struct {
	// Name is relative to the folder listed; a folder's ends in "/".
	Name   string
	Folder bool
	// Secret is a secret child with its current version, without data.
	Secret SecretView
}

// ChildPage is one page of a folder's children.
type ChildPage struct {
	Items []Child
	// Next is the opaque cursor of the next page, set only when more
	// children may follow (pages may be short, as in [SecretPage]).
	Next string
}

// afterFolder follows every path below a folder in byte order: path
// characters are all below it.
const afterFolder = "\x7f"

// ListChildren returns one page of the immediate children of a folder
// that the caller may see, in byte-wise order, which is Vault's order of
// list keys (vault-kv2.md 4.7): a secret it may secret/get, and each
// folder once when it may secret/get at least one secret below it (iam.md
// 6.1). Like ListSecrets it reads at most maxScan records per page. A
// cursor that is not one of this list's for this caller is ErrCursorInvalid.
func (s *Service) ListChildren(ctx context.Context, c Caller, domain string, opt ChildOptions) (ChildPage, error) {
	if opt.Limit < 1 {
		opt.Limit = 1
	}
	var page ChildPage
	now := s.clock()
	l := Listing{Kind: ListChildren, Domain: domain, Of: opt.Prefix}
	next, err := s.listDomain(ctx, c, l, c.action(policy.SecretGet), opt.Cursor, func(tx storage.Tx, pos string) (string, error) {
		page = ChildPage{}
		return s.scanChildren(tx, c, domain, opt, pos, now, &page)
	})
	page.Next = next
	return page, internalUnlessDomain("ListChildren", err)
}

// scanChildren fills page from position pos (a path, or a folder followed
// by afterFolder) and returns the position of the next page, "" at the end.
func (s *Service) scanChildren(tx storage.Tx, c Caller, domain string, opt ChildOptions, pos string, now time.Time, page *ChildPage) (string, error) {
	act := c.action(policy.SecretGet)
	prefix := secretPrefix(domain)
	for scanned := 0; ; {
		if len(page.Items) == opt.Limit || scanned == maxScan {
			// One more key tells whether a next page may exist.
			keys, err := tx.List(prefix+opt.Prefix, prefix+pos, 1)
			if err != nil || len(keys) == 0 {
				return "", err
			}
			return pos, nil
		}
		after := ""
		if pos != "" {
			after = prefix + pos
		}
		keys, err := tx.List(prefix+opt.Prefix, after, min(opt.Limit-len(page.Items), maxScan-scanned))
		if err != nil || len(keys) == 0 {
			return "", err
		}
		for _, k := range keys {
			scanned++
			p := k[len(prefix):]
			pos = p
			if !s.allowed(c, act, policy.SecretURN(s.zone, domain, escapeKeyPath(k, prefix))) {
				continue
			}
			if folder, _, ok := strings.Cut(p[len(opt.Prefix):], "/"); ok {
				// A visible secret below: the folder shows once, and the
				// scan resumes after everything it holds.
				page.Items = append(page.Items, Child{Name: folder + "/", Folder: true})
				pos = opt.Prefix + folder + "/" + afterFolder
				break
			}
			view, err := secretViewOf(tx, k, now)
			if err != nil {
				return "", err
			}
			page.Items = append(page.Items, Child{Name: p[len(opt.Prefix):], Secret: view})
			if len(page.Items) == opt.Limit {
				break
			}
		}
	}
}

// escapeKeyPath returns the escaped path of a secret key.
func escapeKeyPath(key, prefix string) string {
	return strings.ReplaceAll(strings.TrimPrefix(key, prefix), "/", "%2F")
}

// domainConfig checks that the domain exists and returns its configuration:
// the configuration record is the domain's presence in its store, so one
// read does both.
func domainConfig(tx storage.Tx, domain string) (secret.Config, error) {
	return loadConfig(tx, domain)
}

func loadSecret(tx storage.Tx, domain string, p secret.Path) (*secret.Secret, error) {
	key := secretKey(domain, p)
	b, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		secretRead(tx, key, -1)
		if derr := domainExists(tx, domain); derr != nil {
			return nil, derr
		}
		return nil, secret.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sec, err := decodeSecret(b)
	if err != nil {
		return nil, err
	}
	secretRead(tx, key, sec.RetainedActive())
	return sec, nil
}

func saveSecret(tx storage.Tx, domain string, sec *secret.Secret) error {
	b, err := encodeSecret(sec)
	if err != nil {
		return err
	}
	key := secretKey(domain, sec.Path)
	if err := secretWritten(tx, key, sec.RetainedActive()); err != nil {
		return err
	}
	return tx.Put(key, b)
}
