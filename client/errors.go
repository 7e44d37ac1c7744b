package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors an [*Error] matches with [errors.Is], by status or error
// id, whatever the API that answered.
var (
	// ErrNotFound: 404, the object (secret, version, domain, user...) or
	// the route does not exist.
	ErrNotFound = errors.New("client: not found")
	// ErrUnauthenticated: 401, or Vault's 403 for a missing or invalid
	// token: the credential is missing, wrong, expired or revoked.
	ErrUnauthenticated = errors.New("client: unauthenticated")
	// ErrForbidden: 403, the credential is valid but IAM refuses the
	// operation.
	ErrForbidden = errors.New("client: forbidden")
	// ErrConflict: 409, the object already exists or is in use.
	ErrConflict = errors.New("client: conflict")
	// ErrCASMismatch: the check-and-set version did not match the current
	// version (SecretCasMismatch).
	ErrCASMismatch = errors.New("client: check-and-set mismatch")
	// ErrNoDomain: no OKMS domain was given and none could be found (see
	// [Client.Domain]).
	ErrNoDomain = errors.New("client: no OKMS domain")
)

// Error is a refusal of the server: an HTTP status of 400 or more with the
// envelope of the API that answered, parsed.
//
//   - OKMS (surface B, okms-rest.md 8.1): error_code, error_id, errors,
//     request_id.
//   - OVH (surface A and identity management, okms-rest.md 8.2): class,
//     message, and the request id in X-Ovh-QueryID.
//   - Vault (surface C, vault-kv2.md 2.4): errors, plus coffer's OKMS
//     members.
//   - OAuth2 (the token endpoint, RFC 6749 5.2): error, which becomes the
//     ID, and error_description.
type Error struct {
	StatusCode int
	// Code is the OKMS error_code (bit-packed, okms-rest.md 8.1), 0 when
	// the envelope has none.
	Code int32
	// ID is the OKMS error_id, or for an OVH envelope the last part of the
	// class ("SecretNotFound" of "Client::NotFound::SecretNotFound",
	// "Unauthorized" of "Client::Unauthorized"), or the OAuth2 error code
	// ("invalid_client").
	ID string
	// Class is the OVH error class, "" for the other envelopes.
	Class string
	// Messages are the human-readable messages; they never hold a value.
	Messages  []string
	RequestID string
}

// Error returns the messages on one line, then the id, the status and the
// request id in brackets.
func (e *Error) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	}
	var b strings.Builder
	b.WriteString(msg)
	b.WriteString(" (")
	if e.ID != "" {
		b.WriteString(e.ID)
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.RequestID != "" {
		b.WriteString(", request ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether e matches one of the sentinel errors of this package.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthenticated:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden && e.vaultInvalidToken()
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && !e.vaultInvalidToken()
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrCASMismatch:
		return e.ID == "SecretCasMismatch"
	}
	return false
}

// vaultInvalidToken reports whether a Vault 403 says the token is missing
// or invalid rather than denied (vault-kv2.md 2.4).
func (e *Error) vaultInvalidToken() bool {
	if e.ID == "Unauthenticated" {
		return true
	}
	if e.Class != "" || e.ID != "" {
		return false
	}
	for _, m := range e.Messages {
		if m == "invalid token" {
			return true
		}
	}
	return len(e.Messages) == 1 && e.Messages[0] == "permission denied"
}

// envelope holds the members of every error envelope coffer sends.
type envelope struct {
	ErrorCode int32    `json:"error_code"`
	ErrorID   string   `json:"error_id"`
	Errors    []string `json:"errors"`
	RequestID string   `json:"request_id"`
	Class     string   `json:"class"`
	Message   string   `json:"message"`
	// The token endpoint answers in OAuth2's format (RFC 6749 5.2).
	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
}

// parseError builds the *Error of an answer with status >= 400. A body in
// none of the envelopes keeps its first line as message.
func parseError(status int, h http.Header, body []byte) *Error {
	e := &Error{StatusCode: status, RequestID: h.Get("X-Ovh-QueryID")}
	if e.RequestID == "" {
		e.RequestID = h.Get("X-Request-Id")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		if line := firstLine(string(body)); line != "" {
			e.Messages = []string{line}
		}
		return e
	}
	e.Code, e.ID, e.Class = env.ErrorCode, env.ErrorID, env.Class
	if env.RequestID != "" {
		e.RequestID = env.RequestID
	}
	if env.Class != "" {
		if i := strings.LastIndex(env.Class, "::"); e.ID == "" && i >= 0 {
			e.ID = env.Class[i+2:]
		}
	}
	if env.Message != "" {
		e.Messages = append(e.Messages, env.Message)
	}
	if env.OAuthError != "" && e.ID == "" {
		e.ID = env.OAuthError
		if env.OAuthDescription != "" {
			e.Messages = append(e.Messages, env.OAuthDescription)
		}
	}
	for _, m := range env.Errors {
		e.Messages = append(e.Messages, vaultMessages(m)...)
	}
	return e
}

// vaultMessages splits Vault's multi-error text ("2 errors occurred:\n\t*
// permission denied\n\t* invalid token\n\n") into its messages; any other
// text is one message on one line.
func vaultMessages(m string) []string {
	head, rest, ok := strings.Cut(m, "\n")
	if ok && strings.HasSuffix(head, "occurred:") {
		var out []string
		for _, l := range strings.Split(rest, "\n") {
			if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "*")); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	return []string{strings.Join(strings.Fields(m), " ")}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	return line
}
