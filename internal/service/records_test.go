package service

import (
	"math"
	"testing"
)

func TestKeys(t *testing.T) {
	tests := []struct{ got, want string }{
		{versionKey("dom", "sid", 42), "d/dom/v/sid/0000000042"},
		{versionKey("dom", "sid", 0), "d/dom/v/sid/0000000000"},
		{versionKey("dom", "sid", math.MaxUint32), "d/dom/v/sid/4294967295"},
		{KeyFamily("d/6a0f/s/app/db"), "d/6a0f"},
		{KeyFamily("d/6a0f/config"), "d/6a0f"},
		{KeyFamily("d//x"), "sys"},
		{KeyFamily("iam/token/abc"), "sys"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
