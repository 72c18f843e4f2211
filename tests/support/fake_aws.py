"""A stand-in `aws` CLI for the documented first deploy: the one call it makes, with boto3 (so
AWS_ENDPOINT_URL points it at moto, as it would point the real CLI):

    aws secretsmanager put-secret-value --secret-id ID --secret-string S [--region R]

prints the real call's JSON answer (ARN, Name, VersionId, VersionStages). Anything else fails
loudly: a documented step this does not know is a step the test cannot vouch for."""

from __future__ import annotations

import json
import sys

import boto3


def main() -> int:
    args = sys.argv[1:]
    if args[:2] != ["secretsmanager", "put-secret-value"]:
        print(f"stand-in aws: unsupported: aws {' '.join(args)}", file=sys.stderr)
        return 252
    values: dict[str, str] = {}
    rest = args[2:]
    for index in range(0, len(rest) - 1, 2):
        values[rest[index]] = rest[index + 1]
    secret_id = values["--secret-id"]
    string = values["--secret-string"]
    if string.startswith("file://"):
        with open(string.removeprefix("file://")) as handle:
            string = handle.read()
    region = values.get("--region") or secret_id.split(":")[3]
    answer = boto3.client("secretsmanager", region_name=region).put_secret_value(
        SecretId=secret_id, SecretString=string
    )
    answer.pop("ResponseMetadata", None)
    print(json.dumps(answer, indent=4, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
