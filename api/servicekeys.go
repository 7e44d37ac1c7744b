package api

// Wire types of the service key routes of surface B
// (/api/{okmsId}/v1/servicekey/... and /v1/random, the OKMS swagger
// v2.17.0). Members that the swagger types as base64 bytes ("format:
// byte") are strings here, standard base64 with padding, so that a
// value that does not decode is reported by name.

// Service key states on surface B (KeyStates), "all" aside.
const (
	KeyStateActive               = "active"
	KeyStateDeactivated          = "deactivated"
	KeyStateCompromised          = "compromised"
	KeyStateDestroyed            = "destroyed"
	KeyStateDestroyedCompromised = "destroyed_compromised"
)

// JSONWebKey is a JSON Web Key (JsonWebKeyRequest and JsonWebKeyResponse):
// members are base64url without padding. A response carries public
// members only.
type JSONWebKey struct {
	Kid    string   `json:"kid,omitempty"`
	Kty    string   `json:"kty"`
	Use    string   `json:"use,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	Alg    string   `json:"alg,omitempty"`
	Crv    string   `json:"crv,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	K      string   `json:"k,omitempty"`
	D      string   `json:"d,omitempty"`
	P      string   `json:"p,omitempty"`
	Q      string   `json:"q,omitempty"`
	DP     string   `json:"dp,omitempty"`
	DQ     string   `json:"dq,omitempty"`
	QI     string   `json:"qi,omitempty"`
}

// WrappedKey is key material encrypted under a transport key
// (WrappedKeyEntry): a JWE compact serialization.
type WrappedKey struct {
	KeyFormatType string `json:"keyFormatType"`
	WrappingKeyID string `json:"wrappingKeyId"`
	Ciphertext    string `json:"ciphertext"`
}

// CreateServiceKeyRequest is the body of POST /v1/servicekey
// (CreateImportServiceKeyRequest): a generation with type and size or
// curve, a plain import with keys, or a wrapped import with wrappedKeys.
type CreateServiceKeyRequest struct {
	ID              *string      `json:"id,omitempty"`
	Name            string       `json:"name"`
	Context         *string      `json:"context,omitempty"`
	Type            *string      `json:"type,omitempty"`
	Size            *int         `json:"size,omitempty"`
	Curve           *string      `json:"curve,omitempty"`
	Operations      []string     `json:"operations,omitempty"`
	ProtectionLevel *string      `json:"protectionLevel,omitempty"`
	Keys            []JSONWebKey `json:"keys,omitempty"`
	Extractable     *bool        `json:"extractable,omitempty"`
	WrappedKeys     []WrappedKey `json:"wrappedKeys,omitempty"`
}

// ServiceKeyAttributes are the attributes of a key: its state and dates
// (RFC 3339, whole seconds, UTC), absent while they do not apply, as
// okms-cli reads them.
type ServiceKeyAttributes struct {
	State                string  `json:"state"`
	OriginalCreationDate string  `json:"original_creation_date"`
	ActivationDate       *string `json:"activation_date,omitempty"`
	DeactivationDate     *string `json:"deactivation_date,omitempty"`
	CompromiseDate       *string `json:"compromise_date,omitempty"`
	DestructionDate      *string `json:"destruction_date,omitempty"`
	RevocationReason     string  `json:"revocation_reason,omitempty"`
	Context              string  `json:"context,omitempty"`
	Extractable          bool    `json:"extractable"`
	NeverExtractable     bool    `json:"never_extractable"`
}

// PEMKey is a public key in PEM (SubjectPublicKeyInfo), coffer's
// format=pem.
type PEMKey struct {
	PEM string `json:"pem"`
}

// ServiceKey is a key as surface B shows it (GetServiceKeyResponse). Size
// is absent for EC keys, Curve for the others; Keys holds the public part
// of the latest version with format=jwk, KeysPEM with format=pem, and
// WrappedKeys the material of a wrapped export.
type ServiceKey struct {
	ID              string               `json:"id"`
	Name            string               `json:"name"`
	Type            string               `json:"type"`
	Class           string               `json:"class"`
	Curve           string               `json:"curve,omitempty"`
	Operations      []string             `json:"operations"`
	Size            int                  `json:"size,omitempty"`
	ProtectionLevel string               `json:"protectionLevel"`
	Attributes      ServiceKeyAttributes `json:"attributes"`
	Keys            []JSONWebKey         `json:"keys,omitempty"`
	KeysPEM         []PEMKey             `json:"keysPEM,omitempty"`
	WrappedKeys     []WrappedKey         `json:"wrappedKeys,omitempty"`
}

// ListServiceKeysResponse is one page of GET /v1/servicekey; pass
// ContinuationToken as continuation-token while IsTruncated.
type ListServiceKeysResponse struct {
	ObjectsList       []ServiceKey `json:"objects_list"`
	ContinuationToken string       `json:"continuation_token"`
	IsTruncated       bool         `json:"is_truncated"`
}

// UpdateServiceKeyRequest is the body of PATCH /v1/servicekey/{keyId}
// (PatchServiceKeyRequest).
type UpdateServiceKeyRequest struct {
	Name        *string `json:"name,omitempty"`
	Extractable *bool   `json:"extractable,omitempty"`
}

// DeactivateServiceKeyRequest is the body of POST .../deactivate.
type DeactivateServiceKeyRequest struct {
	Reason string `json:"reason"`
}

// EncryptRequest is the body of POST .../encrypt.
type EncryptRequest struct {
	Plaintext string  `json:"plaintext"` // base64, up to 4096 bytes
	Context   *string `json:"context,omitempty"`
}

// EncryptResponse carries a ciphertext (a JWE).
type EncryptResponse struct {
	Ciphertext string `json:"ciphertext"`
}

// DecryptRequest is the body of POST .../decrypt.
type DecryptRequest struct {
	Ciphertext string  `json:"ciphertext"`
	Context    *string `json:"context,omitempty"`
}

// DecryptResponse carries a plaintext, in base64.
type DecryptResponse struct {
	Plaintext string `json:"plaintext"`
}

// GenerateDataKeyRequest is the body of POST .../datakey.
type GenerateDataKeyRequest struct {
	Name *string `json:"name,omitempty"`
	Size int     `json:"size"` // bits
}

// GenerateDataKeyResponse is a data key wrapped (Key, a JWE) and in
// plaintext (base64).
type GenerateDataKeyResponse struct {
	Key       string `json:"key"`
	Plaintext string `json:"plaintext"`
}

// DecryptDataKeyRequest is the body of POST .../datakey/decrypt.
type DecryptDataKeyRequest struct {
	Key string `json:"key"`
}

// DecryptDataKeyResponse carries a data key, in base64.
type DecryptDataKeyResponse struct {
	Plaintext string `json:"plaintext"`
}

// SignRequest is the body of POST .../sign.
type SignRequest struct {
	Message  string `json:"message"` // base64: the message, or its digest with isdigest
	Alg      string `json:"alg"`
	IsDigest *bool  `json:"isdigest,omitempty"`
}

// SignResponse carries a signature: base64 for format=raw, a JWS or JWT
// otherwise.
type SignResponse struct {
	Signature string `json:"signature"`
}

// VerifyRequest is the body of POST .../verify.
type VerifyRequest struct {
	Message   *string `json:"message,omitempty"` // base64
	Signature string  `json:"signature"`
	Alg       *string `json:"alg,omitempty"`
	IsDigest  *bool   `json:"isdigest,omitempty"`
}

// VerifyResponse is the result of a verification.
type VerifyResponse struct {
	Result bool `json:"result"`
}

// RandomResponse carries random bytes, in base64 (GetRandomResponse).
type RandomResponse struct {
	Bytes string `json:"bytes"`
}
