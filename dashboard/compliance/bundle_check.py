"""Check a controls-and-evidence ZIP offline: `python -m dashboard.compliance.bundle_check BUNDLE [--public-key B64]`.

Needs only Python and `cryptography`, no database and no Django. Checks the manifest's signature, that every file
matches the SHA-256 the manifest signs and that no file is missing or added, then the evidence pack inside as
`audit.evidence_check` does. Pin the public key you trust with --public-key; without it the manifest's is used.
"""

import argparse
import base64
import hashlib
import json
import sys
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.evidence_check import EvidenceError, verify_pack
from audit.hashing import canonical

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "regent.controls-bundle/1"
PACK = "evidence-pack.jsonl"


class BundleError(Exception):
    pass


def signed_manifest_body(manifest: dict) -> bytes:
    """What the manifest's signature covers: its canonical JSON without the signature."""
    return canonical({key: value for key, value in manifest.items() if key != "signature"}).encode()


def verify_bundle(path_or_file, public_key_b64: str | None = None) -> dict:
    """Return the manifest and the pack's event count when the bundle holds; raise BundleError otherwise."""
    try:
        bundle = zipfile.ZipFile(path_or_file)
    except zipfile.BadZipFile:
        raise BundleError("not a ZIP file") from None
    with bundle:
        names = set(bundle.namelist())
        if MANIFEST not in names:
            raise BundleError(f"no {MANIFEST} in the bundle")
        manifest = json.loads(bundle.read(MANIFEST))
        if manifest.get("format") != MANIFEST_FORMAT:
            raise BundleError(f"not a controls bundle (format {manifest.get('format')!r})")
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64 or manifest["public_key"]))
        try:
            key.verify(base64.b64decode(manifest["signature"]), signed_manifest_body(manifest))
        except InvalidSignature:
            raise BundleError("the manifest's signature does not verify with this public key") from None
        listed = set(manifest["files"])
        if extra := names - listed - {MANIFEST}:
            raise BundleError(f"files the manifest does not sign: {', '.join(sorted(extra))}")
        if missing := listed - names:
            raise BundleError(f"files the manifest lists are missing: {', '.join(sorted(missing))}")
        for name, expected in sorted(manifest["files"].items()):
            if hashlib.sha256(bundle.read(name)).hexdigest() != expected:
                raise BundleError(f"{name} does not match the digest the manifest signs: it was altered")
        try:
            pack = verify_pack(bundle.read(PACK), public_key_b64)
        except EvidenceError as exc:
            raise BundleError(f"{PACK}: {exc}") from None
    return {"manifest": manifest, "events": pack["events"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="Path to the .zip bundle")
    parser.add_argument("--public-key", help="Base64 Ed25519 public key you trust (the integrity page shows it)")
    args = parser.parse_args(argv)
    try:
        result = verify_bundle(args.bundle, args.public_key)
    except (BundleError, ValueError, KeyError) as exc:
        print(f"INVALID: {exc}", file=sys.stderr)
        return 1
    manifest = result["manifest"]
    print(
        f"VALID: {manifest['framework']} controls for {manifest['period']['start']} to {manifest['period']['end']}, "
        f"{len(manifest['files'])} files signed, evidence pack of {result['events']} events"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
