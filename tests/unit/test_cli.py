"""The operator tools' CLI conventions (scripts/pigeon_tools/cli.py): help from the docstring
with defaults, one error line, exit codes 0/1/2/130, and botocore's errors as one line each
(here the error shapes AWS answers with that moto cannot produce: an expired token, Lambda's
AccessDeniedException, an unknown code)."""

from __future__ import annotations

import pytest
from botocore import exceptions

from pigeon_tools import cli

DOC = """Do one thing well.

examples:
  tool.py --rate 5

environment:
  AWS_REGION   the region
"""


def test_help_is_the_docstring_with_every_default_shown(capsys):
    parser = cli.parser(DOC, prog="tool.py")
    parser.add_argument("--rate", type=float, default=0.0, help="a second")
    parser.add_argument("--dry-run", action="store_true", help="nothing")
    parser.add_argument("--name", help="no default")
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "Do one thing well." in shown
    assert "examples:\n  tool.py --rate 5\n\nenvironment:\n  AWS_REGION   the region" in shown
    assert "a second (default: 0.0)" in shown  # 0.0 is a default, not "no default"
    assert "nothing (default" not in shown
    assert "no default (default" not in shown


def exit_of(entry, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        cli.run(entry, "tool")
    return int(exited.value.code), capsys.readouterr().err


def test_exit_codes_and_one_error_line(capsys):
    assert exit_of(lambda: 0, capsys) == (0, "")

    def fails() -> int:
        raise cli.Failure("the queue is\nempty", "fill it")

    assert exit_of(fails, capsys) == (1, "tool: error: the queue is empty; fill it\n")

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert exit_of(interrupted, capsys) == (130, "tool: error: interrupted\n")

    def usage() -> int:
        cli.parser(DOC, prog="tool").parse_args(["--nope"])
        return 0

    status, err = exit_of(usage, capsys)
    assert status == 2
    assert err.splitlines()[-1] == "tool: error: unrecognized arguments: --nope"


def test_a_bug_is_not_dressed_up_as_an_error_line():
    def bug() -> int:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        cli.run(bug, "tool")


def client_error(operation: str, code: str, message: str, status: int = 400) -> Exception:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return exceptions.ClientError(response, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (exceptions.NoCredentialsError(), "no AWS credentials found"),
        (exceptions.NoRegionError(), "no AWS region; set AWS_REGION"),
        (
            client_error("ReceiveMessage", "ExpiredToken", "The security token has expired."),
            "AWS rejected the credentials calling ReceiveMessage: ExpiredToken",
        ),
        (
            client_error(
                "Invoke",
                "AccessDeniedException",
                "User: arn:aws:sts::1:assumed-role/oncall/me is not authorized to perform: "
                "lambda:InvokeFunction on resource: arn:aws:lambda:us-west-2:1:function:pigeon",
                403,
            ),
            "access denied: Invoke needs lambda:InvokeFunction (User: arn:aws:sts::1:",
        ),
        (
            client_error("DescribeSecret", "ThrottlingException", "Rate exceeded"),
            "DescribeSecret failed: ThrottlingException (Rate exceeded)",
        ),
        (
            exceptions.EndpointConnectionError(endpoint_url="https://lambda.x.amazonaws.com"),
            "cannot reach AWS (Could not connect to the endpoint URL",
        ),
    ],
)
def test_aws_errors_become_one_line(error, expected):
    message = cli.aws_message(error, {"Invoke": "--env"})
    assert message is not None
    assert expected in message
    assert "\n" not in message


def test_an_xml_body_under_a_json_protocol_is_read_not_printed():
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error>'
        "<Code>AccessDenied</Code><Message>User: u is not authorized to perform: "
        "sqs:ReceiveMessage</Message></Error></Errors></ErrorResponse>"
    )
    message = cli.aws_message(client_error("ReceiveMessage", "403", body, 403))
    assert message == (
        "access denied: ReceiveMessage needs sqs:ReceiveMessage (User: u is not authorized to "
        "perform: sqs:ReceiveMessage); use credentials whose role allows it (the environment's "
        "operator role), or ask for that permission"
    )


def test_other_errors_are_not_aws_errors():
    assert cli.aws_message(ValueError("x")) is None
