package transit

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// A crypto route reads its items from batch_input, or the one item from
// the top-level parameters; an item whose parameters do not parse fails
// alone. Answers: the item's result, or for a batch {"batch_results":
// [...]} where a failed item is {"error": "..."}; any failed item makes
// the batch a 400 (or partial_failure_response_code when some succeed),
// as in Vault.

// itemParser fills one service item from its parameters.
type itemParser func(p params, it *service.TransitItem) error

// itemResult is the JSON of one item's result.
type itemResult func(it *service.TransitItem) map[string]any

// batch parses the items of c, runs call on those that parsed, and writes
// the answer.
func (a *API) batch(w http.ResponseWriter, r *http.Request, c *call, parse itemParser,
	call func(items []service.TransitItem) error, result itemResult) error {
	inputs, err := c.params.batch()
	if err != nil {
		return err
	}
	single := inputs == nil
	if single {
		inputs = []params{c.params}
	}
	if len(inputs) > service.MaxTransitBatch {
		return badInput("batch_input has more than %d items", service.MaxTransitBatch)
	}
	items := make([]service.TransitItem, len(inputs))
	parseErrs := make([]error, len(inputs))
	var valid []service.TransitItem
	var index []int
	for i, p := range inputs {
		if parseErrs[i] = parse(p, &items[i]); parseErrs[i] == nil {
			valid = append(valid, items[i])
			index = append(index, i)
		}
	}
	if single && parseErrs[0] != nil {
		return parseErrs[0]
	}
	if len(valid) > 0 {
		if err := call(valid); err != nil {
			return keyMissing(err)
		}
		for j, i := range index {
			items[i] = valid[j]
		}
	}
	if single {
		if items[0].Err != nil {
			return keyMissing(items[0].Err)
		}
		return c.reply(w, r, result(&items[0]))
	}
	results := make([]map[string]any, len(items))
	failed, succeeded := false, false
	for i := range items {
		err := parseErrs[i]
		if err == nil {
			err = items[i].Err
		}
		if err != nil {
			failed = true
			results[i] = map[string]any{"error": itemError(err)}
		} else {
			succeeded = true
			results[i] = result(&items[i])
		}
		if ref, _ := inputs[i].str("reference"); ref != "" {
			results[i]["reference"] = ref
		}
	}
	status := http.StatusOK
	if failed {
		status = http.StatusBadRequest
		if code, ok, _ := c.params.uint("partial_failure_response_code", 599); ok && succeeded && code >= 200 {
			status = int(code)
		}
	}
	vaultwire.WriteJSON(w, status, vaultwire.NewEnvelope(r, "transit", map[string]any{"batch_results": results}, c.warnings(nil)), true)
	return nil
}

// context reads an item's context (or associated_data): base64.
func itemContext(p params, it *service.TransitItem) error {
	b, ok, err := p.b64("context")
	if err != nil {
		return err
	}
	if !ok {
		if b, _, err = p.b64("associated_data"); err != nil {
			return err
		}
	}
	it.Context = b
	return nil
}

func itemVersion(p params, it *service.TransitItem) error {
	v, _, err := p.uint("key_version", servicekey.MaxVersions)
	it.KeyVersion = uint32(v)
	return err
}

// withTop gives an item the top-level context and key_version it
// does not set itself.
func withTop(c *call, parse itemParser) itemParser {
	return func(p params, it *service.TransitItem) error {
		if err := parse(p, it); err != nil {
			return err
		}
		if it.Context == nil {
			var top service.TransitItem
			if itemContext(c.params, &top) == nil {
				it.Context = top.Context
			}
		}
		if it.KeyVersion == 0 {
			var top service.TransitItem
			if itemVersion(c.params, &top) == nil {
				it.KeyVersion = top.KeyVersion
			}
		}
		return nil
	}
}

func parsePlaintext(p params, it *service.TransitItem) error {
	b, ok, err := p.b64("plaintext")
	if err != nil {
		return err
	}
	if !ok {
		return badInput("missing plaintext to encrypt")
	}
	it.Plaintext = servicekey.MaterialOf(b)
	if err := itemContext(p, it); err != nil {
		return err
	}
	return itemVersion(p, it)
}

func parseCiphertext(p params, it *service.TransitItem) error {
	s, err := p.str("ciphertext")
	if err != nil {
		return err
	}
	if s == "" {
		return badInput("missing ciphertext to decrypt")
	}
	it.Ciphertext = s
	if err := itemContext(p, it); err != nil {
		return err
	}
	return itemVersion(p, it)
}

func cipherResult(it *service.TransitItem) map[string]any {
	return map[string]any{"ciphertext": it.Value, "key_version": it.Version}
}

func (a *API) encrypt(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.batch(w, r, c, withTop(c, parsePlaintext), func(items []service.TransitItem) error {
		return a.svc.TransitEncrypt(r.Context(), c.caller, c.domain, c.name(), items)
	}, cipherResult)
}

func (a *API) decrypt(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.batch(w, r, c, withTop(c, parseCiphertext), func(items []service.TransitItem) error {
		return a.svc.TransitDecrypt(r.Context(), c.caller, c.domain, c.name(), items)
	}, func(it *service.TransitItem) map[string]any {
		return map[string]any{"plaintext": base64.StdEncoding.EncodeToString(it.Output.Bytes())}
	})
}

func (a *API) rewrap(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.batch(w, r, c, withTop(c, parseCiphertext), func(items []service.TransitItem) error {
		return a.svc.TransitRewrap(r.Context(), c.caller, c.domain, c.name(), items)
	}, cipherResult)
}

func (a *API) datakey(w http.ResponseWriter, r *http.Request, c *call) error {
	kind, name := c.vars[0], c.vars[1]
	if kind != "plaintext" && kind != "wrapped" {
		return badInput("invalid type %q: plaintext or wrapped", kind)
	}
	bits, ok, err := c.params.uint("bits", 4096)
	if err != nil {
		return err
	}
	if !ok {
		bits = 256
	}
	var it service.TransitItem
	if err := itemContext(c.params, &it); err != nil {
		return err
	}
	if err := itemVersion(c.params, &it); err != nil {
		return err
	}
	if err := a.svc.TransitDataKey(r.Context(), c.caller, c.domain, name, int(bits), &it); err != nil {
		return keyMissing(err)
	}
	out := map[string]any{"ciphertext": it.Value, "key_version": it.Version}
	if kind == "plaintext" {
		out["plaintext"] = base64.StdEncoding.EncodeToString(it.Output.Bytes())
	}
	return c.reply(w, r, out)
}

// signOptions reads the hash (path, else hash_algorithm or algorithm),
// prehashed, signature_algorithm and marshaling_algorithm.
func signOptions(c *call) (service.TransitSignOptions, error) {
	var o service.TransitSignOptions
	h := c.vars[len(c.vars)-1]
	if h == "" {
		var err error
		if h, err = c.params.str("hash_algorithm"); err != nil {
			return o, err
		}
		if h == "" {
			h, _ = c.params.str("algorithm")
		}
	}
	var err error
	if o.Hash, err = servicekey.ParseHash(h); err != nil {
		return o, err
	}
	if o.Prehashed, err = c.params.boolean("prehashed"); err != nil {
		return o, err
	}
	switch s, _ := c.params.str("signature_algorithm"); s {
	case "", "pss":
	case "pkcs1v15":
		o.PKCS1v15 = true
	default:
		return o, badInput("unsupported signature_algorithm %q: pss or pkcs1v15", s)
	}
	switch m, _ := c.params.str("marshaling_algorithm"); m {
	case "", "asn1":
	case "jws":
		o.JWS = true
	default:
		return o, badInput("unsupported marshaling_algorithm %q: asn1 or jws", m)
	}
	return o, nil
}

func parseInput(p params, it *service.TransitItem) error {
	b, ok, err := p.b64("input")
	if err != nil {
		return err
	}
	if !ok {
		return badInput("missing input")
	}
	it.Input = b
	return itemVersion(p, it)
}

func (a *API) sign(w http.ResponseWriter, r *http.Request, c *call) error {
	opt, err := signOptions(c)
	if err != nil {
		return err
	}
	return a.batch(w, r, c, withTop(c, parseInput), func(items []service.TransitItem) error {
		return a.svc.TransitSign(r.Context(), c.caller, c.domain, c.name(), opt, items)
	}, func(it *service.TransitItem) map[string]any {
		return map[string]any{"signature": it.Value, "key_version": it.Version}
	})
}

// verify checks signatures, or HMACs when the items carry hmac.
func (a *API) verify(w http.ResponseWriter, r *http.Request, c *call) error {
	opt, err := signOptions(c)
	if err != nil {
		return err
	}
	isHMAC := false
	if _, ok := c.params.raw("hmac"); ok {
		isHMAC = true
	}
	if inputs, _ := c.params.batch(); len(inputs) > 0 {
		if _, ok := inputs[0].raw("hmac"); ok {
			isHMAC = true
		}
	}
	parse := func(p params, it *service.TransitItem) error {
		if err := parseInput(p, it); err != nil {
			return err
		}
		sig, err := p.str("signature")
		if err != nil {
			return err
		}
		mac, err := p.str("hmac")
		if err != nil {
			return err
		}
		switch {
		case sig != "" && mac != "":
			return badInput("provide one of 'signature' or 'hmac'")
		case isHMAC && mac == "":
			return badInput("missing hmac")
		case !isHMAC && sig == "":
			return badInput("missing signature")
		}
		it.Signature, it.HMAC = sig, mac
		return nil
	}
	result := func(it *service.TransitItem) map[string]any { return map[string]any{"valid": it.Valid} }
	return a.batch(w, r, c, parse, func(items []service.TransitItem) error {
		if isHMAC {
			return a.svc.TransitVerifyHMAC(r.Context(), c.caller, c.domain, c.name(), opt.Hash, items)
		}
		return a.svc.TransitVerify(r.Context(), c.caller, c.domain, c.name(), opt, items)
	}, result)
}

func (a *API) hmac(w http.ResponseWriter, r *http.Request, c *call) error {
	opt, err := signOptions(c)
	if err != nil {
		return err
	}
	return a.batch(w, r, c, withTop(c, parseInput), func(items []service.TransitItem) error {
		return a.svc.TransitHMAC(r.Context(), c.caller, c.domain, c.name(), opt.Hash, items)
	}, func(it *service.TransitItem) map[string]any {
		return map[string]any{"hmac": it.Value, "key_version": it.Version}
	})
}

// encodeOutput writes bytes as base64 (default) or hex.
func encodeOutput(c *call, b []byte, def string) (string, error) {
	f, err := c.params.str("format")
	if err != nil {
		return "", err
	}
	if f == "" {
		f = def
	}
	switch f {
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	case "hex":
		return hex.EncodeToString(b), nil
	}
	return "", badInput("unsupported encoding format %q; must be \"hex\" or \"base64\"", f)
}

// random serves random[/<source>][/<bytes>]: a number alone in first
// position is the byte count, as in Vault.
func (a *API) random(w http.ResponseWriter, r *http.Request, c *call) error {
	source, count := c.vars[0], c.vars[1]
	if count == "" {
		if _, err := strconv.Atoi(source); err == nil {
			source, count = "", source
		}
	}
	switch source {
	case "", "platform", "seal", "all":
	default:
		return badInput("unsupported entropy source %q; must be \"platform\" or \"seal\", or \"all\"", source)
	}
	n := 32
	if count != "" {
		v, err := strconv.Atoi(count)
		if err != nil {
			return badInput("unable to parse bytes as integer")
		}
		n = v
	} else if v, ok, err := c.params.uint("bytes", 1<<20); err != nil {
		return err
	} else if ok {
		n = int(v)
	}
	b, err := a.svc.Random(r.Context(), c.caller, c.domain, n)
	if err != nil {
		return err
	}
	out, err := encodeOutput(c, b, "base64")
	if err != nil {
		return err
	}
	return c.reply(w, r, map[string]string{"random_bytes": out})
}

func (a *API) hash(w http.ResponseWriter, r *http.Request, c *call) error {
	alg := c.vars[0]
	if alg == "" {
		alg, _ = c.params.str("algorithm")
	}
	h, err := servicekey.ParseHash(alg)
	if err != nil {
		return err
	}
	in, ok, err := c.params.b64("input")
	if err != nil {
		return err
	}
	if !ok {
		return badInput("missing input")
	}
	sum, err := a.svc.TransitHash(h, in)
	if err != nil {
		return err
	}
	out, err := encodeOutput(c, sum, "hex")
	if err != nil {
		return err
	}
	return c.reply(w, r, map[string]string{"sum": out})
}
