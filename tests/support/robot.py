"""A chat-group robot on loopback, speaking the platforms' wire format (WeCom, DingTalk, Feishu
and the generic webhook all answer JSON with an error code)."""

from __future__ import annotations

import json
import threading


class Robot:
    """A chat-group robot on loopback: records posts, answers as told."""

    def __init__(self) -> None:
        import http.server

        self.posts: list[tuple[str, dict]] = []
        self.answers: list[tuple[int, str]] = []  # for the next posts, whatever they say
        self.refusals: list[tuple[str, int, str]] = []  # for the next post whose body holds the text
        self.redirect_to: str | None = None  # answer every post with a 302 to there
        self.hits = 0  # every request, whatever its answer
        self._lock = threading.Lock()
        robot = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.hits += 1
                if robot.redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", robot.redirect_to)
                    self.end_headers()
                    self.wfile.write(b"instance-id: i-secret-metadata")
                    return
                status, text = robot._answer(body.decode())
                if status == 200 and '"errcode":0' in text:
                    robot.posts.append((self.path, json.loads(body)))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode())

            do_GET = do_POST

            def log_message(self, *_args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=k1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _answer(self, body: str) -> tuple[int, str]:
        with self._lock:
            for i, (needle, status, text) in enumerate(self.refusals):
                if needle in body:
                    del self.refusals[i]
                    return status, text
            return self.answers.pop(0) if self.answers else (200, '{"errcode":0,"errmsg":"ok"}')

    def said(self, text: str) -> list[dict]:
        """The posts whose message holds ``text``."""
        return [post for _, post in self.posts if text in json.dumps(post, ensure_ascii=False)]

    def stop(self) -> None:
        self.server.shutdown()
