package servicekey

// Algorithm is a digital signature algorithm of JWA (RFC 7518 3.1).
type Algorithm string

// Signature algorithms (the swagger's DigitalSignatureAlgorithms).
const (
	ES256 Algorithm = "ES256"
	ES384 Algorithm = "ES384"
	ES512 Algorithm = "ES512"
	RS256 Algorithm = "RS256"
	RS384 Algorithm = "RS384"
	RS512 Algorithm = "RS512"
	PS256 Algorithm = "PS256"
	PS384 Algorithm = "PS384"
	PS512 Algorithm = "PS512"
)

var algorithms = []Algorithm{ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512}

// ParseAlgorithm parses a signature algorithm; "" is a missing alg.
func ParseAlgorithm(s string) (Algorithm, error) {
	if s == "" {
		return "", Required("alg")
	}
	for _, a := range algorithms {
		if string(a) == s {
			return a, nil
		}
	}
	return "", Invalid(FieldAlgorithm, "alg must be one of ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512")
}

// Family returns "ES", "RS" or "PS".
func (a Algorithm) Family() string { return string(a[:2]) }

// HashSize returns the size in bytes of the algorithm's digest: 32, 48 or
// 64.
func (a Algorithm) HashSize() int {
	switch a[2:] {
	case "256":
		return 32
	case "384":
		return 48
	}
	return 64
}

// Fits checks that a fits a key of spec: RS and PS need an RSA key; ES256,
// ES384 and ES512 need a key on P-256, P-384 and P-521 respectively (RFC
// 7518 3.4). Otherwise ErrIncompatible.
func (a Algorithm) Fits(spec Spec) error {
	switch a.Family() {
	case "RS", "PS":
		if spec.Type == RSA {
			return nil
		}
	case "ES":
		want := map[Algorithm]Curve{ES256: P256, ES384: P384, ES512: P521}[a]
		if spec.Type == EC && spec.Curve == want {
			return nil
		}
	}
	return ErrIncompatible
}

// SignatureFormat is how a signature is returned (the swagger's
// SignatureFormats).
type SignatureFormat string

// Signature formats: the raw signature in base64 (RSA: PKCS #1 v1.5 or
// PSS; EC: r||s, as in JWS), a JWS compact serialization over the
// message, or a JWT (a JWS whose message is a JSON object of claims).
const (
	FormatRaw SignatureFormat = "raw"
	FormatJWS SignatureFormat = "jws"
	FormatJWT SignatureFormat = "jwt"
)

// ParseSignatureFormat parses a signature format; "" is raw.
func ParseSignatureFormat(s string) (SignatureFormat, error) {
	switch f := SignatureFormat(s); f {
	case "":
		return FormatRaw, nil
	case FormatRaw, FormatJWS, FormatJWT:
		return f, nil
	}
	return "", Invalid(FieldSignatureFormat, "format must be one of raw, jws, jwt")
}

// KeyFormat is the form of plaintext key material inside a wrapped key
// (the swagger's KeyFormatTypes).
type KeyFormat string

// Key formats.
const (
	FormatRAW   KeyFormat = "RAW"   // the bytes of a symmetric key
	FormatJWK   KeyFormat = "JWK"   // a JSON Web Key, private members included
	FormatPKCS1 KeyFormat = "PKCS1" // an RSA private key, PKCS #1 DER
	FormatPKCS8 KeyFormat = "PKCS8" // an RSA or EC private key, PKCS #8 DER
)

// ParseKeyFormat parses a key format; "" is a missing one.
func ParseKeyFormat(s string) (KeyFormat, error) {
	switch f := KeyFormat(s); f {
	case FormatRAW, FormatJWK, FormatPKCS1, FormatPKCS8:
		return f, nil
	case "":
		return "", Required("wrappedKeyFormat")
	}
	return "", Invalid(FieldKeyFormat, "key format must be one of RAW, JWK, PKCS1, PKCS8")
}

// Fits checks that material of a key of spec and class can be written in
// f: RAW holds symmetric keys only, PKCS1 RSA private keys, PKCS8 RSA and
// EC private keys; JWK holds anything. Otherwise ErrIncompatible.
func (f KeyFormat) Fits(spec Spec, class Class) error {
	ok := false
	switch f {
	case FormatJWK:
		ok = true
	case FormatRAW:
		ok = spec.Type == Oct
	case FormatPKCS1:
		ok = spec.Type == RSA && class == KeyPair
	case FormatPKCS8:
		ok = spec.Type != Oct && class == KeyPair
	}
	if !ok {
		return ErrIncompatible
	}
	return nil
}

// WrappingAlgorithm is a key wrapping algorithm of wrapped import and
// export (the swagger's WrappingAlgorithms): RSAES-OAEP with SHA-1 or
// SHA-256 under an RSA transport key, as the "alg" of a JWE.
type WrappingAlgorithm string

// Wrapping algorithms.
const (
	RSAOAEP    WrappingAlgorithm = "RSA-OAEP"
	RSAOAEP256 WrappingAlgorithm = "RSA-OAEP-256"
)

// ParseWrappingAlgorithm parses a wrapping algorithm; "" is a missing one.
func ParseWrappingAlgorithm(s string) (WrappingAlgorithm, error) {
	switch a := WrappingAlgorithm(s); a {
	case RSAOAEP, RSAOAEP256:
		return a, nil
	case "":
		return "", Required("wrappingAlgorithm")
	}
	return "", Invalid(FieldWrappingAlgorithm, "wrappingAlgorithm must be RSA-OAEP or RSA-OAEP-256")
}

// Envelope is what the header of a ciphertext or data key blob names: the
// key and the version of its material that encrypted, and whether it is a
// data key blob (which decrypt refuses, as datakey/decrypt refuses
// ciphertexts).
type Envelope struct {
	KeyID   string
	Version uint32
	DataKey bool
}

// SignInput is one signature to make.
type SignInput struct {
	Alg      Algorithm
	Message  []byte // the message, or its digest when IsDigest
	IsDigest bool
	Format   SignatureFormat
	KeyID    string // the kid of a JWS or JWT
}

// VerifyInput is one signature to check.
type VerifyInput struct {
	Alg       Algorithm // "" takes the alg of a JWS
	Message   []byte    // nil: a JWS is checked alone
	IsDigest  bool
	Signature string
}
