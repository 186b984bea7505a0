"""Serves the test site on 127.0.0.1:PORT with the standard library's WSGI server (threaded).

Usage: python3 -m tests.serve PORT  (from integrations/django; REFLINKS_TEST_DB names a file)
"""

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1])
    call_command("migrate", verbosity=0, interactive=False)
    server = make_server("127.0.0.1", port, get_wsgi_application(), ThreadingServer, QuietHandler)
    print(f"serving on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
