package httpapi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	errOwn := errors.New("the error's own message")
	first := []ErrorRow{{Err: secret.ErrNotFound, Status: 404, ID: "First", Msg: "first table"}, {Err: errOwn, Status: 400, ID: "Own"}}
	second := []ErrorRow{{Err: secret.ErrNotFound, Status: 410, ID: "Second", Msg: "second table"}}
	tests := []struct {
		name   string
		err    error
		status int
		id     string
		msg    string
	}{
		{"body error", &BodyError{Reason: "unexpected end"}, 400, "RequestBodyInvalidJson", "invalid JSON body: unexpected end"},
		{"query error", &QueryError{Msg: "cas must be an integer"}, 400, "QueryParameterInvalid", "cas must be an integer"},
		{"limit", &service.LimitError{What: "secrets", Scope: "domain", Limit: 3}, 400, "DomainSecretLimitReached",
			"the domain already holds the maximum of 3 secrets this server allows"},
		{"first matching table wins", fmt.Errorf("op: %w", secret.ErrNotFound), 404, "First", "first table"},
		{"empty Msg keeps the error's own", errOwn, 400, "Own", "the error's own message"},
		{"canceled after every table", fmt.Errorf("read: %w", context.Canceled), 400, "RequestCanceled", "request canceled"},
		{"unknown", errors.New("disk on fire"), 500, "InternalError", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, id, msg := Describe(tc.err, first, second)
			if status != tc.status || id != tc.id || msg != tc.msg {
				t.Errorf("Describe(%v) = %d, %q, %q; want %d, %q, %q", tc.err, status, id, msg, tc.status, tc.id, tc.msg)
			}
		})
	}
}

// TestOKMSCode checks that every row surface B renders has its error_code,
// and a few codes against okms-rest.md 8.1.
func TestOKMSCode(t *testing.T) {
	t.Parallel()
	for _, table := range [][]ErrorRow{RequestErrors, SecretErrors} {
		for _, row := range table {
			if OKMSCode(row.ID) == 0 {
				t.Errorf("OKMSCode(%q) = 0: the row of %v has no error_code", row.ID, row.Err)
			}
		}
	}
	for id, want := range map[string]int32{"SecretNotFound": 17125377, "SecretVersionStateInvalid": 17113108,
		"InternalError": 50401281, "DomainVersionLimitReached": 50405386, "NoSuchId": 0} {
		if got := OKMSCode(id); got != want {
			t.Errorf("OKMSCode(%q) = %d, want %d", id, got, want)
		}
	}
}

// TestOVHClass pins the class rule of okms-rest.md 8.2.
func TestOVHClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   string
	}{
		{400, "Client::BadRequest::X"},
		{401, "Client::Unauthorized"},
		{403, "Client::Forbidden"},
		{404, "Client::NotFound::X"},
		{405, "Client::MethodNotAllowed"},
		{409, "Client::Conflict::X"},
		{413, "Client::PayloadTooLarge"},
		{429, "Client::TooManyRequests"},
		{500, "Server::InternalServerError"},
		{501, "Server::NotImplemented::X"},
		{503, "Server::ServiceUnavailable"},
	}
	for _, tc := range tests {
		if got := OVHClass(tc.status, "X"); got != tc.want {
			t.Errorf("OVHClass(%d, %q) = %q, want %q", tc.status, "X", got, tc.want)
		}
	}
}
