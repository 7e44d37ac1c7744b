package webui

import (
	"net/http"
	"strings"
)

// apiData is the API page of a domain: where and how clients reach it,
// as OVHcloud's domain dashboard gives the regional endpoint and the
// Swagger link (okms-rest.md 5.3: restEndpoint, swaggerEndpoint).
type apiData struct {
	DomainID     string
	RestEndpoint string // surface A and the regional API, as the domain's restEndpoint
	VaultAddr    string // surface C for this domain: …/api/{okmsId}
	Docs         string // the OpenAPI page (swaggerEndpoint)
	HasCA        bool   // clients must trust the installation CA, downloadable
	CAFlag       string // " --ca ca.pem" or ""
	VaultCACert  bool
	TLS          bool
}

// api shows a domain's endpoints and how to use them from the okms CLI,
// the Vault CLI and External Secrets Operator, each with a copy button.
// Nothing on it is secret: no token, no value.
func (u *UI) api(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	dom, err := u.domainOf(r, rc, r.PathValue("okms"))
	if err != nil {
		return err
	}
	base := u.publicURL
	d := apiData{DomainID: dom.ID, RestEndpoint: base, VaultAddr: base + "/api/" + dom.ID, Docs: base + "/docs",
		HasCA: u.publicCA != "", TLS: strings.HasPrefix(base, "https://")}
	if d.HasCA {
		d.CAFlag = " --ca ca.pem"
	}
	u.render(w, r, rc, http.StatusOK, "api", &view{Title: "API access", Section: "api", Domain: &dom, Data: d})
	return nil
}

// caPEM sends the CA clients must trust for coffer's TLS certificate,
// the domains' publicCA (public: no secret in it).
func (u *UI) caPEM(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if u.publicCA == "" {
		return errNotFound
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="ca.pem"`)
	_, _ = w.Write([]byte(u.publicCA))
	return nil
}
