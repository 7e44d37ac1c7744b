package httpapi

import (
	"errors"
	"strings"
	"testing"
)

func TestMembersCheck(t *testing.T) {
	m := Members{"path": nil, "version": {"data": nil, "id": nil}, "metadata": {"customMetadata": nil}}
	for _, tc := range []struct{ body, want string }{
		{`{"path":"a","version":{"data":{"any":{"thing":1}}},"metadata":{"customMetadata":{"x":"y"}}}`, ""},
		{`{"version":null,"metadata":[]}`, ""}, // not objects: the decoder's business
		{`{"path":"a","version":{"data":{},"bogus":1}}`, "version.bogus is not a member"},
		{`{"Path":"a"}`, "Path is not a member"},  // exact names, unlike encoding/json
		{`{"zz":1,"aa":2}`, "aa is not a member"}, // the first in byte order
		{`{"metadata":{"maxVersions":3}}`, "metadata.maxVersions is not a member"},
		{`{"a\"b\u0000":1}`, `"a\"b\x00" is not a member`},
		{`{"` + strings.Repeat("x", 100) + `":1}`, strings.Repeat("x", 64) + "… is not a member"},
	} {
		err := m.check([]byte(tc.body), "")
		var be *BodyError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("check(%s) = %v, want nil", tc.body, err)
		case tc.want != "" && (!errors.As(err, &be) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("check(%s) = %v, want a BodyError naming %q", tc.body, err, tc.want)
		}
	}
}
