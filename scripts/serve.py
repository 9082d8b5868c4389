#!/usr/bin/env python3
"""Static server for the demo, the end-to-end tests and the benchmark.

Serves on loopback only: / from www/, /pkg/ from pkg/ (the wasm-pack build)
and /models/ from the model cache ($BANNERET_MODEL_DIR, so model files are
never copied into the checkout). Every response but a 304 carries
Content-Length and the right MIME type (application/wasm for .wasm); byte
ranges are honoured; directories are never listed. Files carry an ETag and
Last-Modified, and a matching If-None-Match gets 304 Not Modified, so a
browser revalidates its cached .wasm instead of downloading it again (and
keeps the compiled code V8 caches beside it). By default pages run under a
strict Content Security Policy (no inline script, wasm allowed); --isolate
adds the COOP/COEP headers that cross-origin isolation (wasm threads) needs.
Prints "serving http://HOST:PORT/" on stdout once it accepts connections.
"""

import argparse
import email.utils
import os
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1 << 20

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
ISOLATION = [("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Embedder-Policy", "require-corp")]

MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".gguf": "application/octet-stream",
    ".ts": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


def model_dir() -> Path:
    return Path(os.environ.get("BANNERET_MODEL_DIR", Path.home() / ".cache" / "banneret" / "models"))


def none_match(field: str, etag: str) -> bool:
    """If-None-Match lists etag or is "*"; weak comparison (W/"x" matches "x"), as RFC 9110 asks."""
    return field.strip() == "*" or etag in re.findall(r'(?:W/)?("[^"]*")', field)


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as browsers expect; every response but a 304 carries Content-Length.
    protocol_version = "HTTP/1.1"
    mounts: list = []  # (url prefix, directory), longest prefix first
    extra_headers: list = []
    quiet = True

    def version_string(self):
        return "banneret-serve"

    def log_message(self, fmt, *args):
        if not self.quiet:
            super().log_message(fmt, *args)

    def resolve(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        for prefix, directory in self.mounts:
            if path.startswith(prefix):
                base = directory.resolve()
                target = (base / path[len(prefix):]).resolve()
                if target != base and base not in target.parents:
                    return None
                return target if target.is_file() else None
        return None

    def send_common(self, status, length, ctype, extra=()):
        self.send_response(status)
        if length is not None:  # None: a 304, which has no body
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in list(self.extra_headers) + list(extra):
            self.send_header(name, value)
        self.end_headers()

    def fail(self, status: HTTPStatus):
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_common(status, len(body), "text/plain; charset=utf-8")
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        target = self.resolve()
        if target is None:
            return self.fail(HTTPStatus.NOT_FOUND)
        stat = target.stat()
        size = stat.st_size
        ctype = MIME.get(target.suffix.lower(), "application/octet-stream")
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        validators = [("ETag", etag), ("Last-Modified", modified)]
        if none_match(", ".join(self.headers.get_all("If-None-Match", [])), etag):
            return self.send_common(HTTPStatus.NOT_MODIFIED, None, ctype, validators)
        start, end, status, extra = 0, size, HTTPStatus.OK, [("Accept-Ranges", "bytes")] + validators
        # Under an If-Range that no longer matches, a Range gets the whole file.
        ranged = self.headers.get("If-Range", etag).strip() in (etag, modified)
        m = ranged and re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if m and (m[1] or m[2]):
            if m[1]:
                start, end = int(m[1]), min(size, int(m[2]) + 1) if m[2] else size
            else:
                start, end = max(0, size - int(m[2])), size
            if start >= end:
                extra.append(("Content-Range", f"bytes */{size}"))
                self.send_common(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 0, ctype, extra)
                return
            status = HTTPStatus.PARTIAL_CONTENT
            extra.append(("Content-Range", f"bytes {start}-{end - 1}/{size}"))
        self.send_common(status, end - start, ctype, extra)
        if self.command == "HEAD":
            return
        try:
            with open(target, "rb") as f:
                f.seek(start)
                left = end - start
                while left > 0:
                    block = f.read(min(CHUNK, left))
                    if not block:
                        break
                    self.wfile.write(block)
                    left -= len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page aborted the download; nothing to clean up


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "localhost", "::1"],
                   help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one (default 8000)")
    p.add_argument("--no-csp", action="store_true", help="omit the Content-Security-Policy header")
    p.add_argument("--isolate", action="store_true", help="send COOP/COEP (cross-origin isolation)")
    p.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                   help="add a response header (repeatable)")
    p.add_argument("--mount", action="append", default=[], metavar="/PREFIX/=DIR",
                   help="also serve DIR under /PREFIX/ (repeatable; the benchmark serves wllama this way)")
    p.add_argument("--log", action="store_true", help="log every request to stderr")
    a = p.parse_args()

    headers = [] if a.no_csp else [("Content-Security-Policy", CSP)]
    if a.isolate:
        headers += ISOLATION
    for h in a.header:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            p.error(f"--header wants 'Name: value', got {h!r}")
        headers.append((name.strip(), value.strip()))
    mounts = [("/models/", model_dir()), ("/pkg/", ROOT / "pkg")]
    for m in a.mount:
        prefix, sep, directory = m.partition("=")
        if not sep or not prefix.startswith("/") or not prefix.endswith("/") or not Path(directory).is_dir():
            p.error(f"--mount wants '/prefix/=existing-directory', got {m!r}")
        mounts.append((prefix, Path(directory)))
    mounts.sort(key=lambda m: -len(m[0]))
    mounts.append(("/", ROOT / "www"))
    handler = type("BanneretHandler", (Handler,), {"mounts": mounts, "extra_headers": headers, "quiet": not a.log})
    if a.host == "::1":
        ThreadingHTTPServer.address_family = __import__("socket").AF_INET6
    ThreadingHTTPServer.daemon_threads = True
    try:
        server = ThreadingHTTPServer((a.host, a.port), handler)
    except OSError as e:
        sys.exit(f"serve.py: cannot listen on {a.host}:{a.port}: {e} (try PORT=0 or another port)")
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    if not (ROOT / "pkg" / "banneret.js").is_file():
        print("serve.py: warning: pkg/ is not built yet (run `make build`)", file=sys.stderr)
    print(f"serving http://{shown}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
