package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
)

// maxResponse bounds the response bodies the client reads: coffer's
// largest answers (a page of 100 secrets, a credential with its PEMs) are
// far below it.
const maxResponse = 32 << 20

// Client talks to one coffer server. It is safe for concurrent use. Create
// it with [New].
type Client struct {
	base      string // scheme://host[:port][/prefix], no trailing slash
	hc        *http.Client
	token     string
	domain    string // explicit OKMS domain, "" to resolve
	certID    string // OKMS domain named by the client certificate, "" if none
	userAgent string

	mu       sync.Mutex
	resolved string // domain found by [Client.Domain]
}

// Option configures a [Client].
type Option func(*options) error

type options struct {
	token     string
	domain    string
	hc        *http.Client
	roots     *x509.CertPool
	certs     []tls.Certificate
	userAgent string
}

// WithToken authenticates every request with token, sent as
// Authorization: Bearer. A token wins over a client certificate.
func WithToken(token string) Option {
	return func(o *options) error { o.token = token; return nil }
}

// WithDomain sets the OKMS domain (okmsId) that domain-scoped calls
// address. Without it the client resolves one: see [Client.Domain].
func WithDomain(okmsID string) Option {
	return func(o *options) error { o.domain = strings.ToLower(okmsID); return nil }
}

// WithHTTPClient sends requests through hc. It cannot be combined with
// [WithRootCAs] or [WithClientCertificate]: configure hc's transport
// instead.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { o.hc = hc; return nil }
}

// WithRootCAs trusts the CA certificates of pemCerts (PEM) for the
// server's certificate, instead of the system's roots.
func WithRootCAs(pemCerts []byte) Option {
	return func(o *options) error {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemCerts) {
			return errors.New("client: no PEM certificate in the CA bundle")
		}
		o.roots = pool
		return nil
	}
}

// WithCAFile is [WithRootCAs] with the PEM read from path.
func WithCAFile(path string) Option {
	return func(o *options) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("client: CA file: %w", err)
		}
		if err := WithRootCAs(b)(o); err != nil {
			return fmt.Errorf("client: CA file %s: %w", path, errors.Unwrap(err))
		}
		return nil
	}
}

// WithClientCertificate presents cert (an access certificate of a domain,
// iam.md 7.3) during the TLS handshake. Without [WithDomain], the domain it
// was issued for is the one domain-scoped calls address.
func WithClientCertificate(cert tls.Certificate) Option {
	return func(o *options) error { o.certs = []tls.Certificate{cert}; return nil }
}

// WithClientCertificateFiles is [WithClientCertificate] with the
// certificate and its private key read from PEM files.
func WithClientCertificateFiles(certFile, keyFile string) Option {
	return func(o *options) error {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("client: client certificate: %w", err)
		}
		o.certs = []tls.Certificate{c}
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(o *options) error { o.userAgent = ua; return nil }
}

// New returns a client of the server at addr, an http or https URL
// (optionally with a path prefix, for a server behind a reverse proxy).
func New(addr string, opts ...Option) (*Client, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: address %q is not an http:// or https:// URL", addr)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("client: address %q must not carry a query, a fragment or credentials", addr)
	}
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c := &Client{
		base: strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		hc:   o.hc, token: o.token, domain: o.domain, userAgent: o.userAgent,
	}
	if c.userAgent == "" {
		c.userAgent = "coffer-go-client"
	}
	if o.hc != nil && (o.roots != nil || len(o.certs) > 0) {
		return nil, errors.New("client: WithHTTPClient cannot be combined with WithRootCAs or WithClientCertificate")
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.roots, Certificates: o.certs}
		c.hc = &http.Client{Transport: tr}
	}
	if len(o.certs) > 0 {
		c.certID = certDomain(o.certs[0])
	}
	return c, nil
}

// Address returns the server's base URL, without a trailing slash.
func (c *Client) Address() string { return c.base }

// request is one call to the server.
type request struct {
	method string
	path   string // escaped, from the root of the server
	query  url.Values
	header http.Header
	body   any // JSON-encoded unless it is a []byte (sent as is) or nil
	out    any // decoded from a 2xx JSON answer unless nil
	// ok lists extra statuses that are not errors (a 404 with a body the
	// caller reads, as Vault's raw 404).
	ok []int
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends rq. A status of 400 or more (unless listed in rq.ok) is an
// *Error; a failure to reach the server is returned as net/http reports
// it, wrapped with the method and URL.
func (c *Client) do(ctx context.Context, rq request) (*response, error) {
	target := c.base + rq.path
	if len(rq.query) > 0 {
		target += "?" + rq.query.Encode()
	}
	var body io.Reader
	switch b := rq.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("client: encode request: %w", err)
		}
		body = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, &TransportError{Method: rq.method, URL: c.base + rq.path, Err: unwrapURLError(err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return nil, &TransportError{Method: rq.method, URL: c.base + rq.path, Err: err}
	}
	r := &response{status: res.StatusCode, header: res.Header, body: b}
	if res.StatusCode >= 400 && !containsInt(rq.ok, res.StatusCode) {
		return r, parseError(res.StatusCode, res.Header, b)
	}
	if rq.out != nil && len(b) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(b, rq.out); err != nil {
			return r, fmt.Errorf("client: %s %s: decode the answer: %w", rq.method, rq.path, err)
		}
	}
	return r, nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// method and the URL that TransportError already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// TransportError is a request that got no HTTP answer: the server could
// not be reached, the TLS handshake failed, or the connection broke.
type TransportError struct {
	Method string
	URL    string
	Err    error
}

func (e *TransportError) Error() string {
	msg := fmt.Sprintf("cannot reach %s: %v", e.URL, e.Err)
	var ua x509.UnknownAuthorityError
	if errors.As(e.Err, &ua) {
		msg += " (trust the server's CA with the CA option)"
	}
	return msg
}

func (e *TransportError) Unwrap() error { return e.Err }

// escapeSegments escapes each "/"-separated segment of p, keeping the
// slashes: the form of the Vault surface, where %2F is a separator
// anyway.
func escapeSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
