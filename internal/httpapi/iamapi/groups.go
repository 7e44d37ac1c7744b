package iamapi

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// groupRequest is OVHcloud's auth.GroupRequest (POST) and the members of
// auth.Group a PUT may change; name is read on POST only. A group created
// without a role has the role NONE. Absent or null members are left
// unchanged on PUT.
type groupRequest struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Role        *string `json:"role"`
}

func (q groupRequest) input(name string) service.GroupInput {
	return service.GroupInput{Name: name, Description: q.Description, Role: q.Role}
}

// groupResponse is OVHcloud's auth.Group.
type groupResponse struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Role        string `json:"role"`
	URN         string `json:"urn"`
	Creation    string `json:"creation"`
	LastUpdate  string `json:"lastUpdate"`
	// DefaultGroup is always false: coffer has no built-in groups.
	DefaultGroup bool `json:"defaultGroup"`
}

func toGroup(g service.Group) groupResponse {
	return groupResponse{Name: g.Name, Description: g.Description, Role: g.Role, URN: g.URN,
		Creation: httpapi.TimeText(g.CreatedAt), LastUpdate: httpapi.TimeText(g.UpdatedAt)}
}

// listGroups serves GET /1.0/me/identity/group: the names, as OVHcloud
// answers.
func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	gs, err := a.svc.ListGroups(r.Context(), c)
	if err == nil {
		gs, err = pageOf(w, r, a.svc, c, service.Listing{Kind: service.ListGroups}, gs, func(g service.Group) string { return g.Name })
	}
	if err != nil {
		return err
	}
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createGroup serves POST /1.0/me/identity/group.
func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req groupRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	g, err := a.svc.CreateGroup(r.Context(), c, req.input(req.Name))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toGroup(g))
	return nil
}

// getGroup serves GET /1.0/me/identity/group/{name}.
func (a *API) getGroup(w http.ResponseWriter, r *http.Request) error {
	c, n, err := a.begin(r, groupName)
	if err != nil {
		return err
	}
	g, err := a.svc.GetGroup(r.Context(), c, n)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toGroup(g))
	return nil
}

// updateGroup serves PUT /1.0/me/identity/group/{name}.
func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) error {
	c, n, err := a.begin(r, groupName)
	if err != nil {
		return err
	}
	var req groupRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	g, err := a.svc.UpdateGroup(r.Context(), c, req.input(n))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toGroup(g))
	return nil
}

// deleteGroup serves DELETE /1.0/me/identity/group/{name}; a group with
// members cannot be deleted.
func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	c, n, err := a.begin(r, groupName)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteGroup(r.Context(), c, n); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
