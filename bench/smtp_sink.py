"""A counting SMTP sink for benchmarks (aiosmtpd): accepts every message, keeps only a count.

python bench/smtp_sink.py PORT COUNT_FILE
"""

import asyncio
import sys
from pathlib import Path

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, path: Path):
        self.path = path
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.count % 1000 == 0:
            self.path.write_text(str(self.count))
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    counter = Counter(path)
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        asyncio.run(asyncio.sleep(10**9))
    except KeyboardInterrupt:
        pass  # the benchmark stops us with SIGINT
    finally:
        path.write_text(str(counter.count))
        controller.stop()


if __name__ == "__main__":
    main()
