"""A real SMTP server on the loopback interface (aiosmtpd) that keeps or counts what it
receives: what the e-mail tests and the `email_send` benchmark send to.

In a thread of this process (`SmtpSink()`, the tests: messages kept and parsed), or in a
process of its own (`SmtpSink(process=True)`, the benchmark: only counted, and the server
does not compete with the sender for the interpreter lock).
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, keep: bool, counter=None):
        self.keep = keep
        self.received: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.counter = counter
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            if self.counter is not None:
                with self.counter.get_lock():
                    self.counter.value += 1
            if self.keep:
                self.received.append(envelope.original_content or envelope.content)
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port: int, counter, ready, stop) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(_Handler(False, counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpSink:
    """`with SmtpSink() as sink:` a server on 127.0.0.1:sink.port; `sink.messages()` parsed."""

    def __init__(self, *, keep: bool = True, process: bool = False):
        self.port = _free_port()
        self.process = None
        if process:
            context = multiprocessing.get_context("fork")  # the child only runs the server
            self.counter = context.Value("q", 0)
            self.ready, self.stop = context.Event(), context.Event()
            self.process = context.Process(
                target=_serve, args=(self.port, self.counter, self.ready, self.stop), daemon=True
            )
        else:
            self.handler = _Handler(keep)
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        if self.process is not None:
            self.process.start()
            if not self.ready.wait(30):
                raise RuntimeError("the SMTP server did not start within 30 seconds")
        else:
            self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.stop.set()
            self.process.join(10)
        else:
            self.controller.stop()

    @property
    def count(self) -> int:
        return self.counter.value if self.process is not None else self.handler.count

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for raw in self.handler.received]
