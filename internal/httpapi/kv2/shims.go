package kv2

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// vaultVersion is the Vault API level coffer emulates, reported where
// clients expect a Vault version: valid semver without "+ent", which
// terraform parses and takes for Enterprise (vault-kv2.md 6.2). coffer's own
// version is at /healthz and in the Server header.
const vaultVersion = "1.21.0"

// vaultBuildDate is the build date reported with vaultVersion.
const vaultBuildDate = "2025-10-21T00:00:00Z"

// catchAll answers what the mount does not route (vault-kv2.md 4.9): a raw
// 404 whose warning tells the vault CLI user what to do instead.
func (a *API) catchAll(w http.ResponseWriter, r *http.Request, c *call, rest string) error {
	msg := "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. " +
		"If using the Vault CLI, use 'vault kv " + subcommand(c.op) + "' for this operation."
	switch rest {
	case "metadata", "data", "delete", "undelete", "destroy":
		msg = "Non-listing operations on the root of a K/V v2 mount are not supported."
	}
	return writeCatchAll404(w, r, []string{msg})
}

// mountInfo describes a mount to the preflight (vaultwire.MountInfo).
type mountInfo = vaultwire.MountInfo

// mountsResponse answers sys/internal/ui/mounts without a path.
type mountsResponse struct {
	Auth   map[string]mountInfo `json:"auth"`
	Secret map[string]mountInfo `json:"secret"`
}

// preflight serves GET sys/internal/ui/mounts[/<path>] (vault-kv2.md 6.1):
// the mounts secret/ (KV v2) and transit/ of the domain. Anything but a
// path in one of them, of an existing domain, with a valid token, is a
// 403: never 404, which would make the CLI fall back to KV v1.
func (a *API) preflight(w http.ResponseWriter, r *http.Request, c *call) error {
	path := strings.Trim(c.key, "/")
	mount := vaultwire.MountOf(path)
	if path != "" && mount == "" || !a.preflightAllowed(r, c) {
		return preflightError(path)
	}
	if path == "" {
		kv, _ := vaultwire.Mount(c.domain, vaultwire.MountKV)
		tr, _ := vaultwire.Mount(c.domain, vaultwire.MountTransit)
		return reply(w, r, c, mountsResponse{Auth: map[string]mountInfo{}, Secret: map[string]mountInfo{"secret/": kv, "transit/": tr}})
	}
	info, _ := vaultwire.Mount(c.domain, mount)
	return reply(w, r, c, info)
}

// preflightAllowed reports whether the caller holds a valid token for an
// existing domain.
func (a *API) preflightAllowed(r *http.Request, c *call) bool {
	return a.authenticate(r, c) == nil && c.domainErr == nil &&
		a.svc.CheckDomain(r.Context(), c.caller, c.domain) == nil
}

// healthResponse is the body of sys/health (vault-kv2.md 6.2).
type healthResponse struct {
	Initialized                bool   `json:"initialized"`
	Sealed                     bool   `json:"sealed"`
	Standby                    bool   `json:"standby"`
	PerformanceStandby         bool   `json:"performance_standby"`
	ReplicationPerformanceMode string `json:"replication_performance_mode"`
	ReplicationDRMode          string `json:"replication_dr_mode"`
	ServerTimeUTC              int64  `json:"server_time_utc"`
	Version                    string `json:"version"`
	Enterprise                 bool   `json:"enterprise"`
	ClusterName                string `json:"cluster_name"`
	ClusterID                  string `json:"cluster_id"`
	EchoDurationMS             int64  `json:"echo_duration_ms"`
	ClockSkewMS                int64  `json:"clock_skew_ms"`
	ReplicationPrimaryCanaryMS int64  `json:"replication_primary_canary_age_ms"`
}

// healthCodes are the status overrides sys/health accepts; coffer is always
// the active node, so only activecode applies, but every one must be a
// valid status (vault-kv2.md 6.2).
var healthCodes = []string{"activecode", "standbycode", "drsecondarycode", "performancestandbycode",
	"haunhealthycode", "uninitcode", "sealedcode", "removedcode"}

// health serves GET|HEAD sys/health, unauthenticated and without envelope.
func (a *API) health(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := a.svc.SealStatus(r.Context())
	if err != nil {
		return err
	}
	status, err := healthStatus(c.query, st)
	if err != nil {
		return err
	}
	if c.op == opHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		return nil
	}
	writePlain(w, status, healthResponse{
		Initialized: st.Initialized, Sealed: st.Sealed, ReplicationPerformanceMode: "disabled", ReplicationDRMode: "disabled",
		ServerTimeUTC: time.Now().Unix(), Version: vaultVersion, ClusterName: "coffer", ClusterID: a.clusterID(),
	})
	return nil
}

// healthStatus returns the status of the node: 200 active and unsealed,
// 503 sealed, 501 not initialized, each overridable by its code
// parameter. Every override must be a valid status.
func healthStatus(q url.Values, st service.SealStatus) (int, error) {
	status, code := http.StatusOK, "activecode"
	switch {
	case !st.Initialized:
		status, code = http.StatusNotImplemented, "uninitcode"
	case st.Sealed:
		status, code = http.StatusServiceUnavailable, "sealedcode"
	}
	for _, name := range healthCodes {
		s := q.Get(name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 200 || n > 599 {
			return 0, &requestError{Kind: errBadHealthCode, Msg: "bad code: " + s}
		}
		if name == code {
			status = n
		}
	}
	return status, nil
}

// sealStatusResponse is the body of sys/seal-status (vault-kv2.md 6.2).
type sealStatusResponse struct {
	Type         string `json:"type"`
	Initialized  bool   `json:"initialized"`
	Sealed       bool   `json:"sealed"`
	T            int    `json:"t"`
	N            int    `json:"n"`
	Progress     int    `json:"progress"`
	Nonce        string `json:"nonce"`
	Version      string `json:"version"`
	BuildDate    string `json:"build_date"`
	Migration    bool   `json:"migration"`
	ClusterName  string `json:"cluster_name"`
	ClusterID    string `json:"cluster_id"`
	RecoverySeal bool   `json:"recovery_seal"`
	StorageType  string `json:"storage_type"`
}

// sealStatus serves GET sys/seal-status (vault status), unauthenticated.
func (a *API) sealStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := a.svc.SealStatus(r.Context())
	if err != nil {
		return err
	}
	writePlain(w, http.StatusOK, a.sealStatusOf(st))
	return nil
}

// leaderResponse is the body of sys/leader (vault-kv2.md 6.2).
type leaderResponse struct {
	HAEnabled                 bool   `json:"ha_enabled"`
	IsSelf                    bool   `json:"is_self"`
	ActiveTime                string `json:"active_time"`
	LeaderAddress             string `json:"leader_address"`
	LeaderClusterAddress      string `json:"leader_cluster_address"`
	PerformanceStandby        bool   `json:"performance_standby"`
	PerformanceStandbyLastWAL int64  `json:"performance_standby_last_remote_wal"`
}

// leader serves GET sys/leader, which vault status needs to succeed.
func (a *API) leader(w http.ResponseWriter, r *http.Request, c *call) error {
	writePlain(w, http.StatusOK, leaderResponse{ActiveTime: "0001-01-01T00:00:00Z"})
	return nil
}

// clusterID is a stable id of the installation, derived from its default
// domain.
func (a *API) clusterID() string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("coffer:cluster:"+a.svc.DefaultDomain())).String()
}

// tokenLookup is the data of auth/token/lookup-self (vault-kv2.md 6.3).
// ESO needs type (not "batch"), a numeric ttl and expire_time present.
type tokenLookup struct {
	Accessor       string   `json:"accessor"`
	CreationTime   int64    `json:"creation_time"`
	CreationTTL    int64    `json:"creation_ttl"`
	DisplayName    string   `json:"display_name"`
	EntityID       string   `json:"entity_id"`
	ExpireTime     *string  `json:"expire_time"`
	ExplicitMaxTTL int64    `json:"explicit_max_ttl"`
	ID             string   `json:"id"`
	IssueTime      string   `json:"issue_time,omitempty"`
	Meta           any      `json:"meta"`
	NumUses        int      `json:"num_uses"`
	Orphan         bool     `json:"orphan"`
	Path           string   `json:"path"`
	Policies       []string `json:"policies"`
	Renewable      bool     `json:"renewable"`
	TTL            int64    `json:"ttl"`
	Type           string   `json:"type"`
}

// lookupSelf serves GET|POST auth/token/lookup-self.
func (a *API) lookupSelf(w http.ResponseWriter, r *http.Request, c *call) error {
	ti, err := a.svc.LookupToken(r.Context(), c.caller, c.token)
	if err != nil {
		return err
	}
	out := tokenLookup{
		Accessor: ti.Accessor, CreationTime: ti.CreatedAt.Unix(), DisplayName: ti.Name, ID: c.token, Meta: tokenMeta(ti),
		Orphan: !ti.Child, Path: "auth/token/create", Policies: policies(ti), TTL: int64(ti.TTL / time.Second), Type: "service",
	}
	if !ti.ExpiresAt.IsZero() {
		exp := ti.ExpiresAt.UTC().Format(time.RFC3339)
		out.ExpireTime, out.IssueTime = &exp, ti.CreatedAt.UTC().Format(time.RFC3339)
		out.CreationTTL = int64(ti.ExpiresAt.Sub(ti.CreatedAt) / time.Second)
	}
	return reply(w, r, c, out)
}

// authInfo is the auth member of a token create answer (vault-kv2.md 6.4);
// terraform uses client_token from then on.
type authInfo struct {
	ClientToken    string   `json:"client_token"`
	Accessor       string   `json:"accessor"`
	Policies       []string `json:"policies"`
	TokenPolicies  []string `json:"token_policies"`
	Metadata       any      `json:"metadata"`
	LeaseDuration  int64    `json:"lease_duration"`
	Renewable      bool     `json:"renewable"`
	EntityID       string   `json:"entity_id"`
	TokenType      string   `json:"token_type"`
	Orphan         bool     `json:"orphan"`
	MFARequirement any      `json:"mfa_requirement"`
	NumUses        int      `json:"num_uses"`
}

// createToken serves POST|PUT auth/token/create: a child token of the
// caller's token, with the requested ttl capped by explicit_max_ttl and by
// the parent's expiry; the other parameters are accepted and ignored.
func (a *API) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	opt, err := childTokenOptions(c.params)
	if err != nil {
		return err
	}
	tok, ti, err := a.svc.CreateChildToken(r.Context(), c.caller, c.token, opt)
	if err != nil {
		return err
	}
	env := newEnvelope(r, c.mount, nil, nil)
	env.Auth = &authInfo{ClientToken: tok, Accessor: ti.Accessor, Policies: policies(ti), TokenPolicies: policies(ti),
		LeaseDuration: int64(ti.TTL / time.Second), TokenType: "service"}
	writeJSON(w, http.StatusOK, env, true)
	return nil
}

func childTokenOptions(ps params) (service.ChildTokenOptions, error) {
	var opt service.ChildTokenOptions
	if v, ok := ps.value("display_name"); ok {
		opt.DisplayName, _ = v.(string)
	}
	for name, dst := range map[string]*time.Duration{"ttl": &opt.TTL, "explicit_max_ttl": &opt.MaxTTL} {
		vd, _, err := ps.duration(name)
		if err != nil {
			return opt, err
		}
		*dst = vd.d
	}
	return opt, nil
}

// revokeSelf serves POST|PUT auth/token/revoke-self: a child token is
// revoked with its own children; other tokens are revoked through the
// identity API.
func (a *API) revokeSelf(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.svc.RevokeChildToken(r.Context(), c.caller, c.token); err != nil {
		return err
	}
	return noContent(w)
}

// renewSelf serves POST|PUT auth/token/renew-self: no coffer token is
// renewable, and Vault answers a token without a renewable lease with
// "lease is not renewable" (its leaseEntry.renewable).
func (a *API) renewSelf(http.ResponseWriter, *http.Request, *call) error {
	return &requestError{Kind: errNotRenewable, Msg: "lease is not renewable"}
}

// policies names what a token may do in Vault's terms: "root" for the
// account root, otherwise the names of the IAM policies that apply to the
// identities it acts as (an empty list when none does).
func policies(ti service.TokenInfo) []string {
	if ti.Root {
		return []string{"root"}
	}
	if ti.Policies == nil {
		return []string{}
	}
	return ti.Policies
}

// tokenMeta is the meta map of a token lookup (vault-kv2.md 6.3): the
// identity URN the token acts as and, when it acts as more than one (a
// user and its group), all of them.
func tokenMeta(ti service.TokenInfo) map[string]string {
	switch len(ti.Identities) {
	case 0:
		return nil
	case 1:
		return map[string]string{"identity": ti.Identities[0]}
	}
	return map[string]string{"identity": ti.Identities[0], "identities": strings.Join(ti.Identities, ",")}
}
