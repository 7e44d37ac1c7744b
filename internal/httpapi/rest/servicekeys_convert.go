package rest

import (
	"encoding/base64"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// keyInput turns the body of POST /v1/servicekey into the service's input;
// the service validates it.
func keyInput(req api.CreateServiceKeyRequest) (service.KeyInput, error) {
	in := service.KeyInput{ID: deref(req.ID), Name: req.Name, Context: deref(req.Context), Type: deref(req.Type),
		Size: deref(req.Size), Curve: deref(req.Curve), Operations: req.Operations,
		ProtectionLevel: deref(req.ProtectionLevel), Extractable: req.Extractable}
	for _, j := range req.Keys {
		k, err := parseJWK(j)
		if err != nil {
			return in, err
		}
		in.Keys = append(in.Keys, k)
	}
	for _, w := range req.WrappedKeys {
		in.Wrapped = append(in.Wrapped, service.WrappedKeyInput{Format: w.KeyFormatType, WrappingKeyID: w.WrappingKeyID, Ciphertext: w.Ciphertext})
	}
	return in, nil
}

// parseJWK decodes an imported JWK's members.
func parseJWK(j api.JSONWebKey) (servicekey.JWK, error) {
	members := map[string]string{}
	for name, v := range map[string]string{"n": j.N, "e": j.E, "x": j.X, "y": j.Y, "k": j.K, "d": j.D,
		"p": j.P, "q": j.Q, "dp": j.DP, "dq": j.DQ, "qi": j.QI} {
		if v != "" {
			members[name] = v
		}
	}
	return servicekey.ParseJWK(j.Kty, j.Crv, j.KeyOps, members)
}

// toServiceKey renders a key for surface B: with its public part as a JWK
// (format jwk) or in PEM (format pem) when the view holds it, and its
// wrapped material on a wrapped export.
func toServiceKey(v service.KeyView, format string) api.ServiceKey {
	k := v.Key
	out := api.ServiceKey{
		ID: k.ID, Name: k.Name, Type: string(k.Type), Class: string(k.Class), Curve: string(k.Curve),
		Size: k.Size, ProtectionLevel: servicekey.ProtectionSoftware, Operations: usages(k.Usages),
		Attributes: api.ServiceKeyAttributes{
			State: k.State.String(), OriginalCreationDate: httpapi.TimeText(k.CreatedAt),
			ActivationDate: optTime(k.ActivatedAt), DeactivationDate: optTime(k.DeactivatedAt),
			CompromiseDate: optTime(k.CompromisedAt), DestructionDate: optTime(k.DestroyedAt),
			RevocationReason: string(k.Reason), Context: k.Context,
			Extractable: k.Extractable, NeverExtractable: k.NeverExtractable,
		},
	}
	if p := v.Public; p != nil {
		switch {
		case format == "pem" && p.PEM != "":
			out.KeysPEM = []api.PEMKey{{PEM: p.PEM}}
		case format == "jwk":
			out.Keys = []api.JSONWebKey{publicJWK(k, p)}
		}
	}
	for _, w := range v.Wrapped {
		out.WrappedKeys = append(out.WrappedKeys, api.WrappedKey{KeyFormatType: string(w.Format), WrappingKeyID: w.WrappingKeyID, Ciphertext: w.Ciphertext})
	}
	return out
}

// publicJWK is the public JWK of a key: kid is the key's id (okms-sdk-go's
// signer parses it as one), key_ops its usages; a symmetric key shows no
// material.
func publicJWK(k *servicekey.Key, p *servicekey.Public) api.JSONWebKey {
	enc := base64.RawURLEncoding.EncodeToString
	j := api.JSONWebKey{Kid: k.ID, Kty: string(k.Type), KeyOps: usages(k.Usages), Crv: string(p.Crv)}
	if p.N != nil {
		j.N, j.E = enc(p.N), enc(p.E)
	}
	if p.X != nil {
		j.X, j.Y = enc(p.X), enc(p.Y)
	}
	return j
}

func usages(u servicekey.Usages) []string {
	l := u.List()
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = string(x)
	}
	return out
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := httpapi.TimeText(t)
	return &s
}

// signInput parses a sign request and its format query parameter.
func signInput(req api.SignRequest, format string) (servicekey.SignInput, error) {
	alg, aerr := servicekey.ParseAlgorithm(req.Alg)
	f, ferr := servicekey.ParseSignatureFormat(format)
	var merr error
	var msg []byte
	if req.Message == "" {
		merr = servicekey.Required("message")
	} else {
		msg, merr = httpapi.DecodeBase64(servicekey.FieldMessage, "message", req.Message)
	}
	if err := servicekey.Join(merr, aerr, ferr); err != nil {
		return servicekey.SignInput{}, err
	}
	return servicekey.SignInput{Alg: alg, Message: msg, IsDigest: deref(req.IsDigest), Format: f}, nil
}

// verifyInput parses a verify request; alg may be absent for a JWS.
func verifyInput(req api.VerifyRequest) (servicekey.VerifyInput, error) {
	in := servicekey.VerifyInput{Signature: req.Signature, IsDigest: deref(req.IsDigest)}
	var aerr, merr error
	if req.Alg != nil {
		in.Alg, aerr = servicekey.ParseAlgorithm(*req.Alg)
	}
	if req.Message != nil {
		in.Message, merr = httpapi.DecodeBase64(servicekey.FieldMessage, "message", *req.Message)
	}
	return in, servicekey.Join(aerr, merr)
}
