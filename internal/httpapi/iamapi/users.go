package iamapi

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// userRequest is OVHcloud's auth.UserRequest (POST) and the members of
// auth.User a PUT may change; login is read on POST only. Absent or null
// members are left unchanged on PUT.
type userRequest struct {
	Login       string  `json:"login"`
	Description *string `json:"description"`
	Email       *string `json:"email"`
	Group       *string `json:"group"`
	Password    *string `json:"password"`
}

// String and GoString keep the password out of any formatted output.
func (q userRequest) String() string {
	return "userRequest{login: " + q.Login + ", password: <redacted>}"
}
func (q userRequest) GoString() string { return q.String() }

// input converts the request for the user login. An empty password is no
// password: terraform-provider-ovh sends "password": "" when none is set,
// and coffer refuses passwords shorter than 12 characters anyway.
func (q userRequest) input(login string) service.UserInput {
	in := service.UserInput{Login: login, Description: q.Description, Email: q.Email, Group: q.Group, Password: q.Password}
	if in.Password != nil && *in.Password == "" {
		in.Password = nil
	}
	return in
}

// userResponse is OVHcloud's auth.User without the members coffer has no
// value for (groups, type, passwordLastUpdate: coffer does not record when
// a password was set). It never holds a password.
type userResponse struct {
	Login       string `json:"login"`
	Description string `json:"description"`
	Email       string `json:"email"`
	Group       string `json:"group"`
	URN         string `json:"urn"`
	Creation    string `json:"creation"`
	LastUpdate  string `json:"lastUpdate"`
	// Status is always OK: coffer cannot disable a user (OVHcloud's other
	// values are DISABLED and PASSWORD_CHANGE_REQUIRED).
	Status string `json:"status"`
}

func toUser(u service.User) userResponse {
	return userResponse{Login: u.Login, Description: u.Description, Email: u.Email, Group: u.Group, URN: u.URN,
		Creation: httpapi.TimeText(u.CreatedAt), LastUpdate: httpapi.TimeText(u.UpdatedAt), Status: "OK"}
}

// listUsers serves GET /1.0/me/identity/user: the logins, as OVHcloud
// answers.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	us, err := a.svc.ListUsers(r.Context(), c)
	if err == nil {
		us, err = pageOf(w, r, a.svc, c, service.Listing{Kind: service.ListUsers}, us, func(u service.User) string { return u.Login })
	}
	if err != nil {
		return err
	}
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Login
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createUser serves POST /1.0/me/identity/user.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req userRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), c, req.input(req.Login))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toUser(u))
	return nil
}

// getUser serves GET /1.0/me/identity/user/{login}.
func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return err
	}
	u, err := a.svc.GetUser(r.Context(), c, login)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toUser(u))
	return nil
}

// updateUser serves PUT /1.0/me/identity/user/{login}.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return err
	}
	var req userRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(r.Context(), c, req.input(login))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toUser(u))
	return nil
}

// deleteUser serves DELETE /1.0/me/identity/user/{login}; the user's
// tokens are revoked with it.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteUser(r.Context(), c, login); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
