package client

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Domain returns the OKMS domain (okmsId) that domain-scoped calls
// address:
//
//  1. the one given with [WithDomain];
//  2. else the domain of the client certificate ([WithClientCertificate]),
//     read from its okms.domain UPN (iam.md 7.3);
//  3. else the server's default domain, found once and remembered: the
//     only ready domain of GET /v2/okms/resource, or among several the one
//     serving the server's /v1/secret mount (vault-kv2.md 1), or failing
//     that the first one listed.
//
// It returns an error matching [ErrNoDomain] when the caller sees no ready
// domain.
func (c *Client) Domain(ctx context.Context) (string, error) {
	if c.domain != "" {
		return c.domain, nil
	}
	if c.certID != "" {
		return c.certID, nil
	}
	c.mu.Lock()
	id := c.resolved
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ds, err := c.ListDomains(ctx)
	if errors.Is(err, ErrForbidden) {
		return "", fmt.Errorf("find the default OKMS domain (this identity may not list domains: give one explicitly): %w", err)
	}
	if err != nil {
		return "", err
	}
	var ready []string
	for _, d := range ds {
		if d.IAM.State == DomainStateReady {
			ready = append(ready, d.ID)
		}
	}
	switch len(ready) {
	case 0:
		return "", fmt.Errorf("%w: this identity sees no ready OKMS domain; give one explicitly", ErrNoDomain)
	case 1:
		id = ready[0]
	default:
		id = c.defaultOf(ctx, ready)
	}
	c.mu.Lock()
	c.resolved = id
	c.mu.Unlock()
	return id, nil
}

// ExplicitDomain returns the domain given with [WithDomain] or named by the
// client certificate, "" if neither: then the Vault surface addresses the
// server's default domain through /v1/.
func (c *Client) ExplicitDomain() string {
	if c.domain != "" {
		return c.domain
	}
	return c.certID
}

// defaultOf picks among several ready domains the one behind the server's
// /v1/secret mount: the preflight of vault-kv2.md 6.1 describes it with a
// uuid derived from the domain id (a name-based UUID of
// "coffer:kv:<okmsId>"). It falls back to the first domain.
func (c *Client) defaultOf(ctx context.Context, ids []string) string {
	var out struct {
		Data struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sys/internal/ui/mounts/secret", out: &out}); err == nil {
		for _, id := range ids {
			if mountUUID(id) == out.Data.UUID {
				return id
			}
		}
	}
	return ids[0]
}

// nsURL is RFC 4122's name space for URLs.
var nsURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// mountUUID returns the name-based (version 5) UUID of the KV mount of a
// domain, as the server describes it.
func mountUUID(domain string) string {
	h := sha1.New()
	h.Write(nsURL[:])
	h.Write([]byte("coffer:kv:" + domain))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// upnPrefix starts the UPN of an access certificate; the okmsId follows.
const upnPrefix = "okms.domain:"

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidUPN            = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// certDomain returns the okmsId of an access certificate: the value of its
// "okms.domain:<okmsId>" UPN otherName (iam.md 7.3), "" if it has none.
func certDomain(cert tls.Certificate) string {
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	if leaf == nil {
		return ""
	}
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(oidSubjectAltName) {
			if id, err := upnDomain(ext.Value); err == nil {
				return id
			}
		}
	}
	return ""
}

// upnDomain decodes a subjectAltName and returns the okmsId of its
// okms.domain UPN.
//
//	GeneralName ::= CHOICE { otherName [0] OtherName, ... }
//	OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
func upnDomain(san []byte) (string, error) {
	var names []asn1.RawValue
	if _, err := asn1.Unmarshal(san, &names); err != nil {
		return "", err
	}
	for _, n := range names {
		if n.Class != asn1.ClassContextSpecific || n.Tag != 0 {
			continue
		}
		var oid asn1.ObjectIdentifier
		rest, err := asn1.Unmarshal(n.Bytes, &oid)
		if err != nil || !oid.Equal(oidUPN) {
			continue
		}
		var explicit asn1.RawValue
		if _, err := asn1.Unmarshal(rest, &explicit); err != nil {
			continue
		}
		var s string
		if _, err := asn1.UnmarshalWithParams(explicit.Bytes, &s, "utf8"); err != nil {
			continue
		}
		if id, ok := strings.CutPrefix(s, upnPrefix); ok && id != "*" {
			return strings.ToLower(id), nil
		}
	}
	return "", errors.New("no okms.domain UPN")
}
