"""The queue grammar `[PERCENT:]QUEUE,…` has one owner, the function's parser; the Terraform
module's validation must accept exactly what it accepts. One table of cases checks both."""

from __future__ import annotations

import pytest

from pigeon.parsers import QUEUE_ITEM, ConfigError, parse_queues
from pigeon_tools.paths import ROOT
from pigeon_tools.terraform import validate

VARIABLES = ROOT / "terraform" / "modules" / "function" / "variables.tf"
CASES = {
    # value: accepted?
    "socorro.normal": True,
    "socorro.normal,15:socorro.submitter": True,
    " a , 15 : b ": True,
    # The original socorro-pigeon's parse_queues cases, and a Terraform heredoc (CRLF too).
    "  socorro.normal\n ": True,
    "  15 : socorro.normal\n ": True,
    "socorro.normal , 10:socorro.submitter": True,
    "socorro.normal,\n  15:socorro.submitter\n": True,
    "a,\r\n\t5 :\tb\r\n": True,
    "a\nb": False,  # a newline is a blank, not a separator
    "\n101:q": False,
    "q,\nq": False,
    "a,\n": False,
    "\n": False,
    "15\n:q": True,
    "1\n5:q": False,
    "a\u00a0": False,  # a no-break space is not one of the blanks
    "a\v": False,
    "0:never,100:always": True,
    "007:q": True,
    "a_b-c.d": True,
    "q" * 255: True,
    "q" * 256: False,
    "a,,b": False,
    "a,": False,
    " ": False,
    "101:q": False,
    "1000:q": False,
    "-1:q": False,
    "1.5:q": False,
    "x:q": False,
    ":q": False,
    "15:": False,
    "a:b:c": False,
    "a b": False,
    "q/1": False,
    "\u0663:q": False,  # an Arabic-Indic digit: not a percent
    "q,q": False,
    "50:q, q": False,
}


def accepted_by_the_function(value: str) -> bool:
    try:
        parse_queues(value)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize(("value", "accepted"), CASES.items(), ids=repr)
def test_the_function_parser(value, accepted):
    assert accepted_by_the_function(value) is accepted


def test_terraform_uses_the_functions_pattern():
    text = validate.variable_block(VARIABLES, "queues").replace("\\\\", "\\")  # HCL's escape
    assert f'"^{QUEUE_ITEM.pattern}$"' in text


@pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)
def test_terraform_accepts_exactly_what_the_function_accepts():
    checks = validate.Validations(validate.variable_block(VARIABLES, "queues"))
    try:
        verdicts = {value: checks.errors(queues=value) == "" for value in CASES}
    finally:
        checks.close()
    assert verdicts == CASES
