"""The conventions every Python entry point under scripts/ follows.

- `--help`: the first paragraph of the script's docstring is the description, the rest (usage
  examples, environment variables, files) the epilog; every default is shown.
- One error format, on one line: ``TOOL: error: WHAT FAILED; WHAT TO DO`` (argparse's usage
  errors have the same shape).
- Exit codes: 0 ok, 1 failure, 2 usage, 130 interrupted (Ctrl-C).
- AWS errors (botocore's exceptions: no credentials, a missing function or queue, AccessDenied)
  become that one line, naming the call that failed and what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

OK, FAILURE, USAGE, INTERRUPTED = 0, 1, 2, 130


class Failure(Exception):
    """What failed and what to do about it: one line, exit `status`."""

    def __init__(self, what: str, todo: str = "", status: int = FAILURE) -> None:
        super().__init__(f"{what}; {todo}" if todo else what)
        self.status = status


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The docstring's layout kept as written; each option's default shown."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = not (default is None or default is False or default in (argparse.SUPPRESS, []))
        if shown and "%(default)" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def parser(doc: str | None, prog: str | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser whose description and epilog are the module docstring `doc`."""
    summary, _, rest = (doc or "").strip().partition("\n\n")
    return argparse.ArgumentParser(
        prog=prog, description=summary, epilog=rest or None, formatter_class=HelpFormatter
    )


def say(tool: str, message: str) -> None:
    print(f"{tool}: {message}", file=sys.stderr, flush=True)


def error(tool: str, message: str) -> None:
    """The one error format: a single line on stderr."""
    say(tool, f"error: {' '.join(message.split())}")


# -- AWS -------------------------------------------------------------------------------------
REJECTED = {
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidToken",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "KMSAccessDeniedException",
    "UnauthorizedOperation",
}
NOT_FOUND = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "NoSuchBucket",
    "NotFound",
    "QueueDoesNotExist",
    "ResourceNotFoundException",
}
# The IAM action of the calls whose name is not simply service:Operation.
ACTIONS = {
    "Invoke": "lambda:InvokeFunction",
    "ListObjectsV2": "s3:ListBucket",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
}
SERVICES = {
    "Invoke": "lambda",
    "GetQueueUrl": "sqs",
    "GetQueueAttributes": "sqs",
    "ReceiveMessage": "sqs",
    "DeleteMessage": "sqs",
    "ChangeMessageVisibility": "sqs",
    "ListObjectsV2": "s3",
}
CREDENTIALS_TODO = (
    "set AWS_PROFILE (after `aws sso login --profile NAME`), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, for the account of the environment"
)
XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")


def _code_and_message(response: dict[str, Any]) -> tuple[str, str]:
    found = response.get("Error", {})
    code, message = str(found.get("Code", "")), str(found.get("Message", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if message.lstrip().startswith("<"):  # an XML error body under a JSON protocol: read it
        fields = dict(XML_FIELD.findall(message))
        code, message = fields.get("Code", code), fields.get("Message", "")
    if code.isdigit() and status == 403 and not message:
        code = "AccessDenied"
    return code, message


def _action(operation: str) -> str:
    service = SERVICES.get(operation)
    return ACTIONS.get(operation) or (f"{service}:{operation}" if service else operation)


def aws_message(error: BaseException, hints: dict[str, str] | None = None) -> str | None:
    """One line for a botocore exception (what failed; what to do), or None for any other.
    `hints` maps an operation (Invoke, ReceiveMessage, …) to what the user should check."""
    from botocore import exceptions as aws

    hints = hints or {}
    if isinstance(error, aws.NoCredentialsError | aws.PartialCredentialsError):
        return f"no AWS credentials found ({error}); {CREDENTIALS_TODO}"
    if isinstance(error, aws.NoRegionError):
        return "no AWS region; set AWS_REGION (or pass --region)"
    if isinstance(error, aws.EndpointConnectionError | aws.ConnectTimeoutError):
        return f"cannot reach AWS ({error}); check the network, the region and any endpoint URL"
    if isinstance(error, aws.ReadTimeoutError):
        return f"AWS did not answer in time ({error}); run the command again"
    if isinstance(error, aws.ParamValidationError):
        return f"an invalid argument for AWS: {error}"
    if not isinstance(error, aws.ClientError):
        if isinstance(error, aws.BotoCoreError):
            return f"AWS: {error}"
        return None
    operation = error.operation_name
    code, message = _code_and_message(error.response)  # type: ignore[arg-type]
    message = message.strip().rstrip(".")
    said = f" ({message})" if message else ""
    check = hints.get(operation, "the names and the region (AWS_REGION)")
    if code in REJECTED:
        return f"AWS rejected the credentials calling {operation}: {code}{said}; {CREDENTIALS_TODO}"
    if code in DENIED or (code.startswith("AccessDenied")):
        return (
            f"access denied: {operation} needs {_action(operation)}{said}; use credentials whose "
            "role allows it (the environment's operator role), or ask for that permission"
        )
    if code in NOT_FOUND:
        return f"not found: {operation}: {message or code}; check {check}"
    return f"{operation} failed: {code}{said}"


# -- running an entry point ------------------------------------------------------------------
def run(entry: Callable[[], int], tool: str, aws_hints: dict[str, str] | None = None) -> NoReturn:
    """Run `entry` and exit with its status; every failure ends as one line and its code."""
    status: int
    try:
        status = entry()
    except Failure as failure:
        error(tool, str(failure))
        status = failure.status
    except KeyboardInterrupt:
        error(tool, "interrupted")
        status = INTERRUPTED
    except BrokenPipeError:  # `… | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = FAILURE
    except Exception as failure:
        message = aws_message(failure, aws_hints) if _from_botocore(failure) else None
        if message is None:
            raise
        error(tool, message)
        status = FAILURE
    sys.exit(status)


def _from_botocore(error: BaseException) -> bool:
    return any(kind.__module__.startswith("botocore") for kind in type(error).__mro__)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C waits until the block is done: a file is written whole, or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
