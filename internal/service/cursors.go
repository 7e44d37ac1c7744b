package service

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Cursors: every paginated list of the service (secrets, a folder's
// children, versions, credentials, identities, and any list added later)
// hands its callers opaque cursors and takes them back through the two
// functions below, never a position in clear (iam.md 6.1, issue 13). A
// position may be a key the caller may not see (a page stops after a
// bounded number of records, visible or not), so it is sealed: encrypted
// and authenticated under a key derived from the installation's pepper,
// bound to the list (kind, domain, what it lists within) and to the caller.
// A cursor that is forged, altered, made for another list, domain or
// caller, or by another installation is ErrCursorInvalid; surfaces answer
// it with their own cursor error.
//
// A new list does three things: it names itself with a [Listing], opens the
// caller's cursor with [Service.Position] before reading, and seals the
// position of its next page with [Service.Cursor]. [PageOf] does all three
// for a list built in memory.

// ErrCursorInvalid: a pagination cursor this installation did not issue for
// this list and this caller.
var ErrCursorInvalid = errors.New("service: the pagination cursor is invalid")

// CursorSealer seals list positions into opaque cursors: authenticated
// encryption under a key derived from secret (the installation's pepper),
// bound to context. The server implements it over internal/crypto
// (crypto.TokenSealer), so that the service imports no cipher.
type CursorSealer interface {
	// Seal returns value encrypted and authenticated under secret, bound
	// to context.
	Seal(secret, context, value []byte) ([]byte, error)
	// Open returns the value Seal sealed with the same secret and context,
	// or an error.
	Open(secret, context, sealed []byte) ([]byte, error)
}

// Kinds of paginated lists. Surfaces A and B list the same objects, so a
// cursor of one is valid on the other for the same caller.
const (
	ListSecrets         = "secrets"     // a domain's secrets under a prefix
	ListChildren        = "children"    // the immediate children of a folder
	ListVersions        = "versions"    // a secret's versions
	ListCredentials     = "credentials" // a domain's access certificates
	ListUsers           = "users"
	ListGroups          = "groups"
	ListPATs            = "pats" // a user's personal access tokens
	ListPolicies        = "policies"
	ListServiceAccounts = "serviceaccounts" // OAuth2 clients
	ListServiceKeys     = "servicekeys"     // a domain's service keys
)

// Listing names one paginated list. Its cursors are refused by every
// other list.
type Listing struct {
	Kind   string // one of the List* kinds
	Domain string // the OKMS domain; "" for a list outside domains
	Of     string // what the list is within: a prefix, a secret path, a login; "" for none
}

// maxCursorLen bounds the cursors Position opens: a position is at most a
// storage key, and a cursor far longer is not one of ours.
const maxCursorLen = 2048

// cursorPurpose keeps the cursor key apart from every other use of the
// pepper.
const cursorPurpose = "coffer list cursor v1"

// Cursor returns the cursor a caller presents to resume list l after
// position: opaque, and valid only for l and c. An empty position gives "".
// position is anything the list understands (a storage key suffix, an id);
// it never leaves the server in clear.
func (s *Service) Cursor(c Caller, l Listing, position string) (string, error) {
	if position == "" {
		return "", nil
	}
	secret, err := s.cursorSecret()
	if err != nil {
		return "", err
	}
	b, err := s.cursors.Seal(secret, cursorContext(c, l), []byte(position))
	if err != nil {
		return "", internal("Cursor", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Position returns the position sealed in cursor, a cursor of list l that
// [Service.Cursor] made for c; "" for an empty cursor (the first page). It
// returns ErrCursorInvalid for any other cursor.
func (s *Service) Position(c Caller, l Listing, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	if len(cursor) > maxCursorLen {
		return "", ErrCursorInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", ErrCursorInvalid
	}
	secret, err := s.cursorSecret()
	if err != nil {
		return "", err
	}
	pos, err := s.cursors.Open(secret, cursorContext(c, l), b)
	if err != nil || len(pos) == 0 {
		return "", ErrCursorInvalid
	}
	return string(pos), nil
}

func (s *Service) cursorSecret() ([]byte, error) {
	if s.cursors == nil {
		return nil, internal("cursor", errors.New("no cursor sealer configured"))
	}
	pp := s.pepper.Load()
	if pp == nil {
		return nil, ErrNotInitialized
	}
	return *pp, nil
}

// cursorContext is what a cursor is bound to: its purpose, the list, and
// the caller (credential and identities), each length-prefixed.
func cursorContext(c Caller, l Listing) []byte {
	p := c.Principal
	fields := []string{cursorPurpose, l.Kind, l.Domain, l.Of, string(p.Kind), p.CredentialID, p.UserID,
		fmt.Sprint(p.Root), strings.Join(p.Identities, "\n")}
	var b []byte
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// PageOf returns one page of a list held in memory: the items whose
// position (pos) follows the one sealed in cursor, at most limit of them (0:
// all), and the cursor of the next page ("" on the last). items must be
// sorted by position, byte-wise. It returns ErrCursorInvalid for a cursor
// that is not l's for c.
func PageOf[T any](s *Service, c Caller, l Listing, items []T, pos func(T) string, cursor string, limit int) ([]T, string, error) {
	after, err := s.Position(c, l, cursor)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		for start < len(items) && pos(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if limit <= 0 || len(items) <= limit {
		return items, "", nil
	}
	next, err := s.Cursor(c, l, pos(items[limit-1]))
	return items[:limit], next, err
}
