package pki

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"
)

func TestMarshalSAN(t *testing.T) {
	t.Parallel()
	got, err := marshalSAN("okms.domain:x", []string{"urn:a"})
	if err != nil {
		t.Fatal(err)
	}
	// SEQUENCE {
	//   [0] { OID 1.3.6.1.4.1.311.20.2.3, [0] { UTF8String "okms.domain:x" } }
	//   [6] "urn:a"
	// }
	want := "3026" +
		"a01d" + "060a2b060104018237140203" + "a00f" + "0c0d" + hex.EncodeToString([]byte("okms.domain:x")) +
		"8605" + hex.EncodeToString([]byte("urn:a"))
	if hex.EncodeToString(got) != want {
		t.Errorf("marshalSAN = %x, want %s", got, want)
	}
}

// Raw GeneralName builders for hand-made subjectAltName values.

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func sanOf(names ...[]byte) []byte {
	return mustMarshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: slices.Concat(names...)})
}

func upnName(s string) []byte {
	b, err := marshalUPN(s)
	if err != nil {
		panic(err)
	}
	return b
}

// otherName returns an otherName GeneralName of type oid whose explicit [0]
// value is the DER value.
func otherName(oid asn1.ObjectIdentifier, value []byte) []byte {
	explicit := mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: value})
	return mustMarshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(mustMarshal(oid), explicit...)})
}

func tagged(class, tag int, compound bool, content []byte) []byte {
	return mustMarshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: compound, Bytes: content})
}

func uriName(u string) []byte { return tagged(asn1.ClassContextSpecific, tagURI, false, []byte(u)) }

func certWithSAN(values ...[]byte) *x509.Certificate {
	c := &x509.Certificate{}
	for _, v := range values {
		c.Extensions = append(c.Extensions, pkix.Extension{Id: oidSubjectAltName, Critical: true, Value: v})
	}
	return c
}

func TestUPNDomain(t *testing.T) {
	t.Parallel()
	okms := upnName(UPNPrefix + testDomain)
	utf8 := func(s string) []byte { return tagged(asn1.ClassUniversal, asn1.TagUTF8String, false, []byte(s)) }
	tests := []struct {
		name    string
		cert    *x509.Certificate
		want    string
		wantErr error
	}{
		{"okms UPN", certWithSAN(sanOf(okms)), testDomain, nil},
		{"okms UPN among other names", certWithSAN(sanOf(
			uriName(userURN),
			tagged(asn1.ClassContextSpecific, 2, false, []byte("example.com")),
			otherName(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 4}, utf8("permanent-id")),
			upnName("alice@corp.example"),
			okms,
		)), testDomain, nil},
		{"wildcard", certWithSAN(sanOf(upnName("okms.domain:*"))), "", ErrWildcardUPN},
		{"empty okmsId", certWithSAN(sanOf(upnName("okms.domain:"))), "", ErrMalformedUPN},
		{"invalid okmsId", certWithSAN(sanOf(upnName("okms.domain:a b"))), "", ErrMalformedUPN},
		{"two okms UPNs", certWithSAN(sanOf(okms, upnName(UPNPrefix+otherDomain))), "", ErrMalformedUPN},
		{"the same okms UPN twice", certWithSAN(sanOf(okms, okms)), "", ErrMalformedUPN},
		{"two subjectAltName extensions", certWithSAN(sanOf(okms), sanOf(okms)), "", ErrMalformedUPN},
		{"UPN without the prefix", certWithSAN(sanOf(upnName("alice@corp.example"))), "", ErrNoUPN},
		{"prefix in upper case", certWithSAN(sanOf(upnName("OKMS.DOMAIN:" + testDomain))), "", ErrNoUPN},
		{"URIs only", certWithSAN(sanOf(uriName(userURN))), "", ErrNoUPN},
		{"empty subjectAltName", certWithSAN(sanOf()), "", ErrNoUPN},
		{"no subjectAltName", &x509.Certificate{}, "", ErrNoUPN},
		{"nil certificate", nil, "", ErrNoUPN},
		{"UPN as IA5String", certWithSAN(sanOf(otherName(oidUPN,
			tagged(asn1.ClassUniversal, asn1.TagIA5String, false, []byte(UPNPrefix+testDomain))))), "", ErrMalformedUPN},
		{"UPN without explicit tag", certWithSAN(sanOf(tagged(asn1.ClassContextSpecific, 0, true,
			append(mustMarshal(oidUPN), utf8(UPNPrefix+testDomain)...)))), "", ErrMalformedUPN},
		{"UPN not UTF-8", certWithSAN(sanOf(otherName(oidUPN, utf8("okms.domain:\xff")))), "", ErrMalformedUPN},
		{"UPN followed by data", certWithSAN(sanOf(otherName(oidUPN, append(utf8(UPNPrefix+testDomain), 0x05, 0x00)))), "", ErrMalformedUPN},
		{"primitive otherName", certWithSAN(sanOf(tagged(asn1.ClassContextSpecific, 0, false, []byte{1, 2}))), "", ErrMalformedUPN},
		{"otherName without type-id", certWithSAN(sanOf(tagged(asn1.ClassContextSpecific, 0, true, utf8("x")))), "", ErrMalformedUPN},
		{"data after the sequence", certWithSAN(append(sanOf(okms), 0x05, 0x00)), "", ErrMalformedUPN},
		{"not a sequence", certWithSAN(utf8("okms.domain:x")), "", ErrMalformedUPN},
		{"truncated", certWithSAN(sanOf(okms)[:20]), "", ErrMalformedUPN},
		{"empty value", certWithSAN(nil), "", ErrMalformedUPN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := UPNDomain(tc.cert)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("UPNDomain = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// foreignCert returns a self-signed certificate made without coffer, with a
// DNS name and no UPN, as an ordinary TLS client certificate would be.
func foreignCert(t testing.TB) *x509.Certificate {
	t.Helper()
	key := newECKey(t, elliptic.P256())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "client.example"},
		DNSNames:     []string{"client.example"},
		NotBefore:    t0,
		NotAfter:     t0.Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestUPNDomain_foreignCertificate(t *testing.T) {
	t.Parallel()
	if id, err := UPNDomain(foreignCert(t)); !errors.Is(err, ErrNoUPN) {
		t.Errorf("UPNDomain(foreign certificate) = %q, %v; want ErrNoUPN", id, err)
	}
	ca := newTestCA(t, testDomain)
	if id, err := UPNDomain(ca.cert); !errors.Is(err, ErrNoUPN) {
		t.Errorf("UPNDomain(CA certificate) = %q, %v; want ErrNoUPN", id, err)
	}
}

// checkUPNDomain checks the invariants of UPNDomain on any certificate.
func checkUPNDomain(t *testing.T, cert *x509.Certificate) {
	id, err := UPNDomain(cert)
	if err != nil {
		if id != "" {
			t.Errorf("UPNDomain = %q with error %v", id, err)
		}
		if !errors.Is(err, ErrNoUPN) && !errors.Is(err, ErrMalformedUPN) && !errors.Is(err, ErrWildcardUPN) {
			t.Errorf("UPNDomain error %v wraps none of the documented errors", err)
		}
		return
	}
	if id == "*" || checkOKMSID(id) != nil {
		t.Errorf("UPNDomain accepted %q", id)
	}
	// A valid okmsId re-encodes to a UPN that decodes to it.
	san, err := marshalSAN(UPNPrefix+id, nil)
	if err != nil {
		t.Fatalf("marshalSAN(%q) = %v", id, err)
	}
	if again, err := UPNDomain(certWithSAN(san)); again != id || err != nil {
		t.Errorf("UPNDomain(re-encoded %q) = %q, %v", id, again, err)
	}
}

func FuzzUPNDomain(f *testing.F) {
	ca := newTestCA(f, testDomain)
	is, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN, groupURN}, Validity: time.Hour, Now: t0})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(parseCertPEM(f, is.CertificatePEM).Raw)
	f.Add(ca.cert.Raw)
	f.Add(foreignCert(f).Raw)
	for _, c := range []*x509.Certificate{
		signLeaf(f, ca, withSAN(sanOf(upnName("okms.domain:*"), uriName(userURN)))),
		signLeaf(f, ca, withSAN(sanOf(uriName(userURN)))),
		signLeaf(f, ca, withSAN(sanOf(upnName(UPNPrefix+testDomain)))),
	} {
		f.Add(c.Raw)
	}
	// Raw subjectAltName values, which the target also feeds to the
	// decoder directly.
	f.Add(sanOf(upnName(UPNPrefix+testDomain), uriName(userURN)))
	f.Add(sanOf(otherName(oidUPN, tagged(asn1.ClassUniversal, asn1.TagIA5String, false, []byte("okms.domain:x")))))
	f.Add(sanOf(tagged(asn1.ClassContextSpecific, 0, true, mustMarshal(oidUPN))))
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})

	f.Fuzz(func(t *testing.T, data []byte) {
		if cert, err := x509.ParseCertificate(data); err == nil {
			checkUPNDomain(t, cert)
		}
		// Certificates that parse are a small part of the input space: the
		// same bytes as a subjectAltName value reach the decoder directly.
		checkUPNDomain(t, certWithSAN(data))
	})
}
