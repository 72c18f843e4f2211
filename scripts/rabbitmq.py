#!/usr/bin/env python3
"""A local RabbitMQ for development.

rabbitmq.py install   install Debian's rabbitmq-server if it is missing (the tests need it)
rabbitmq.py start     make sure a broker answers on 127.0.0.1:$PIGEONTOOLS_RABBITMQ_PORT
                      (5672): keep one that runs, else docker compose (with a Docker
                      engine), else a private node under .cache/rabbitmq, TLS on 5671
rabbitmq.py stop      stop what `start` began (the compose service, or the node by PID)
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from pigeon_tools.broker import local
from pigeon_tools.broker.node import NodeError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("install", "start", "stop"))
    args = parser.parse_args()
    try:
        {"install": local.install, "start": local.start, "stop": local.stop}[args.command]()
    except (local.BrokerError, NodeError, subprocess.CalledProcessError) as error:
        for line in str(error).splitlines():
            local.say(line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
