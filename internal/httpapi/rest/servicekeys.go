package rest

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// The service key routes of surface B (the OKMS swagger v2.17.0,
// /api/{okmsId}/v1/servicekey and /v1/random). They live beside the Vault
// KV v2 routes under /v1/: HasKeyPrefix tells the server which requests
// are theirs.

// HasKeyPrefix reports whether p is a path of the service key routes:
// /api/{okmsId}/v1/servicekey[/...] or /api/{okmsId}/v1/random.
func HasKeyPrefix(p string) bool {
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return false
	}
	rest = rest[i:]
	return rest == "/v1/servicekey" || strings.HasPrefix(rest, "/v1/servicekey/") || rest == "/v1/random"
}

// keyRoutes registers the service key routes.
func (a *API) keyRoutes() {
	const base = "/api/{okmsId}/v1/servicekey"
	const key = base + "/{keyId}"
	a.handle("GET "+base, a.listServiceKeys)
	a.handle("POST "+base, a.createServiceKey)
	a.handle(base, httpapi.NotAllowed)
	a.handle("GET "+key, a.getServiceKey)
	a.handle("PATCH "+key, a.updateServiceKey)
	a.handle("DELETE "+key, a.deleteServiceKey)
	a.handle(key, httpapi.NotAllowed)
	for _, op := range []struct {
		name string
		h    httpapi.Handler
	}{
		{"activate", a.activateServiceKey}, {"deactivate", a.deactivateServiceKey},
		{"encrypt", a.encrypt}, {"decrypt", a.decrypt}, {"datakey", a.generateDataKey},
		{"datakey/decrypt", a.decryptDataKey}, {"sign", a.sign}, {"verify", a.verify},
	} {
		a.handle("POST "+key+"/"+op.name, op.h)
		a.handle(key+"/"+op.name, httpapi.NotAllowed)
	}
	a.handle("GET /api/{okmsId}/v1/random", a.random)
	a.handle("/api/{okmsId}/v1/random", httpapi.NotAllowed)
}

// beginKey authenticates the caller of a route on one key.
func (a *API) beginKey(r *http.Request) (string, service.Caller, string, error) {
	domain, c, err := a.begin(r)
	return domain, c, r.PathValue("keyId"), err
}

// listServiceKeys serves GET /v1/servicekey: a page of keys, filtered by
// state and by serviceKey/get, with a continuation token.
func (a *API) listServiceKeys(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	q := httpapi.Query(r)
	size, err := maxQuery(q.Get("max"))
	if err != nil {
		return err
	}
	// The continuation token is the service's opaque cursor (cursors.go).
	page, err := a.svc.ListServiceKeys(r.Context(), c, domain,
		service.KeyListOptions{State: q.Get("state"), Cursor: q.Get("continuation-token"), Limit: size})
	if err != nil {
		return err
	}
	out := api.ListServiceKeysResponse{ObjectsList: make([]api.ServiceKey, len(page.Items))}
	for i, k := range page.Items {
		out.ObjectsList[i] = toServiceKey(service.KeyView{Key: k}, "")
	}
	if page.Next != "" {
		out.ContinuationToken, out.IsTruncated = page.Next, true
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// maxQuery parses the max query parameter: any positive integer, clamped
// to 10..100 as page sizes are (okms-rest.md 7); 100 when absent.
func maxQuery(s string) (int, error) {
	if s == "" {
		return httpapi.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &httpapi.QueryError{Msg: "max must be a positive integer (10 to 100)"}
	}
	return min(max(n, httpapi.MinPageSize), httpapi.MaxPageSize), nil
}

// keyFormat parses the format query parameter of a key read: jwk or pem
// (any case), "" when absent.
func keyFormat(r *http.Request) (string, error) {
	f := strings.ToLower(httpapi.Query(r).Get("format"))
	if f != "" && f != "jwk" && f != "pem" {
		return "", &httpapi.QueryError{Msg: "format must be jwk or pem"}
	}
	return f, nil
}

// createServiceKey serves POST /v1/servicekey: generate, import or
// wrapped import (201).
func (a *API) createServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	format, err := keyFormat(r)
	if err != nil {
		return err
	}
	var req api.CreateServiceKeyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	in, err := keyInput(req)
	if err != nil {
		return err
	}
	in.Public = format != ""
	v, err := a.svc.CreateServiceKey(r.Context(), c, domain, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, toServiceKey(v, format))
	return nil
}

// getServiceKey serves GET /v1/servicekey/{keyId}: metadata, the public
// key with format=jwk|pem, or a wrapped export with wrappingKeyId.
func (a *API) getServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	format, err := keyFormat(r)
	if err != nil {
		return err
	}
	opt, err := getOptions(r, format)
	if err != nil {
		return err
	}
	v, err := a.svc.GetServiceKey(r.Context(), c, domain, id, opt)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toServiceKey(v, format))
	return nil
}

// getOptions reads a key read's query: format for the public key, or the
// three parameters of a wrapped export, which go together.
func getOptions(r *http.Request, format string) (service.KeyGetOptions, error) {
	q := httpapi.Query(r)
	if !q.Has("wrappingKeyId") {
		if q.Has("wrappedKeyFormat") || q.Has("wrappingAlgorithm") {
			return service.KeyGetOptions{}, &httpapi.QueryError{Msg: "wrappedKeyFormat and wrappingAlgorithm need wrappingKeyId"}
		}
		return service.KeyGetOptions{Public: format != ""}, nil
	}
	return service.KeyGetOptions{Export: &service.KeyExport{WrappingKeyID: q.Get("wrappingKeyId"),
		Format: q.Get("wrappedKeyFormat"), Algorithm: q.Get("wrappingAlgorithm")}}, nil
}

// updateServiceKey serves PATCH /v1/servicekey/{keyId}: name, extractable.
func (a *API) updateServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.UpdateServiceKeyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	k, err := a.svc.UpdateServiceKey(r.Context(), c, domain, id, service.KeyChange{Name: req.Name, Extractable: req.Extractable})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toServiceKey(service.KeyView{Key: k}, ""))
	return nil
}

// deleteServiceKey serves DELETE /v1/servicekey/{keyId} (204).
func (a *API) deleteServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteServiceKey(r.Context(), c, domain, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// activateServiceKey serves POST .../activate (204; a body is ignored).
func (a *API) activateServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	if _, err := a.svc.UpdateServiceKey(r.Context(), c, domain, id, service.KeyChange{Activate: true}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deactivateServiceKey serves POST .../deactivate with a reason (204).
func (a *API) deactivateServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.DeactivateServiceKeyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if _, err := a.svc.UpdateServiceKey(r.Context(), c, domain, id, service.KeyChange{Deactivate: &req.Reason}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// encrypt serves POST .../encrypt.
func (a *API) encrypt(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.EncryptRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	p, err := httpapi.DecodeBase64(servicekey.FieldPlaintext, "plaintext", req.Plaintext)
	if err != nil {
		return err
	}
	ct, err := a.svc.Encrypt(r.Context(), c, domain, id, servicekey.MaterialOf(p), deref(req.Context))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.EncryptResponse{Ciphertext: ct})
	return nil
}

// decrypt serves POST .../decrypt.
func (a *API) decrypt(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.DecryptRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	p, err := a.svc.Decrypt(r.Context(), c, domain, id, req.Ciphertext, deref(req.Context))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.DecryptResponse{Plaintext: base64.StdEncoding.EncodeToString(p.Bytes())})
	return nil
}

// generateDataKey serves POST .../datakey (201).
func (a *API) generateDataKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.GenerateDataKeyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	dk, err := a.svc.GenerateDataKey(r.Context(), c, domain, id, req.Size, deref(req.Name))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, api.GenerateDataKeyResponse{Key: dk.Blob,
		Plaintext: base64.StdEncoding.EncodeToString(dk.Plaintext.Bytes())})
	return nil
}

// decryptDataKey serves POST .../datakey/decrypt.
func (a *API) decryptDataKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.DecryptDataKeyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	p, err := a.svc.DecryptDataKey(r.Context(), c, domain, id, req.Key)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.DecryptDataKeyResponse{Plaintext: base64.StdEncoding.EncodeToString(p.Bytes())})
	return nil
}

// sign serves POST .../sign?format=raw|jws|jwt.
func (a *API) sign(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.SignRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	in, err := signInput(req, httpapi.Query(r).Get("format"))
	if err != nil {
		return err
	}
	sig, err := a.svc.Sign(r.Context(), c, domain, id, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.SignResponse{Signature: sig})
	return nil
}

// verify serves POST .../verify.
func (a *API) verify(w http.ResponseWriter, r *http.Request) error {
	domain, c, id, err := a.beginKey(r)
	if err != nil {
		return err
	}
	var req api.VerifyRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	in, err := verifyInput(req)
	if err != nil {
		return err
	}
	ok, err := a.svc.Verify(r.Context(), c, domain, id, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.VerifyResponse{Result: ok})
	return nil
}

// random serves GET /v1/random?length=N (1 by default).
func (a *API) random(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	n := 1
	if s := httpapi.Query(r).Get("length"); s != "" {
		if n, err = strconv.Atoi(s); err != nil {
			return &httpapi.QueryError{Msg: "length must be an integer between 1 and 4096"}
		}
	}
	b, err := a.svc.Random(r.Context(), c, domain, n)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.RandomResponse{Bytes: base64.StdEncoding.EncodeToString(b)})
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
