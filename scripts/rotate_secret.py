#!/usr/bin/env python3
"""Rotate the broker's password without an outage: one rotation of the alternating-users
strategy (AWS's rotation templates), against RabbitMQ (rabbitmqctl) and Secrets Manager.

examples:
  rotate_secret.py --env prod --users pigeon_a,pigeon_b --ctl "rabbitmqctl -n rabbit@mq-1"
  rotate_secret.py --env prod --users pigeon_a,pigeon_b --step create   # one step at a time
  rotate_secret.py --secret-id ARN --users pigeon,pigeon_clone         # from one user to two

The broker has two users for Pigeon, the secret names one of them. A rotation gives the OTHER
user a new password and points the secret at it: create (a version staged AWSPENDING), set
(rabbitmqctl add_user/change_password, the current user's tags and permissions), test (every
node accepts the login), finish (AWSCURRENT moves; the old version becomes AWSPREVIOUS).
Running containers keep their connection and their cached user, which still works; new ones
read the new user. The previous user's password changes at the next rotation only, and a
container still holding it is refused once, reads the secret again and connects. Each step can
be run again: a stopped rotation carries on with its pending version (give --token, the
version id create printed, and every step works on that version only: AWS's
ClientRequestToken). finish tests the pending login on every node again before it switches.
A second rotation of the secret from this machine is refused while one runs (a lock file in
.cache/rotation/). Passwords go to rabbitmqctl on stdin and are never printed.

Amazon MQ for RabbitMQ has no rabbitmqctl: give --management-url (the broker's console URL)
and an administrator's login in PIGEONTOOLS_RABBITMQ_ADMIN_USER/_PASSWORD; the set step then
uses the management HTTP API (/api/users, /api/permissions).

environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, …   credentials that may read, write and stage the secret
  PIGEONTOOLS_RABBITMQ_ADMIN_USER, PIGEONTOOLS_RABBITMQ_ADMIN_PASSWORD   with --management-url
  AWS_REGION, AWS_DEFAULT_REGION      the region (or --region)
  AWS_ENDPOINT_URL_SECRETS_MANAGER    another endpoint (moto)

exit status: 0 rotated (or the step done), 1 a step failed (nothing switched before finish),
2 usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from pigeon_tools import cli
from pigeon_tools.operate import environment
from pigeon_tools.operate.rotation import (
    STEPS,
    ManagementApi,
    Rabbitmqctl,
    Rotation,
    RotationError,
)
from pigeon_tools.paths import CACHE

HINTS = {
    "DescribeSecret": "--env (the secret pigeon-ENV/rabbitmq) or --secret-id, and the region",
    "GetSecretValue": "--env or --secret-id, and the region",
}


def broker(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Any:
    """rabbitmqctl (--ctl), or the management HTTP API (--management-url)."""
    if args.management_url is None:
        return Rabbitmqctl(args.ctl)
    user = os.environ.get("PIGEONTOOLS_RABBITMQ_ADMIN_USER", "")
    password = os.environ.get("PIGEONTOOLS_RABBITMQ_ADMIN_PASSWORD", "")
    if not user or not password:
        parser.error(
            "--management-url needs PIGEONTOOLS_RABBITMQ_ADMIN_USER and "
            "PIGEONTOOLS_RABBITMQ_ADMIN_PASSWORD (an administrator of the broker)"
        )
    return ManagementApi(args.management_url, user, password)


def main() -> int:
    parser = cli.parser(__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--env", choices=environment.names(), help="the environment: its secret pigeon-ENV/rabbitmq"
    )
    which.add_argument("--secret-id", help="the secret's ARN or name instead")
    parser.add_argument(
        "--users", required=True, help="the two broker users, A,B: the secret names one of them"
    )
    parser.add_argument(
        "--ctl", default="rabbitmqctl", help="the rabbitmqctl command (with -n NODE, or ssh …)"
    )
    parser.add_argument(
        "--management-url",
        help="the broker's management HTTP API instead of rabbitmqctl (Amazon MQ: its console "
        "URL); the login from PIGEONTOOLS_RABBITMQ_ADMIN_USER and _PASSWORD",
    )
    parser.add_argument(
        "--step", choices=(*STEPS, "all"), default="all", help="one step, or the four in order"
    )
    parser.add_argument(
        "--token", help="the rotation's version id (ClientRequestToken): resume that rotation"
    )
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, else boto3's)")
    args = parser.parse_args()
    users = tuple(u.strip() for u in args.users.split(","))
    if len(users) != 2 or not all(users) or users[0] == users[1]:
        parser.error("--users takes two different user names: A,B")
    import boto3

    secrets = boto3.client("secretsmanager", region_name=environment.region(args.region))
    secret_id = args.secret_id or environment.secret_name(args.env)
    rotation = Rotation(
        secrets,
        secret_id,
        (users[0], users[1]),
        broker(args, parser),
        say=lambda line: print(f"rotate_secret: {line}", flush=True),
        token=args.token,
    )
    lock = CACHE / "rotation" / (re.sub(r"[^A-Za-z0-9_.-]", "_", secret_id) + ".lock")
    try:
        rotation.run(STEPS if args.step == "all" else (args.step,), lock=lock)
    except RotationError as error:
        raise cli.Failure(str(error)) from None
    return cli.OK


if __name__ == "__main__":
    cli.run(main, "rotate_secret", HINTS)
