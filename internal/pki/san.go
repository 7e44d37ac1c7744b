package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"unicode/utf8"
)

// UPNPrefix starts the value of the UPN otherName of every access
// certificate; the okmsId follows it. okms-cli looks for this prefix
// (common/config/mtls.go, getOkmsId).
const UPNPrefix = "okms.domain:"

var (
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// oidUPN is Microsoft's userPrincipalName otherName type
	// (szOID_NT_PRINCIPAL_NAME), used by OVHcloud's access certificates.
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// GeneralName tags (RFC 5280 section 4.2.1.6; the module uses implicit
// tagging, so otherName replaces the SEQUENCE tag of OtherName).
const (
	tagOtherName = 0
	tagURI       = 6
)

// marshalSAN returns the DER of a subjectAltName extension value holding
// the UPN otherName "okms.domain:<okmsID>" followed by one URI per entry of
// uris. Go's crypto/x509 cannot emit otherName, hence the hand encoding.
//
//	SubjectAltName ::= SEQUENCE OF GeneralName
//	GeneralName ::= CHOICE { otherName [0] OtherName, …, uniformResourceIdentifier [6] IA5String, … }
//	OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY DEFINED BY type-id }
//
// The UPN value is a UTF8String under the explicit [0] tag, as in Microsoft's
// UPNs and OVHcloud's certificates; okms-cli decodes exactly this shape.
func marshalSAN(upn string, uris []string) ([]byte, error) {
	var names []byte
	if upn != "" {
		on, err := marshalUPN(upn)
		if err != nil {
			return nil, err
		}
		names = append(names, on...)
	}
	for _, u := range uris {
		b, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagURI, Bytes: []byte(u)})
		if err != nil {
			return nil, err
		}
		names = append(names, b...)
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: names})
}

// marshalUPN returns the DER of the GeneralName otherName carrying upn.
func marshalUPN(upn string) ([]byte, error) {
	str, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagUTF8String, Bytes: []byte(upn)})
	if err != nil {
		return nil, err
	}
	explicit, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str})
	if err != nil {
		return nil, err
	}
	typeID, err := asn1.Marshal(oidUPN)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(asn1.RawValue{
		Class: asn1.ClassContextSpecific, Tag: tagOtherName, IsCompound: true,
		Bytes: append(typeID, explicit...),
	})
}

// UPNDomain returns the okmsId named by the "okms.domain:<okmsId>" UPN
// otherName of cert's subjectAltName. It only decodes: it does not check the
// signature, the issuer or the dates (see [CA.Verify]).
//
// It returns [ErrNoUPN] if cert is nil or has no okms.domain UPN (other UPNs
// are ignored), [ErrWildcardUPN] for "okms.domain:*", and [ErrMalformedUPN]
// if the subjectAltName does not decode, if an okms.domain UPN is not a
// UTF8String under an explicit [0] tag, if there are several of them, or if
// the okmsId is not valid (see [ErrInvalidDomain]).
func UPNDomain(cert *x509.Certificate) (okmsID string, err error) {
	if cert == nil {
		return "", fmt.Errorf("pki.UPNDomain: %w", ErrNoUPN)
	}
	var sanValue []byte
	found := false
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		if found {
			return "", fmt.Errorf("pki.UPNDomain: %w: several subjectAltName extensions", ErrMalformedUPN)
		}
		sanValue, found = ext.Value, true
	}
	if !found {
		return "", fmt.Errorf("pki.UPNDomain: %w: no subjectAltName", ErrNoUPN)
	}
	upns, err := parseUPNs(sanValue)
	if err != nil {
		return "", fmt.Errorf("pki.UPNDomain: %w", err)
	}
	var ids []string
	for _, u := range upns {
		if id, ok := strings.CutPrefix(u, UPNPrefix); ok {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return "", fmt.Errorf("pki.UPNDomain: %w", ErrNoUPN)
	case len(ids) > 1:
		return "", fmt.Errorf("pki.UPNDomain: %w: %d okms.domain UPNs", ErrMalformedUPN, len(ids))
	case ids[0] == "*":
		return "", fmt.Errorf("pki.UPNDomain: %w", ErrWildcardUPN)
	}
	if err := checkOKMSID(ids[0]); err != nil {
		return "", fmt.Errorf("pki.UPNDomain: %w: %w", ErrMalformedUPN, err)
	}
	return ids[0], nil
}

// errSAN is wrapped by every decoding failure of parseUPNs.
var errSAN = fmt.Errorf("%w: subjectAltName", ErrMalformedUPN)

// parseUPNs decodes a subjectAltName extension value and returns the values
// of its UPN otherNames in order. Other GeneralName forms are skipped but
// must be well-formed TLVs; other otherName types are skipped after their
// OtherName structure is checked.
func parseUPNs(der []byte) ([]string, error) {
	var seq asn1.RawValue
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errSAN, err)
	}
	if len(rest) != 0 || seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return nil, fmt.Errorf("%w: not a single SEQUENCE", errSAN)
	}
	var upns []string
	for names := seq.Bytes; len(names) > 0; {
		var gn asn1.RawValue
		names, err = asn1.Unmarshal(names, &gn)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errSAN, err)
		}
		if gn.Class != asn1.ClassContextSpecific || gn.Tag != tagOtherName {
			continue
		}
		typeID, value, err := parseOtherName(gn)
		if err != nil {
			return nil, err
		}
		if !typeID.Equal(oidUPN) {
			continue
		}
		upn, err := parseUTF8String(value)
		if err != nil {
			return nil, err
		}
		upns = append(upns, upn)
	}
	return upns, nil
}

// parseOtherName splits an otherName GeneralName into its type-id and the
// content of its explicit [0] value.
func parseOtherName(gn asn1.RawValue) (asn1.ObjectIdentifier, []byte, error) {
	if !gn.IsCompound {
		return nil, nil, fmt.Errorf("%w: primitive otherName", errSAN)
	}
	var typeID asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(gn.Bytes, &typeID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: otherName type-id: %w", errSAN, err)
	}
	var value asn1.RawValue
	rest, err = asn1.Unmarshal(rest, &value)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: otherName value: %w", errSAN, err)
	}
	if len(rest) != 0 || value.Class != asn1.ClassContextSpecific || value.Tag != 0 || !value.IsCompound {
		return nil, nil, fmt.Errorf("%w: otherName value is not [0] EXPLICIT", errSAN)
	}
	return typeID, value.Bytes, nil
}

// parseUTF8String decodes exactly one DER UTF8String.
func parseUTF8String(der []byte) (string, error) {
	var s asn1.RawValue
	rest, err := asn1.Unmarshal(der, &s)
	if err != nil {
		return "", fmt.Errorf("%w: UPN: %w", errSAN, err)
	}
	if len(rest) != 0 || s.Class != asn1.ClassUniversal || s.Tag != asn1.TagUTF8String || s.IsCompound {
		return "", fmt.Errorf("%w: UPN is not a UTF8String", errSAN)
	}
	if !utf8.Valid(s.Bytes) {
		return "", fmt.Errorf("%w: UPN is not valid UTF-8", errSAN)
	}
	return string(s.Bytes), nil
}

// isSANOID reports whether id is the subjectAltName extension's OID.
func isSANOID(id asn1.ObjectIdentifier) bool { return id.Equal(oidSubjectAltName) }
