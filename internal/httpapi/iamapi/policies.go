package iamapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// policyRequest is OVHcloud's iam.policy.Creation and iam.policy.Update
// (iam.md 4.1). The members the server sets (id, owner, readOnly,
// createdAt, updatedAt) are not part of it: sent back, they are unknown
// members like any other.
type policyRequest struct {
	Name              string              `json:"name"`
	Description       string              `json:"description"`
	Identities        []string            `json:"identities"`
	Resources         []urnRef            `json:"resources"`
	Permissions       *permissionsRequest `json:"permissions"`
	PermissionsGroups []urnRef            `json:"permissionsGroups"`
	// Conditions is kept raw: coffer refuses any that is not null.
	Conditions json.RawMessage `json:"conditions"`
	ExpiredAt  *string         `json:"expiredAt"`
}

// urnRef is a resource or a permissions group of a policy: {"urn": ...}.
type urnRef struct {
	URN string `json:"urn"`
}

type actionRef struct {
	Action string `json:"action"`
}

type permissionsRequest struct {
	Allow  []actionRef `json:"allow"`
	Except []actionRef `json:"except"`
	Deny   []actionRef `json:"deny"`
}

// fieldExpiredAt names expiredAt in problems; policy.Validate has no rule
// about it.
const fieldExpiredAt policy.Field = "expiredAt"

// policy converts the request. A malformed expiredAt is reported as a
// problem; the rest is policy.Validate's business.
func (q policyRequest) policy() (policy.Policy, policy.Problems) {
	p := policy.Policy{Name: q.Name, Description: q.Description, Identities: q.Identities}
	for _, r := range q.Resources {
		p.Resources = append(p.Resources, r.URN)
	}
	if q.Permissions != nil {
		p.Allow, p.Except, p.Deny = actions(q.Permissions.Allow), actions(q.Permissions.Except), actions(q.Permissions.Deny)
	}
	for _, g := range q.PermissionsGroups {
		p.PermissionsGroups = append(p.PermissionsGroups, g.URN)
	}
	// iam.md 4.1: conditions are refused, not ignored; null is absent.
	p.HasConditions = len(q.Conditions) > 0 && !bytes.Equal(bytes.TrimSpace(q.Conditions), []byte("null"))
	if q.ExpiredAt == nil {
		return p, nil
	}
	t, err := time.Parse(time.RFC3339, *q.ExpiredAt)
	if err != nil {
		return p, policy.Problems{{Field: fieldExpiredAt, Index: -1, Rule: policy.RuleInvalid,
			Reason: "must be an RFC 3339 date-time, e.g. 2030-01-01T00:00:00Z"}}
	}
	// Truncated so that the time shown is the time applied; it can only
	// end the policy earlier.
	t = t.UTC().Truncate(time.Second)
	p.ExpiredAt = &t
	return p, nil
}

func actions(rs []actionRef) []string {
	if rs == nil {
		return nil
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Action
	}
	return out
}

// decodePolicy reads a policy document with the rules of
// httpapi.DecodeJSON (size, one JSON value, valid UTF-8, no duplicate
// member) and coffer's strict ones: no unknown member. It returns every
// problem of the document at once as policy.Problems.
func decodePolicy(w http.ResponseWriter, r *http.Request) (policy.Policy, error) {
	var raw json.RawMessage
	if err := httpapi.DecodeJSON(w, r, &raw, false); err != nil {
		return policy.Policy{}, err
	}
	var req policyRequest
	if err := httpapi.Unmarshal(raw, &req, false); err != nil {
		return policy.Policy{}, err
	}
	ps := unknownMembers(raw, &req)
	if len(ps) == 0 {
		// unknownMembers found nothing, so this cannot fail; it stays as
		// the guard should the two ever disagree.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&policyRequest{}); err != nil {
			return policy.Policy{}, &httpapi.BodyError{Reason: "the policy has a member coffer does not know"}
		}
	}
	p, more := req.policy()
	if ps = append(ps, more...); len(ps) == 0 {
		return p, nil
	}
	if vps, ok := errors.AsType[policy.Problems](p.Validate()); ok {
		ps = append(ps, vps...)
	}
	return p, ps
}

// policyResponse is OVHcloud's iam.policy.Response, without conditions
// (coffer stores none).
type policyResponse struct {
	ID                string              `json:"id"`
	Name              string              `json:"name"`
	Description       string              `json:"description"`
	Identities        []string            `json:"identities"`
	Resources         []urnRef            `json:"resources"`
	Permissions       permissionsResponse `json:"permissions"`
	PermissionsGroups []urnRef            `json:"permissionsGroups"`
	ExpiredAt         *string             `json:"expiredAt"`
	CreatedAt         string              `json:"createdAt"`
	UpdatedAt         string              `json:"updatedAt"`
	ReadOnly          bool                `json:"readOnly"`
	Owner             string              `json:"owner"`
}

type permissionsResponse struct {
	Allow  []actionRef `json:"allow"`
	Except []actionRef `json:"except"`
	Deny   []actionRef `json:"deny"`
}

func toPolicy(p policy.Policy) policyResponse {
	out := policyResponse{
		ID: p.ID, Name: p.Name, Description: p.Description, Identities: p.Identities,
		Resources:         make([]urnRef, len(p.Resources)),
		Permissions:       permissionsResponse{Allow: toActions(p.Allow), Except: toActions(p.Except), Deny: toActions(p.Deny)},
		PermissionsGroups: []urnRef{},
		CreatedAt:         httpapi.TimeText(p.CreatedAt), UpdatedAt: httpapi.TimeText(p.UpdatedAt),
		ReadOnly: p.ReadOnly, Owner: p.Owner,
	}
	if out.Identities == nil {
		out.Identities = []string{}
	}
	for i, r := range p.Resources {
		out.Resources[i] = urnRef{URN: r}
	}
	if p.ExpiredAt != nil {
		out.ExpiredAt = httpapi.OptTimeText(*p.ExpiredAt)
	}
	return out
}

func toActions(as []string) []actionRef {
	out := make([]actionRef, len(as))
	for i, a := range as {
		out[i] = actionRef{Action: a}
	}
	return out
}

// listPolicies serves GET /v2/iam/policy: every policy, by name.
func (a *API) listPolicies(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	ps, err := a.svc.ListPolicies(r.Context(), c)
	if err == nil {
		ps, err = pageOf(w, r, a.svc, c, service.Listing{Kind: service.ListPolicies}, ps, func(p policy.Policy) string { return p.Name })
	}
	if err != nil {
		return err
	}
	out := make([]policyResponse, len(ps))
	for i, p := range ps {
		out[i] = toPolicy(p)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createPolicy serves POST /v2/iam/policy.
func (a *API) createPolicy(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	p, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	p, err = a.svc.CreatePolicy(r.Context(), c, p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toPolicy(p))
	return nil
}

// getPolicy serves GET /v2/iam/policy/{id}.
func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.begin(r, policyID)
	if err != nil {
		return err
	}
	p, err := a.svc.GetPolicy(r.Context(), c, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toPolicy(p))
	return nil
}

// updatePolicy serves PUT /v2/iam/policy/{id}: the document replaces the
// policy whole.
func (a *API) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.begin(r, policyID)
	if err != nil {
		return err
	}
	p, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	p.ID = id
	p, err = a.svc.UpdatePolicy(r.Context(), c, p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toPolicy(p))
	return nil
}

// deletePolicy serves DELETE /v2/iam/policy/{id}.
func (a *API) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.begin(r, policyID)
	if err != nil {
		return err
	}
	if err := a.svc.DeletePolicy(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
