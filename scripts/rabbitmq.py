#!/usr/bin/env python3
"""A local RabbitMQ for development: `make broker`, `make broker-stop`, `make cluster`.

examples:
  rabbitmq.py start                               # a broker on 127.0.0.1:5672
  PIGEONTOOLS_RABBITMQ_PORT=5673 rabbitmq.py start  # on 5673; hand invokes then use 5673
  rabbitmq.py url                                 # the broker URL invoke.sh would give
  rabbitmq.py stop

`start` keeps a RabbitMQ that already answers on the port (and `stop` leaves it alone), else
runs docker compose's service (with a Docker engine), else a private node of Debian's
rabbitmq-server under .cache/rabbitmq (TLS on 5671 too), which lives on after the command.

environment:
  PIGEONTOOLS_RABBITMQ_PORT       the AMQP port of `start` (default 5672); for `url` (and
                                  invoke.sh) over the port the last `start` chose
  PIGEONTOOLS_RABBITMQ_TLS_PORT   the TLS port of the private node (default 5671)
  PIGEONTOOLS_CLUSTER_PORT        the first of the cluster's three ports (default 5681)
  PIGEONTOOLS_LOCAL_BROKER=package   the private node even when a Docker engine answers

exit status: 0 done, 1 failed, 2 usage.
"""

from __future__ import annotations

import subprocess

from pigeon_tools import cli
from pigeon_tools.broker import local, local_cluster
from pigeon_tools.broker.node import NodeError


def cluster_url() -> None:
    address = local_cluster.url()
    if address is None:
        raise local.BrokerError("no cluster is running: make cluster")
    print(address)


def url() -> None:
    """PIGEON_RABBITMQ_URL as invoke.sh gives it to the function (nothing when neither the
    environment nor pigeon.env sets one); a warning on stderr when no node of it answers."""
    setting = local.hand_run_setting()
    problem = local.unreachable(setting) if setting else None
    if problem:
        cli.say("rabbitmq", f"warning: {problem}")
    if setting:
        print(setting)


COMMANDS = {
    "install": (local.install, "install Debian's rabbitmq-server if it is missing (sudo)"),
    "start": (local.start, "make sure a broker answers on 127.0.0.1:PIGEONTOOLS_RABBITMQ_PORT"),
    "stop": (local.stop, "stop what `start` began (the compose service, or the node by PID)"),
    "url": (url, "print PIGEON_RABBITMQ_URL as invoke.sh gives it (pigeon.env's, on start's port)"),
    "cluster-start": (local_cluster.start, "a three-node cluster with quorum queues"),
    "cluster-url": (cluster_url, "print PIGEON_RABBITMQ_URL for the running cluster"),
    "cluster-stop": (local_cluster.stop, "stop the cluster's nodes, by PID"),
}


def main() -> int:
    parser = cli.parser(__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, text) in COMMANDS.items():
        commands.add_parser(  # `rabbitmq.py start --help` says as much as `--help`
            name,
            help=text,
            description=text,
            epilog=parser.epilog,
            formatter_class=cli.HelpFormatter,
        )
    args = parser.parse_args()
    try:
        COMMANDS[args.command][0]()
    except (local.BrokerError, NodeError, subprocess.CalledProcessError) as error:
        for line in str(error).splitlines():
            local.say(line)
        return cli.FAILURE
    return cli.OK


if __name__ == "__main__":
    cli.run(main, "rabbitmq")
