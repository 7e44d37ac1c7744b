// Package okmsseal is the okms seal (issue 19): the root key wrapped by a
// symmetric service key of an OKMS domain, through the OKMS REST API and
// github.com/ovh/okms-sdk-go. The KMS is OVHcloud's KMS or another coffer
// installation (its surface B); the client authenticates with an access
// certificate (mutual TLS) or a bearer token.
//
// The seal record keeps what finds the key (endpoint, domain, key id) and
// the root key as the KMS encrypted it (a JWE); never a credential, which
// comes from the server's configuration at each start.
//
// Only internal/server imports this package; it knows nothing of the
// service or of storage.
package okmsseal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	okms "github.com/ovh/okms-sdk-go"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
)

// Keys of [seal.Record.KMS].
const (
	recEndpoint = "endpoint"
	recDomain   = "okms_id"
	recKey      = "key_id"
)

// keyContext is the encryption context (associated data) of the wrapped
// root key: a ciphertext of the same service key made for anything else
// does not unwrap as a root key.
const keyContext = "coffer seal: root key"

// Timeout bounds one call to the KMS.
const Timeout = 15 * time.Second

// Seal is the okms seal. Endpoint, Domain and KeyID say which key wraps a
// new protection; an existing one is unwrapped with the key its record
// names, at Endpoint if set (the KMS moved), else at the record's.
// Credentials: Token, or CertFile and KeyFile (an access certificate);
// CAFile verifies the KMS's certificate (default: the system's roots).
type Seal struct {
	Endpoint string // base URL of the OKMS REST API, e.g. https://eu-west-rbx.okms.ovh.net
	Domain   string // the OKMS domain (okmsId)
	KeyID    string // the symmetric service key (oct, encrypt and decrypt)
	Token    string // bearer token; empty with an access certificate
	CertFile string // access certificate (PEM)
	KeyFile  string // its private key (PEM)
	CAFile   string // CA bundle the KMS's certificate chains to
}

var _ seal.Seal = Seal{}

func (Seal) Type() seal.Type { return seal.TypeOKMS }
func (Seal) Auto() bool      { return true }

// String keeps the token out of prints.
func (s Seal) String() string {
	return fmt.Sprintf("okmsseal.Seal{%s domain %s key %s}", s.Endpoint, s.Domain, s.KeyID)
}

// Check reports what the configuration lacks to create a protection: an
// endpoint, a domain, a key id and one kind of credential. Its errors wrap
// [seal.ErrParameters] and name the settings, never their values.
func (s Seal) Check() error {
	var missing []string
	for _, f := range []struct{ v, name string }{{s.Endpoint, "endpoint"}, {s.Domain, "OKMS id"}, {s.KeyID, "key id"}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the okms seal needs its %s (--seal-okms-endpoint, --seal-okms-id, --seal-okms-key-id)", seal.ErrParameters, strings.Join(missing, ", "))
	}
	if _, err := uuid.Parse(s.Domain); err != nil {
		return fmt.Errorf("%w: the okms seal's OKMS id is not a UUID", seal.ErrParameters)
	}
	if _, err := uuid.Parse(s.KeyID); err != nil {
		return fmt.Errorf("%w: the okms seal's key id is not a UUID", seal.ErrParameters)
	}
	return s.checkCredentials()
}

func (s Seal) checkCredentials() error {
	switch {
	case s.Token == "" && s.CertFile == "":
		return fmt.Errorf("%w: the okms seal needs a token (--seal-okms-token) or an access certificate (--seal-okms-cert, --seal-okms-cert-key)", seal.ErrParameters)
	case s.Token != "" && s.CertFile != "":
		return fmt.Errorf("%w: the okms seal takes a token or an access certificate, not both", seal.ErrParameters)
	case (s.CertFile == "") != (s.KeyFile == ""):
		return fmt.Errorf("%w: the okms seal's access certificate needs both --seal-okms-cert and --seal-okms-cert-key", seal.ErrParameters)
	}
	return nil
}

// Create checks the configuration and returns a Wrapper on the configured
// key; nothing is sent to the KMS until the caller wraps the root key.
func (s Seal) Create(context.Context, seal.CreateOptions) (*seal.Record, seal.Wrapper, [][]byte, error) {
	if err := s.Check(); err != nil {
		return nil, nil, nil, err
	}
	w, err := s.wrapper(s.Endpoint, s.Domain, s.KeyID)
	if err != nil {
		return nil, nil, nil, err
	}
	rec := &seal.Record{Type: seal.TypeOKMS, KMS: map[string]string{recEndpoint: s.Endpoint, recDomain: s.Domain, recKey: s.KeyID}}
	return rec, w, nil, nil
}

// Unlock returns the Wrapper of the key rec names. It takes no keys.
func (s Seal) Unlock(_ context.Context, rec *seal.Record, _ [][]byte) (seal.Wrapper, error) {
	if rec.Type != seal.TypeOKMS || rec.KMS[recDomain] == "" || rec.KMS[recKey] == "" {
		return nil, fmt.Errorf("%w: the okms seal record names no key", seal.ErrRecord)
	}
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = rec.KMS[recEndpoint]
	}
	if err := s.checkCredentials(); err != nil {
		return nil, err
	}
	return s.wrapper(endpoint, rec.KMS[recDomain], rec.KMS[recKey])
}

// wrapper builds the SDK's client on one key.
func (s Seal) wrapper(endpoint, domain, key string) (*wrapper, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: the okms seal's endpoint must be an http(s) URL", seal.ErrParameters)
	}
	d, err := uuid.Parse(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: OKMS id %q is not a UUID", seal.ErrRecord, domain)
	}
	k, err := uuid.Parse(key)
	if err != nil {
		return nil, fmt.Errorf("%w: key id %q is not a UUID", seal.ErrRecord, key)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: the okms seal's CA file: %v", seal.ErrParameters, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: the okms seal's CA file %s holds no PEM certificate", seal.ErrParameters, s.CAFile)
		}
	}
	if s.CertFile != "" {
		// Read at each unlock, so that a renewed certificate is used
		// from the next start (or unseal) on.
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: the okms seal's access certificate: %v", seal.ErrParameters, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	hc := &http.Client{Transport: tr, Timeout: Timeout}
	c, err := okms.NewRestAPIClientWithHttp(endpoint, hc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", seal.ErrParameters, err)
	}
	if s.Token != "" {
		c = c.WithCustomHeader("Authorization", "Bearer "+s.Token)
	}
	return &wrapper{client: c, http: hc, domain: d, key: k, endpoint: endpoint}, nil
}

// wrapper wraps root keys with one service key.
type wrapper struct {
	client   *okms.Client
	http     *http.Client
	domain   uuid.UUID
	key      uuid.UUID
	endpoint string
}

// Wrap encrypts root with the service key: the JWE the KMS answers.
func (w *wrapper) Wrap(ctx context.Context, root crypto.Key) ([]byte, error) {
	var jwe string
	err := crypto.ExportKey(root, func(b []byte) error {
		var err error
		jwe, err = w.client.Encrypt(ctx, w.domain, w.key, keyContext, b)
		return err
	})
	if err != nil {
		return nil, w.kmsError("encrypt", err)
	}
	return []byte(jwe), nil
}

// Unwrap decrypts blob with the service key.
func (w *wrapper) Unwrap(ctx context.Context, blob []byte) (crypto.Key, error) {
	pt, err := w.client.Decrypt(ctx, w.domain, w.key, keyContext, string(blob))
	if err != nil {
		return crypto.Key{}, w.kmsError("decrypt", err)
	}
	defer clear(pt)
	k, err := crypto.KeyFromBytes(pt)
	if err != nil {
		return crypto.Key{}, fmt.Errorf("okms seal: the KMS decrypted %d bytes, not a root key: %w", len(pt), crypto.ErrIntegrity)
	}
	return k, nil
}

// Wipe closes the client's connections. The token stays in the server's
// configuration; there is no key material here.
func (w *wrapper) Wipe() { w.http.CloseIdleConnections() }

// String names the key, nothing else.
func (w *wrapper) String() string {
	return fmt.Sprintf("okmsseal.wrapper{%s domain %s key %s}", w.endpoint, w.domain, w.key)
}

// kmsError describes a failed call, with the KMS's status and error
// (which carry no key material) or the transport's, wrapping
// seal.ErrKMS.
func (w *wrapper) kmsError(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	msg := err.Error()
	if code := okms.ErrStatusCode(err); code != 0 {
		msg = fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
		if cause := errors.Unwrap(err); cause != nil {
			msg += ": " + strings.Join(strings.Fields(cause.Error()), " ")
		}
	}
	return fmt.Errorf("%w: okms %s with key %s of domain %s at %s: %s", seal.ErrKMS, op, w.key, w.domain, w.endpoint, msg)
}
