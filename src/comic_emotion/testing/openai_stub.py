"""A loopback OpenAI-compatible chat server that answers deterministically and records every request.

For tests of lmms-eval's API model classes (``openai``, ``async_openai``) with nothing on the network:
:func:`serve_openai_stub` starts a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a thread and yields
an :class:`OpenAIStub` whose ``base_url`` goes into ``--model_args ...,base_url=...``. Each
``POST .../chat/completions`` body is kept in ``requests``; the answer is :func:`stub_answer` of the
request's text, so equal prompts get equal answers in any order or process.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The label line of comic_emotion.prompts.build_prompt.
_LABELS = re.compile(r"Choose one or more of: (.+)\.$", re.MULTILINE)


def stub_answer(prompt: str) -> str:
    """The stub's answer to a prompt: the first offered label, as the JSON the prompt asks for.

    >>> stub_answer("Which emotions are expressed? Choose one or more of: joy, anger.")
    '{"emotions": ["joy"], "confidence": {"joy": 0.9}, "intensity": 0.5}'
    """
    found = _LABELS.search(prompt)
    if not found:
        return json.dumps({"answer": "unknown", "speakers": []})
    label = found.group(1).split(", ")[0]
    return json.dumps({"emotions": [label], "confidence": {label: 0.9}, "intensity": 0.5}, ensure_ascii=False)


def message_parts(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The text parts and the image URLs of the user turns of an OpenAI chat request body."""
    texts: list[str] = []
    images: list[str] = []
    for message in body.get("messages") or ():
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content or ():
            if part.get("type") == "text":
                texts.append(part["text"])
            elif part.get("type") == "image_url":
                images.append(part["image_url"]["url"])
    return texts, images


@dataclass
class OpenAIStub:
    """A running stub: where it listens and what it has been sent (bodies of chat requests, in arrival order)."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(stub: OpenAIStub, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with lock:
                stub.requests.append(body)
            texts, _ = message_parts(body)
            answer = stub_answer("\n".join(texts))
            self._send(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_openai_stub() -> Iterator[OpenAIStub]:
    """Run the stub on 127.0.0.1 (a free port) for the duration of the ``with`` block."""
    stub = OpenAIStub(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub, threading.Lock()))
    stub.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
