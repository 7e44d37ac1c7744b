package transit

import (
	"net/http"
	"strconv"

	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// keyDoc is Vault's key document (transit/keys/<name> read), with
// coffer's additions: the service key's id and OKMS state.
type keyDoc struct {
	AllowPlaintextBackup bool           `json:"allow_plaintext_backup"`
	AutoRotatePeriod     int            `json:"auto_rotate_period"`
	DeletionAllowed      bool           `json:"deletion_allowed"`
	Derived              bool           `json:"derived"`
	Exportable           bool           `json:"exportable"`
	ImportedKey          bool           `json:"imported_key"`
	Keys                 map[string]any `json:"keys"`
	LatestVersion        uint32         `json:"latest_version"`
	MinAvailableVersion  uint32         `json:"min_available_version"`
	MinDecryptionVersion uint32         `json:"min_decryption_version"`
	MinEncryptionVersion uint32         `json:"min_encryption_version"`
	Name                 string         `json:"name"`
	SupportsDecryption   bool           `json:"supports_decryption"`
	SupportsDerivation   bool           `json:"supports_derivation"`
	SupportsEncryption   bool           `json:"supports_encryption"`
	SupportsSigning      bool           `json:"supports_signing"`
	Type                 string         `json:"type"`
	OKMSID               string         `json:"okms_key_id"`
	OKMSState            string         `json:"okms_state"`
}

// asymmetricVersion is one version of a key pair in the key document.
type asymmetricVersion struct {
	CertificateChain string `json:"certificate_chain"`
	CreationTime     string `json:"creation_time"`
	Name             string `json:"name"`
	PublicKey        string `json:"public_key"`
}

func toKeyDoc(tk service.TransitKey) keyDoc {
	k := tk.Key
	d := keyDoc{
		DeletionAllowed: k.DeletionAllowed, Keys: map[string]any{}, LatestVersion: k.LatestVersion,
		MinAvailableVersion: k.MinAvailableVersion(), MinDecryptionVersion: k.MinDecryptionVersion,
		MinEncryptionVersion: k.MinEncryptionVersion, Name: k.Name,
		SupportsDecryption: k.Usages.Has(servicekey.Decrypt) && k.Type != servicekey.EC && k.Class != servicekey.PublicKey,
		SupportsEncryption: k.Usages.Has(servicekey.Encrypt) && k.Type != servicekey.EC,
		SupportsSigning:    k.Usages.Has(servicekey.Sign) && k.Type != servicekey.Oct && k.Class != servicekey.PublicKey,
		Type:               string(servicekey.TransitTypeOf(k.Spec)), OKMSID: k.ID, OKMSState: k.State.String(),
		ImportedKey: k.Class == servicekey.PublicKey,
	}
	for _, v := range k.Versions {
		n := strconv.FormatUint(uint64(v.Number), 10)
		if k.Type == servicekey.Oct {
			d.Keys[n] = v.CreatedAt.Unix()
			continue
		}
		name := "rsa-" + strconv.Itoa(k.Size)
		if k.Type == servicekey.EC {
			name = string(k.Curve)
		}
		d.Keys[n] = asymmetricVersion{CreationTime: vaultwire.Time(v.CreatedAt), Name: name, PublicKey: tk.Publics[v.Number].PEM}
	}
	return d
}

func (c *call) name() string { return c.vars[0] }

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	names, err := a.svc.TransitListKeys(r.Context(), c.caller, c.domain)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return servicekey.ErrNotFound // Vault: 404 for an empty list
	}
	return c.reply(w, r, map[string][]string{"keys": names})
}

func (a *API) readKey(w http.ResponseWriter, r *http.Request, c *call) error {
	tk, err := a.svc.TransitReadKey(r.Context(), c.caller, c.domain, c.name())
	if err != nil {
		return err
	}
	return c.reply(w, r, toKeyDoc(tk))
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, c *call) error {
	var in service.TransitCreate
	var err error
	if in.Type, err = c.params.str("type"); err != nil {
		return err
	}
	for name, dst := range map[string]*bool{"exportable": &in.Exportable, "derived": &in.Derived,
		"allow_plaintext_backup": &in.AllowPlaintextBackup, "convergent_encryption": &in.Convergent} {
		if *dst, err = c.params.boolean(name); err != nil {
			return err
		}
	}
	if p, _ := c.params.str("auto_rotate_period"); p != "" && p != "0" && p != "0s" {
		in.AutoRotate = true
	}
	tk, err := a.svc.TransitCreateKey(r.Context(), c.caller, c.domain, c.name(), in)
	if err != nil {
		return err
	}
	if tk.Existed {
		return c.reply(w, r, toKeyDoc(tk), "key "+c.name()+" already existed")
	}
	return c.reply(w, r, toKeyDoc(tk))
}

func (a *API) deleteKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.svc.TransitDeleteKey(r.Context(), c.caller, c.domain, c.name()); err != nil {
		return err
	}
	return vaultwire.NoContent(w)
}

func (a *API) configKey(w http.ResponseWriter, r *http.Request, c *call) error {
	var cfg service.TransitConfig
	for name, dst := range map[string]**uint32{"min_decryption_version": &cfg.MinDecryptionVersion,
		"min_encryption_version": &cfg.MinEncryptionVersion} {
		v, ok, err := c.params.uint(name, servicekey.MaxVersions)
		if err != nil {
			return err
		}
		if ok {
			n := uint32(v)
			*dst = &n
		}
	}
	if _, ok := c.params.raw("deletion_allowed"); ok {
		b, err := c.params.boolean("deletion_allowed")
		if err != nil {
			return err
		}
		cfg.DeletionAllowed = &b
	}
	var err error
	if cfg.Exportable, err = c.params.boolean("exportable"); err != nil {
		return err
	}
	if cfg.AllowPlaintextBackup, err = c.params.boolean("allow_plaintext_backup"); err != nil {
		return err
	}
	if p, _ := c.params.str("auto_rotate_period"); p != "" && p != "0" && p != "0s" {
		cfg.AutoRotate = true
	}
	tk, err := a.svc.TransitConfigKey(r.Context(), c.caller, c.domain, c.name(), cfg)
	if err != nil {
		return err
	}
	return c.reply(w, r, toKeyDoc(tk))
}

func (a *API) rotateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	tk, err := a.svc.TransitRotateKey(r.Context(), c.caller, c.domain, c.name())
	if err != nil {
		return err
	}
	return c.reply(w, r, toKeyDoc(tk))
}

func (a *API) trimKey(w http.ResponseWriter, r *http.Request, c *call) error {
	v, _, err := c.params.uint("min_available_version", servicekey.MaxVersions)
	if err != nil {
		return err
	}
	tk, err := a.svc.TransitTrimKey(r.Context(), c.caller, c.domain, c.name(), uint32(v))
	if err != nil {
		return err
	}
	return c.reply(w, r, toKeyDoc(tk))
}
