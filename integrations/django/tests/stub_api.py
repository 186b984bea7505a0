"""A stand-in for the worker's API on a real socket: it answers from a script and records calls."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubApi:
    def __init__(self):
        self.calls = []
        self.answers = []  # (status, body) in order; the last one repeats
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                stub.calls.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "body": json.loads(raw) if raw else None,
                    }
                )
                answer = stub.answers.pop(0) if len(stub.answers) > 1 else stub.answers[0]
                if answer == "hang":
                    threading.Event().wait(2)
                    return
                status, body = answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
