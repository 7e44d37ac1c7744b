"""hvac against coffer: drives a coffer server with python hvac (Debian's
python3-hvac 0.11.2), as a user of that client would, and prints one line
per check. Run by TestHvac (hvac_test.go) with COFFER_ADDR (the VAULT_ADDR,
with or without /api/{okmsId}), COFFER_TOKEN and COFFER_PREFIX (a path
prefix unique to the run). Exit status 0 when every check passed.

hvac 0.11.2 raises InvalidPath on every 404. When the body has an errors
member it builds the message from that member alone (so "errors": [] leaves
it empty); otherwise the message is the body, which is how a caller reads
a deactivated or destroyed version's metadata (vault-kv2.md 2.5).
"""

import json
import os
import sys

import hvac
import requests
from hvac import exceptions

ADDR = os.environ["COFFER_ADDR"]
TOKEN = os.environ["COFFER_TOKEN"]
PREFIX = os.environ["COFFER_PREFIX"]
KEY = PREFIX + "/db"

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


def client(token=TOKEN):
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for 127.0.0.1
    return hvac.Client(url=ADDR, token=token, session=session)


def raw_404(fn):
    """Calls fn, which must raise InvalidPath, and returns the body the
    exception carries (None if it carries none) and its errors member."""
    try:
        fn()
    except exceptions.InvalidPath as e:
        try:
            return json.loads(e.args[0]), e.errors
        except (TypeError, ValueError, IndexError):
            return None, e.errors
    raise AssertionError("no InvalidPath raised")


def main():
    c = client()
    kv = c.secrets.kv.v2

    check("is_authenticated with the token", c.is_authenticated())
    check("is_authenticated with a bad token", not client("cof_pat_nope").is_authenticated())

    # Writes: three versions.
    for i in (1, 2, 3):
        r = kv.create_or_update_secret(KEY, {"pw": "v%d" % i, "user": "app"})
        check("create_or_update_secret v%d" % i, r["data"]["version"] == i, r)
    r = kv.create_or_update_secret(KEY, {"pw": "v4"}, cas=3)
    check("create_or_update_secret with cas", r["data"]["version"] == 4, r)
    try:
        kv.create_or_update_secret(KEY, {"pw": "x"}, cas=1)
        check("cas mismatch raises InvalidRequest", False, "no exception")
    except exceptions.InvalidRequest as e:
        check("cas mismatch raises InvalidRequest",
              "check-and-set parameter did not match the current version" in str(e), e)

    # Read of active versions.
    r = kv.read_secret_version(KEY)
    check("read current version", r["data"]["data"] == {"pw": "v4"} and r["data"]["metadata"]["version"] == 4, r)
    r = kv.read_secret_version(KEY, version=2)
    check("read version 2", r["data"]["data"] == {"pw": "v2", "user": "app"}
          and r["data"]["metadata"]["deletion_time"] == "" and r["data"]["metadata"]["destroyed"] is False, r)

    # Patch: hvac reads, merges and writes back with cas.
    r = kv.patch(KEY, {"extra": "e"})
    check("patch writes version 5", r["data"]["version"] == 5, r)
    r = kv.read_secret_version(KEY)
    check("patch result", r["data"]["data"] == {"pw": "v4", "extra": "e"}, r)
    try:
        kv.patch(PREFIX + "/missing", {"a": "b"})
        check("patch of a missing secret raises InvalidPath", False, "no exception")
    except exceptions.InvalidPath:
        check("patch of a missing secret raises InvalidPath", True)

    # Deactivated (Vault "deleted") version: 404 with its metadata.
    kv.delete_secret_versions(KEY, versions=[2])
    body, errors = raw_404(lambda: kv.read_secret_version(KEY, version=2))
    md = (body or {}).get("data", {}).get("metadata", {})
    check("deactivated version: metadata readable", body is not None and errors is None, (body, errors))
    check("deactivated version: no data", body is not None and body["data"]["data"] is None, body)
    check("deactivated version: deletion_time set, not destroyed",
          md.get("version") == 2 and md.get("deletion_time", "") != "" and md.get("destroyed") is False, md)

    # Undelete brings it back.
    kv.undelete_secret_versions(KEY, versions=[2])
    r = kv.read_secret_version(KEY, version=2)
    check("undeleted version readable", r["data"]["data"] == {"pw": "v2", "user": "app"}
          and r["data"]["metadata"]["deletion_time"] == "", r)

    # Destroyed (coffer "deleted") version.
    kv.destroy_secret_versions(KEY, versions=[1])
    body, errors = raw_404(lambda: kv.read_secret_version(KEY, version=1))
    md = (body or {}).get("data", {}).get("metadata", {})
    check("destroyed version: metadata readable", body is not None and errors is None, (body, errors))
    check("destroyed version: destroyed, no data",
          body is not None and body["data"]["data"] is None and md.get("destroyed") is True and md.get("version") == 1, body)
    kv.undelete_secret_versions(KEY, versions=[1])
    body, _ = raw_404(lambda: kv.read_secret_version(KEY, version=1))
    check("undelete does not bring a destroyed version back",
          body is not None and body["data"]["metadata"]["destroyed"] is True, body)

    # Delete of the latest version.
    kv.delete_latest_version_of_secret(KEY)
    body, errors = raw_404(lambda: kv.read_secret_version(KEY))
    md = (body or {}).get("data", {}).get("metadata", {})
    check("deleted latest version: metadata readable",
          body is not None and md.get("version") == 5 and md.get("deletion_time", "") != "", (body, errors))

    # A key or version that does not exist: still Vault's {"errors":[]}.
    body, errors = raw_404(lambda: kv.read_secret_version(PREFIX + "/missing"))
    check("missing secret: InvalidPath with errors []", body is None and errors == [], (body, errors))
    body, errors = raw_404(lambda: kv.read_secret_version(KEY, version=99))
    check("missing version: InvalidPath with errors []", body is None and errors == [], (body, errors))

    # A KV v1-style read of a v2 mount: Vault's catch-all, whose warning
    # says what to use instead (vault-kv2.md 4.9), reaches the caller.
    body, errors = raw_404(lambda: c.secrets.kv.v1.read_secret(PREFIX + "/db", mount_point="secret"))
    check("catch-all: the warning reaches the caller",
          body is not None and errors is None
          and "Invalid path for a versioned K/V secrets engine" in (body.get("warnings") or [""])[0], (body, errors))

    # Metadata read and write.
    md = kv.read_secret_metadata(KEY)["data"]
    check("read_secret_metadata", md["current_version"] == 5 and sorted(md["versions"]) == ["1", "2", "3", "4", "5"]
          and md["versions"]["1"]["destroyed"] is True and md["versions"]["5"]["deletion_time"] != "", md)
    kv.update_metadata(KEY, max_versions=7, cas_required=False, delete_version_after="1h30m")
    md = kv.read_secret_metadata(KEY)["data"]
    check("update_metadata", md["max_versions"] == 7 and md["cas_required"] is False
          and md["delete_version_after"] == "1h30m0s", md)
    kv.update_metadata(KEY)  # hvac always sends delete_version_after "0s"
    md = kv.read_secret_metadata(KEY)["data"]
    check("update_metadata with defaults clears delete_version_after",
          md["delete_version_after"] == "0s" and md["max_versions"] == 7, md)

    # List (hvac sends LIST).
    kv.create_or_update_secret(PREFIX + "/sub/leaf", {"a": "b"})
    r = kv.list_secrets(PREFIX)
    check("list_secrets", r["data"]["keys"] == ["db", "sub/"], r)
    try:
        kv.list_secrets(PREFIX + "/nothing")
        check("list of an empty folder raises InvalidPath", False, "no exception")
    except exceptions.InvalidPath:
        check("list of an empty folder raises InvalidPath", True)

    # Mount configuration.
    r = kv.read_configuration()
    check("read_configuration", "max_versions" in r["data"] and "cas_required" in r["data"], r)

    # Delete the secret and everything in it.
    kv.delete_metadata_and_all_versions(KEY)
    body, errors = raw_404(lambda: kv.read_secret_metadata(KEY))
    check("delete_metadata_and_all_versions", body is None and errors == [], (body, errors))

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
