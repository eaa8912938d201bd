"""A counting SMTP sink for benchmarks: real SMTP over TCP, as little CPU as we can manage.

python bench/smtp_sink.py PORT RESULT_FILE

Accepts every message and counts it per recipient; on SIGINT or SIGTERM it writes a JSON summary
(messages, distinct recipients, how many recipients got more than one, a few of those) to
RESULT_FILE and exits. It is part of the benchmark harness, not the product: aiosmtpd, which the
test suite uses, spent about as much CPU per message as the dispatcher itself on this 2-core
machine, so it took the cores the dispatchers were being measured on. This one is an asyncio
Protocol that parses lines itself, and it advertises PIPELINING (RFC 2920) so a client may send
MAIL, RCPT and DATA, or a message's end and the next MAIL, RCPT and DATA, without waiting.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from pathlib import Path

GREETING = b"220 sink ESMTP\r\n"
EHLO = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
END_OF_DATA = b"\r\n.\r\n"


class Session(asyncio.Protocol):
    def __init__(self, received: Counter):
        self.received = received
        self.buffer = b""
        self.in_data = False
        self.recipients: list[str] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(GREETING)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        replies = []
        start = 0
        while True:
            if self.in_data:
                # The message so far was checked up to len - 4: look only at what is new.
                end = buffer.find(END_OF_DATA, max(start, len(self.buffer) - 4))
                if end < 0:
                    break
                start = end + len(END_OF_DATA)
                self.in_data = False
                self.buffer = b""
                for recipient in self.recipients:
                    self.received[recipient] += 1
                self.recipients = []
                replies.append(b"250 OK queued\r\n")
                continue
            end = buffer.find(b"\r\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 2
            replies.append(self.command(line))
            if self.in_data:
                self.buffer = b""
            if replies[-1] is None:  # QUIT
                replies[-1] = b"221 Bye\r\n"
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
        self.buffer = buffer[start:]
        if replies:
            self.transport.write(b"".join(replies))

    def command(self, line: bytes) -> bytes | None:
        verb = line[:4].upper()
        if verb == b"MAIL":
            self.recipients = []
            return b"250 OK\r\n"
        if verb == b"RCPT":
            address = line.partition(b":")[2].strip().strip(b"<>").decode("utf-8", "replace")
            self.recipients.append(address)
            return b"250 OK\r\n"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 RCPT first\r\n"
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"EHLO":
            return EHLO
        if verb == b"HELO":
            return b"250 sink\r\n"
        if verb in (b"RSET", b"NOOP"):
            self.recipients = []
            return b"250 OK\r\n"
        if verb == b"QUIT":
            return None
        return b"502 Not implemented\r\n"


def summary(received: Counter) -> dict:
    repeated = [(address, count) for address, count in received.items() if count > 1]
    return {
        "messages": sum(received.values()),
        "recipients": len(received),
        "repeated": len(repeated),
        "repeated_sample": repeated[:10],
    }


async def serve(port: int, result: Path) -> None:
    received: Counter = Counter()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(received), "127.0.0.1", port)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    result.write_text(json.dumps(summary(received)))


def main() -> None:
    port, result = int(sys.argv[1]), Path(sys.argv[2])
    asyncio.run(serve(port, result))


if __name__ == "__main__":
    main()
