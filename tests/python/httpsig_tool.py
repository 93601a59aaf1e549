"""RFC 9421 signing and verifying with PyPI's `http-message-signatures`, an implementation
nobody on Keyhold wrote, for the end-to-end tests of Ed25519 agent keys.

    httpsig_tool.py sign    < spec.json   -> the headers to send, as JSON
    httpsig_tool.py serve   PUBLIC_PEM_FILE KEY_ID
        an HTTP server on 127.0.0.1 (its port on the first stdout line) that verifies every
        request's signature (and body digest), answers 200 {"verified": true, ...} or 401
        {"verified": false, "error": ...}, and requires @method, @target-uri, and
        content-digest when there is a body, as the Keyhold server does.

A spec: {"method", "url", "headers": {..}, "body": base64 or null, "private_key": PEM,
"key_id", "created": unix seconds, "nonce", "components": [..] (default @method,
@target-uri; content-digest is added by the library when there is a body)}.
"""

import base64
import datetime
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)


class Message:
    def __init__(self, method, url, headers):
        self.method, self.url, self.headers = method, url, headers


def sign(spec):
    body = base64.b64decode(spec["body"]) if spec.get("body") is not None else None
    msg = Message(spec["method"], spec["url"], dict(spec.get("headers") or {}))
    kid = spec["key_id"]
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={kid: spec["private_key"].encode()}),
    )
    signer.sign(
        msg,
        key_id=kid,
        created=datetime.datetime.fromtimestamp(spec["created"], datetime.timezone.utc),
        nonce=spec["nonce"],
        label=spec.get("label", "sig1"),
        covered_component_ids=tuple(spec.get("components") or ("@method", "@target-uri")),
        body=body,
    )
    json.dump(dict(msg.headers), sys.stdout)


def serve(public_pem_file, key_id):
    with open(public_pem_file, "rb") as f:
        public = f.read()
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={key_id: public}, private_keys={}),
    )

    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            msg = Message(self.command, f"http://{self.headers['Host']}{self.path}", self.headers)
            required = ["@method", "@target-uri"] + (["content-digest"] if body else [])
            try:
                results = verifier.verify(msg, max_age=None, require_components=required, body=body)
                answer = {"verified": True, "covered": list(results[0].covered_components)}
                status = 200
            except Exception as e:  # noqa: BLE001 - the test reads the reason
                answer, status = {"verified": False, "error": f"{type(e).__name__}: {e}"}, 401
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        sign(json.load(sys.stdin))
    else:
        serve(sys.argv[2], sys.argv[3])
