#!/usr/bin/env python3
"""Loopback-only capture server for the twitch vectors.

Listens on 127.0.0.1:<port>, records every request (method, path, headers, body)
as one JSON line in <out>, and answers like a correct EventSub endpoint:
webhook_callback_verification -> 200 text/plain with the challenge, anything else -> 204.
It never forwards anything anywhere.

    python3 capture.py <port> <out.jsonl>
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(sys.argv[1])
OUT = sys.argv[2]


class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        rec = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body": body.decode("utf-8")}
        with open(OUT, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if self.headers.get("Twitch-Eventsub-Message-Type") == "webhook_callback_verification":
            challenge = json.loads(body)["challenge"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(challenge)))
            self.end_headers()
            self.wfile.write(challenge)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *a):
        pass


HTTPServer(("127.0.0.1", PORT), H).serve_forever()
