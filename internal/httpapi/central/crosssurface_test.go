package central_test

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// Surfaces A and B show the same stored objects (okms-rest.md
// introduction, 5.1; issue #5 item 5). These tests write through one
// surface and read, version, change and delete through the other.

// surfaceB is the prefix of surface B's routes on the server's domain.
const surfaceB = "/api/{okmsId}/v2"

// secretB is GetSecretV2Response as surface B sends it.
type secretB struct {
	Path     string                     `json:"path"`
	Metadata map[string]json.RawMessage `json:"metadata"`
	Version  *versionOut                `json:"version"`
}

// errorB is surface B's envelope.
type errorB struct {
	ErrorID   string `json:"error_id"`
	ErrorCode int32  `json:"error_code"`
}

// sameMetadata checks that surface A's metadata of a secret is surface
// B's without urn, member by member, and that the urn moved to iam.urn.
func sameMetadata(t *testing.T, a *response, b *response) {
	t.Helper()
	var am struct {
		IAM      iamOut                     `json:"iam"`
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(a.Body, &am); err != nil {
		t.Fatalf("decode surface A secret: %v", err)
	}
	bm := wiretest.DecodeBody[secretB](t, b).Metadata
	var urn string
	if err := json.Unmarshal(bm["urn"], &urn); err != nil {
		t.Fatalf("surface B metadata.urn: %v", err)
	}
	want(t, "iam.urn (A) = metadata.urn (B)", am.IAM.URN, urn)
	delete(bm, "urn")
	if !maps.EqualFunc(am.Metadata, bm, func(x, y json.RawMessage) bool { return string(x) == string(y) }) {
		t.Errorf("metadata differs\nA: %s\nB: %s", mustJSON(am.Metadata), mustJSON(bm))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCrossSurface_AThenB: a secret created on surface A is read and
// versioned on surface B (and read on surface C), and A sees B's changes.
func TestCrossSurface_AThenB(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const (
		a = "/secret/prod%2Fdb"
		b = surfaceB + "/secret/prod%2Fdb"
	)
	e.Must("POST", "/secret", `{"path":"prod/db",
		"metadata":{"maxVersions":5,"deactivateVersionAfter":"30d","customMetadata":{"team":"dba"}},
		"version":{"data":{"v":1}}}`)
	created := e.getSecret(a)

	// Read on B: the same secret, states in B's case.
	rb := e.Must("GET", b+"?includeData=true", "")
	sb := wiretest.DecodeBody[secretB](t, rb)
	want(t, "B path", sb.Path, "prod/db")
	want(t, "B version state", sb.Version.State, "active")
	want(t, "B data", string(sb.Version.Data), `{"v":1}`)
	sameMetadata(t, e.Must("GET", a, ""), rb)

	// Read on C (vault-kv2.md): the same value.
	rc := e.Send(request{Method: "GET", Target: "/api/{okmsId}/v1/secret/data/prod/db",
		Header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}})
	want(t, "C status", rc.Status, 200)
	var c struct {
		Data struct {
			Data map[string]int `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rc.Body, &c); err != nil || c.Data.Data["v"] != 1 {
		t.Errorf("surface C read = %s, want v=1", rc.Body)
	}

	// Version on B, with B's cas and lower-case states.
	e.Clock.Advance(time.Minute)
	v2 := wiretest.DecodeBody[versionOut](t, e.Must("POST", b+"/version?cas=1", `{"data":{"v":2}}`))
	want(t, "B new version", v2.ID, 2)
	want(t, "B new version state", v2.State, "active")
	e.Clock.Advance(time.Minute)
	e.Must("PUT", b+"/version/1", `{"state":"deactivated"}`)

	// A sees it all, in A's dialect.
	sa := e.getSecret(a + "?includeData=true")
	want(t, "A iam.id unchanged", sa.IAM.ID, created.IAM.ID)
	want(t, "A currentVersion", sa.Metadata.CurrentVersion, 2)
	want(t, "A updatedAt", sa.Metadata.UpdatedAt, at(time.Minute))
	want(t, "A version", sa.Version.ID, 2)
	want(t, "A data", string(sa.Version.Data), `{"v":2}`)
	vs := wiretest.DecodeBody[[]versionOut](t, e.Must("GET", a+"/version", ""))
	if len(vs) != 2 || vs[0].State != "DEACTIVATED" || vs[1].State != "ACTIVE" {
		t.Errorf("A versions = %+v, want 1 DEACTIVATED and 2 ACTIVE", vs)
	}
	if vs[0].DeactivatedAt == nil || *vs[0].DeactivatedAt != at(2*time.Minute) {
		t.Errorf("A version 1 deactivatedAt = %v, want %s", vs[0].DeactivatedAt, at(2*time.Minute))
	}
	sameMetadata(t, e.Must("GET", a, ""), e.Must("GET", b, ""))

	// Both lists hold it.
	want(t, "A list", len(e.listAll("/secret")), 1)
	want(t, "B list", len(e.listAll(surfaceB+"/secret")), 1)
}

// TestCrossSurface_BThenA: a secret created on surface B is read,
// updated, state-changed and deleted on surface A, and B sees each step.
func TestCrossSurface_BThenA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const (
		a = "/secret/app%2Fkey"
		b = surfaceB + "/secret/app%2Fkey"
	)
	e.Must("POST", surfaceB+"/secret", `{"path":"app/key","metadata":{"casRequired":true},"version":{"data":{"k":"v1"}}}`)
	e.Clock.Advance(time.Minute)
	e.Must("PUT", b+"?cas=1", `{"version":{"data":{"k":"v2"}}}`)

	// Read on A.
	ra := e.Must("GET", a+"?includeData=true", "")
	sa := wiretest.DecodeBody[secretOut](t, ra)
	checkIAM(t, e, sa)
	want(t, "A path", sa.Path, "app/key")
	want(t, "A version", sa.Version.ID, 2)
	want(t, "A state", sa.Version.State, "ACTIVE")
	want(t, "A data", string(sa.Version.Data), `{"k":"v2"}`)
	sameMetadata(t, e.Must("GET", a, ""), e.Must("GET", b, ""))

	// cas rules are the same on A: required by the secret.
	r := e.Send(request{Method: "PUT", Target: a, Body: `{"version":{"data":{"k":"v3"}}}`})
	r.Expect(t, 400, "Client::BadRequest::SecretCasRequired")
	e.Clock.Advance(time.Minute)
	e.Must("PUT", a+"?cas=2", `{"version":{"data":{"k":"v3"}},"metadata":{"customMetadata":{"owner":"a"}}}`)

	// State changes on A, in A's case, seen on B in B's.
	e.Clock.Advance(time.Minute)
	up := wiretest.DecodeBody[versionOut](t, e.Must("PUT", a+"/version/1", `{"state":"DEACTIVATED"}`))
	want(t, "A response state", up.State, "DEACTIVATED")
	vb := wiretest.DecodeBody[versionOut](t, e.Must("GET", b+"/version/1?includeData=true", ""))
	want(t, "B state", vb.State, "deactivated")
	want(t, "B deactivatedAt", *vb.DeactivatedAt, *up.DeactivatedAt)
	want(t, "B no data", string(vb.Data), "")
	e.Must("PUT", a+"/version/2", `{"state":"DELETED"}`)
	want(t, "B state of 2", wiretest.DecodeBody[versionOut](t, e.Must("GET", b+"/version/2", "")).State, "deleted")
	// A reactivation on B is seen on A.
	e.Must("PUT", b+"/version/1", `{"state":"active"}`)
	va := wiretest.DecodeBody[versionOut](t, e.Must("GET", a+"/version/1?includeData=true", ""))
	want(t, "A state after B reactivated", va.State, "ACTIVE")
	want(t, "A data after B reactivated", string(va.Data), `{"k":"v1"}`)

	sb := wiretest.DecodeBody[secretB](t, e.Must("GET", b, ""))
	want(t, "B currentVersion", string(sb.Metadata["currentVersion"]), "3")
	want(t, "B customMetadata", string(sb.Metadata["customMetadata"]), `{"owner":"a"}`)
	sameMetadata(t, e.Must("GET", a, ""), e.Must("GET", b, ""))

	// Delete on A: gone on B, with B's envelope.
	e.Send(request{Method: "DELETE", Target: a}).Expect(t, 204, "")
	gone := e.Call("GET", b, "")
	want(t, "B status after A's delete", gone.Status, 404)
	eb := wiretest.DecodeBody[errorB](t, gone)
	want(t, "B error_id", eb.ErrorID, "SecretNotFound")
	want(t, "B error_code", eb.ErrorCode, 17125377)
	want(t, "B list", len(e.listAll(surfaceB+"/secret")), 0)
}
