package rest

import (
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
		k, err := httpapi.ParseJWK(httpapi.JWKFields(j))
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

// toServiceKey renders a key for surface B: with its public part as a JWK
// (format jwk) or in PEM (format pem) when the view holds it, and its
// wrapped material on a wrapped export.
func toServiceKey(v service.KeyView, format string) api.ServiceKey {
	k := v.Key
	out := api.ServiceKey{
		ID: k.ID, Name: k.Name, Type: string(k.Type), Class: string(k.Class), Curve: string(k.Curve),
		Size: k.Size, ProtectionLevel: servicekey.ProtectionSoftware, Operations: httpapi.UsageNames(k.Usages),
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
			out.Keys = []api.JSONWebKey{api.JSONWebKey(httpapi.PublicJWK(k, p))}
		}
	}
	for _, w := range v.Wrapped {
		out.WrappedKeys = append(out.WrappedKeys, api.WrappedKey{KeyFormatType: string(w.Format), WrappingKeyID: w.WrappingKeyID, Ciphertext: w.Ciphertext})
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
