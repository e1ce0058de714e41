"""Real local alert channels: an HTTP webhook receiver and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

from aiosmtpd.controller import Controller


class WebhookReceiver:
    """apprise's ``json://`` posts {"title", "message", "type"}; kept in ``received``."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self._server.server_port}/alerts"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        return [r["title"] for r in list(self.received)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SmtpReceiver:
    """A local SMTP server; each message's subject in ``subjects``."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        subjects = self.subjects

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
                subjects.append(email.message_from_bytes(envelope.content)["Subject"])
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self._controller.start()
        self.url = (
            f"mailto://127.0.0.1:{port}?from=seraphim@example.com&to=ops@example.com&mode=insecure"
        )

    def close(self) -> None:
        self._controller.stop()
