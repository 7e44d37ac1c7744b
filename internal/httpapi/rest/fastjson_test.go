package rest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// writeGetSecret writes exactly what httpapi.WriteJSON writes for a secret
// read: status, Content-Type and body byte for byte, on random answers
// (paths, metadata and values with every character encoding/json escapes
// or keeps, HTML characters included; values compact or not, or invalid;
// with and without a version, data and deactivation).
func TestWriteGetSecret_matchesWriteJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 2))
	pieces := []string{"", "a", "db/pass", `"`, `\`, "\n", "\x02", "<", ">", "&", "é", "日本", "\u2028", "\u2029", "\xff", "%2F"}
	str := func() string {
		var s string
		for range rng.IntN(4) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	value := func() json.RawMessage {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return json.RawMessage("{ \"a\" : \"<b>&\u2028\u2029\" , \"c\":[1, 2]}") // raw U+2028
		case 2:
			return json.RawMessage(`{"a":`)
		}
		m := map[string]any{}
		for range rng.IntN(5) {
			m[str()] = []any{str(), rng.Float64(), map[string]any{str(): str()}}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(rng.IntN(2) == 0)
		enc.Encode(m)
		return bytes.TrimSpace(buf.Bytes())
	}
	for i := range 5000 {
		out := api.GetSecretResponse{Path: str(), Metadata: api.SecretMetadata{
			CasRequired: rng.IntN(2) == 0, CreatedAt: "2026-12-08T02:03:04.123456Z", UpdatedAt: str(),
			CurrentVersion: rng.Uint32(), OldestVersion: rng.Uint32(), MaxVersions: rng.Uint32(),
			DeactivateVersionAfter: str(), URN: "urn:v1:eu:resource:okms:x/secret/" + str(),
		}}
		if rng.IntN(4) > 0 {
			out.Metadata.CustomMetadata = map[string]string{}
			for range rng.IntN(4) {
				out.Metadata.CustomMetadata[str()] = str()
			}
		}
		if rng.IntN(5) > 0 {
			out.Version = &api.SecretVersion{ID: rng.Uint32(), State: []string{"ACTIVE", "DEACTIVATED", "DELETED"}[rng.IntN(3)],
				CreatedAt: str(), Data: value()}
			if rng.IntN(2) == 0 {
				d := str()
				out.Version.DeactivatedAt = &d
			}
		}
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		httpapi.WriteJSON(want, 200, out)
		writeGetSecret(got, out)
		if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("case %d (%+v):\n got %d %s\nwant %d %s", i, out, got.Code, got.Body, want.Code, want.Body)
		}
	}
}
