package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// storeReport is what checkStore found in a store.
type storeReport struct {
	Records  int // every record of the store, the keyring excepted
	Secrets  int // secret records
	Versions int // version data records
	Problems []string
}

// openSealed opens a store of a stopped server: the bbolt file when pgURL
// is "", else the PostgreSQL schema, under the root key in keyFile.
func openSealed(t *testing.T, boltPath, pgURL, keyFile string) *sealed.Store {
	t.Helper()
	root, err := crypto.LoadRootKeyFile(keyFile)
	if err != nil {
		t.Fatalf("root key: %v", err)
	}
	var raw storage.Backend
	if pgURL != "" {
		raw, err = pgstore.Open(t.Context(), pgURL, pgstore.Options{MaxConns: 2})
	} else {
		raw, err = boltstore.Open(boltPath, boltstore.Options{})
	}
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	family := func(key string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(key)) }
	st, err := sealed.Open(t.Context(), raw, root, family)
	if err != nil {
		raw.Close()
		t.Fatalf("sealed.Open: %v", err)
	}
	return st
}

// checkStore is the store integrity check of reliability-security.md T3:
// every record opens (decrypts and authenticates under its key), every
// secret record decodes, every version its index lists as not deleted has
// its data record, and no data record lies outside a secret's index.
func checkStore(ctx context.Context, st storage.Backend) (storeReport, error) {
	var rep storeReport
	err := st.View(ctx, func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		if err != nil {
			return err
		}
		present := map[string]bool{}
		type index struct {
			domain string
			rec    secretIndex
		}
		var secrets []index
		// The maintained counts of each domain (service/counts.go): the
		// base record d/<id>/n plus one change record per write.
		type counts struct{ S, V int64 }
		based := map[string]bool{}
		kept := map[string]*counts{}
		for _, k := range keys {
			rep.Records++
			present[k] = true
			b, err := tx.Get(k)
			if err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", k, err))
				continue
			}
			domain, rest, ok := strings.Cut(strings.TrimPrefix(k, "d/"), "/")
			if !strings.HasPrefix(k, "d/") || !ok {
				continue
			}
			switch {
			case rest == "n" || strings.HasPrefix(rest, "n/"):
				var c counts
				if err := json.Unmarshal(b, &c); err != nil {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: counts record does not decode: %v", k, err))
					continue
				}
				if kept[domain] == nil {
					kept[domain] = &counts{}
				}
				kept[domain].S += c.S
				kept[domain].V += c.V
				if rest == "n" {
					based[domain] = true
				}
			case strings.HasPrefix(rest, "s/"):
				var r secretIndex
				if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: secret record does not decode: %v", k, err))
					continue
				}
				rep.Secrets++
				secrets = append(secrets, index{domain, r})
			case strings.HasPrefix(rest, "v/"):
				rep.Versions++
				if len(b) < 2 || b[0] != 1 || !json.Valid(b[1:]) {
					rep.Problems = append(rep.Problems, k+": version record is not format 1 with JSON")
				}
			}
		}
		scanned := map[string]*counts{}
		for _, s := range secrets {
			if scanned[s.domain] == nil {
				scanned[s.domain] = &counts{}
			}
			scanned[s.domain].S++
			for _, v := range s.rec.Versions {
				if v.State != 3 {
					scanned[s.domain].V++
				}
			}
		}
		for domain := range based {
			got, want := kept[domain], scanned[domain]
			if want == nil {
				want = &counts{}
			}
			if *got != *want {
				rep.Problems = append(rep.Problems, fmt.Sprintf("domain %s: kept counts %d secrets, %d versions; the records hold %d, %d", domain, got.S, got.V, want.S, want.V))
			}
		}
		indexed := map[string]bool{}
		for _, s := range secrets {
			for _, v := range s.rec.Versions {
				k := fmt.Sprintf("d/%s/v/%s/%010d", s.domain, s.rec.ID, v.ID)
				indexed[k] = true
				if v.State != 3 && !present[k] { // 3: deleted, whose data is destroyed
					rep.Problems = append(rep.Problems, fmt.Sprintf("secret %s lists version %d without its data record", s.rec.Path, v.ID))
				}
			}
		}
		for _, k := range keys {
			_, rest, _ := strings.Cut(strings.TrimPrefix(k, "d/"), "/")
			if strings.HasPrefix(k, "d/") && strings.HasPrefix(rest, "v/") && !indexed[k] {
				rep.Problems = append(rep.Problems, k+": version record outside any secret's index")
			}
		}
		return nil
	})
	return rep, err
}

// secretIndex is the part of a stored secret record (service/records.go)
// the integrity check reads.
type secretIndex struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	Current  uint32 `json:"cur"`
	Versions []struct {
		ID    uint32 `json:"id"`
		State uint8  `json:"s"`
	} `json:"v"`
}

// errIntegrity reports whether err is, or wraps, crypto.ErrIntegrity.
func errIntegrity(err error) bool { return errors.Is(err, crypto.ErrIntegrity) }
