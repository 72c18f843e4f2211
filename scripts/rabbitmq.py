#!/usr/bin/env python3
"""A local RabbitMQ for development.

rabbitmq.py install   install Debian's rabbitmq-server if it is missing (the tests need it)
rabbitmq.py start     make sure a broker answers on 127.0.0.1:$PIGEONTOOLS_RABBITMQ_PORT
                      (5672): keep one that runs, else docker compose (with a Docker
                      engine), else a private node under .cache/rabbitmq, TLS on 5671
rabbitmq.py stop      stop what `start` began (the compose service, or the node by PID)
rabbitmq.py cluster-start   a three-node cluster on 127.0.0.1:5681-5683
                      ($PIGEONTOOLS_CLUSTER_PORT is the first) with the queues of
                      PIGEON_QUEUES as quorum queues; prints PIGEON_RABBITMQ_URL for it
rabbitmq.py cluster-url     PIGEON_RABBITMQ_URL for the running cluster
rabbitmq.py cluster-stop    stop the cluster's nodes, by PID
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from pigeon_tools.broker import local, local_cluster
from pigeon_tools.broker.node import NodeError


def cluster_url() -> None:
    address = local_cluster.url()
    if address is None:
        raise local.BrokerError("no cluster is running: make cluster")
    print(address)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = {
        "install": local.install,
        "start": local.start,
        "stop": local.stop,
        "cluster-start": local_cluster.start,
        "cluster-stop": local_cluster.stop,
        "cluster-url": cluster_url,
    }
    parser.add_argument("command", choices=commands)
    args = parser.parse_args()
    try:
        commands[args.command]()
    except (local.BrokerError, NodeError, subprocess.CalledProcessError) as error:
        for line in str(error).splitlines():
            local.say(line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
