"""hvac against coffer's Transit surface: drives a coffer server with python
hvac (Debian's python3-hvac), as a user of that client would, and prints one
line per check, plus "ENVELOPE <name> <json>" lines with the response
envelopes, which TestHvac compares with goldens. Run by TestHvac
(hvac_test.go) with COFFER_ADDR (the VAULT_ADDR, with or without
/api/{okmsId}) and COFFER_TOKEN. Exit status 0 when every check passed.
"""

import base64
import json
import os
import sys

import hvac
import requests
from hvac import exceptions

ADDR = os.environ["COFFER_ADDR"]
TOKEN = os.environ["COFFER_TOKEN"]

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


def envelope(name, resp):
    print("ENVELOPE " + name + " " + json.dumps(resp, sort_keys=True, separators=(",", ":")))


def b64(s):
    return base64.b64encode(s.encode()).decode()


def main():
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for 127.0.0.1
    c = hvac.Client(url=ADDR, token=TOKEN, session=session)
    tr = c.secrets.transit

    r = tr.create_key(name="hv-aes", key_type="aes256-gcm96")
    envelope("create_key", r)
    check("create_key", r["data"]["type"] == "aes256-gcm96", r)
    tr.create_key(name="hv-ec", key_type="ecdsa-p384")
    r = tr.read_key(name="hv-aes")
    check("read_key", r["data"]["latest_version"] == 1 and r["data"]["name"] == "hv-aes", r)
    r = tr.list_keys()
    envelope("list_keys", r)
    check("list_keys", r["data"]["keys"] == ["hv-aes", "hv-ec"], r)

    r = tr.encrypt_data(name="hv-aes", plaintext=b64("secret one"), context=b64("ctx"))
    envelope("encrypt", r)
    ct = r["data"]["ciphertext"]
    check("encrypt", ct.startswith("vault:v1:"), r)
    r = tr.decrypt_data(name="hv-aes", ciphertext=ct, context=b64("ctx"))
    envelope("decrypt", r)
    check("decrypt", r["data"]["plaintext"] == b64("secret one"), r)

    batch = [{"plaintext": b64("a"), "reference": "r1"}, {"plaintext": b64("b"), "context": b64("c2")}]
    r = tr.encrypt_data(name="hv-aes", plaintext=None, batch_input=batch)
    envelope("encrypt_batch", r)
    results = r["data"]["batch_results"]
    check("encrypt batch_input", len(results) == 2 and results[0]["reference"] == "r1", r)
    dbatch = [{"ciphertext": results[0]["ciphertext"]}, {"ciphertext": results[1]["ciphertext"], "context": b64("c2")}]
    r = tr.decrypt_data(name="hv-aes", ciphertext=None, batch_input=dbatch)
    envelope("decrypt_batch", r)
    check("decrypt batch_input", [x["plaintext"] for x in r["data"]["batch_results"]] == [b64("a"), b64("b")], r)
    try:
        tr.decrypt_data(name="hv-aes", ciphertext=None, batch_input=[{"ciphertext": "vault:v1:AAAA"}])
        check("a failing batch item raises", False, "no exception")
    except exceptions.InvalidRequest as e:
        check("a failing batch item raises InvalidRequest", "invalid ciphertext" in str(e), e)

    tr.rotate_key(name="hv-aes")
    r = tr.rewrap_data(name="hv-aes", ciphertext=ct, context=b64("ctx"))
    envelope("rewrap", r)
    check("rewrap to v2", r["data"]["ciphertext"].startswith("vault:v2:") and r["data"]["key_version"] == 2, r)
    r = tr.decrypt_data(name="hv-aes", ciphertext=ct, context=b64("ctx"))
    check("a v1 ciphertext decrypts after rotation", r["data"]["plaintext"] == b64("secret one"), r)

    r = tr.generate_data_key(name="hv-aes", key_type="plaintext", bits=128)
    envelope("datakey_plaintext", r)
    pt = r["data"]["plaintext"]
    r2 = tr.decrypt_data(name="hv-aes", ciphertext=r["data"]["ciphertext"])
    check("datakey decrypts to its plaintext", len(base64.b64decode(pt)) == 16 and r2["data"]["plaintext"] == pt, r2)
    r = tr.generate_data_key(name="hv-aes", key_type="wrapped")
    check("wrapped datakey has no plaintext", "plaintext" not in r["data"], r)

    r = tr.sign_data(name="hv-ec", hash_input=b64("doc"), hash_algorithm="sha2-384")
    envelope("sign", r)
    sig = r["data"]["signature"]
    r = tr.verify_signed_data(name="hv-ec", hash_input=b64("doc"), signature=sig, hash_algorithm="sha2-384")
    envelope("verify", r)
    check("verify", r["data"]["valid"] is True, r)
    r = tr.verify_signed_data(name="hv-ec", hash_input=b64("tampered"), signature=sig, hash_algorithm="sha2-384")
    check("verify a tampered input", r["data"]["valid"] is False, r)
    r = tr.sign_data(name="hv-ec", hash_input=b64("doc"), marshaling_algorithm="jws")
    r = tr.verify_signed_data(name="hv-ec", hash_input=b64("doc"), signature=r["data"]["signature"], marshaling_algorithm="jws")
    check("jws marshaling", r["data"]["valid"] is True, r)

    r = tr.generate_hmac(name="hv-aes", hash_input=b64("m"), algorithm="sha2-256")
    envelope("hmac", r)
    r = tr.verify_signed_data(name="hv-aes", hash_input=b64("m"), hmac=r["data"]["hmac"])
    check("verify hmac", r["data"]["valid"] is True, r)

    r = tr.generate_random_bytes(n_bytes=24, output_format="hex")
    check("random bytes", len(r["data"]["random_bytes"]) == 48, r)
    r = tr.hash_data(hash_input=b64("abc"), algorithm="sha2-256")
    envelope("hash", r)
    check("hash", r["data"]["sum"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", r)

    tr.update_key_configuration(name="hv-aes", min_decryption_version=2, deletion_allowed=True)
    try:
        tr.decrypt_data(name="hv-aes", ciphertext=ct, context=b64("ctx"))
        check("below min_decryption_version refused", False, "no exception")
    except exceptions.InvalidRequest:
        check("below min_decryption_version refused", True)
    tr.trim_key(name="hv-aes", min_version=2)
    r = tr.read_key(name="hv-aes")
    check("trim", list(r["data"]["keys"].keys()) == ["2"] and r["data"]["min_available_version"] == 2, r)
    try:
        tr.delete_key(name="hv-ec")
        check("delete without deletion_allowed refused", False, "no exception")
    except exceptions.InvalidRequest as e:
        check("delete without deletion_allowed refused", "deletion is not allowed" in str(e), e)
    tr.delete_key(name="hv-aes")
    try:
        tr.read_key(name="hv-aes")
        check("deleted key is gone", False, "no exception")
    except exceptions.InvalidPath:
        check("deleted key is gone", True)
    try:
        tr.create_key(name="hv-x", exportable=True)
        check("exportable refused", False, "no exception")
    except exceptions.InvalidRequest as e:
        check("exportable refused", "not supported" in str(e), e)
    try:
        hvac.Client(url=ADDR, token="nope", session=session).secrets.transit.encrypt_data(name="hv-ec", plaintext=b64("x"))
        check("bad token refused", False, "no exception")
    except exceptions.Forbidden:
        check("bad token refused", True)

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
