"""pigeon.env read as docker compose reads it (python-dotenv's parser)."""

from __future__ import annotations

import pytest

from pigeon_tools.lambda_local import envfile

TRICKY = """\
# a comment
PLAIN=value # an inline comment
HASH=value#not-a-comment
DOUBLE="quoted # not a comment"
SINGLE='literal ${HOME} # kept'
export EXPORTED=yes
EQUALS=a=b=c
EMPTY=
  SPACED = around
REF=${PLAIN}-and-more
QUOTED_REF="${EQUALS}"
"""


def test_the_env_file_reads_as_docker_compose_reads_it(tmp_path):
    path = tmp_path / "fn.env"
    path.write_text(TRICKY)
    assert envfile.read(path) == {
        "PLAIN": "value",
        "HASH": "value#not-a-comment",
        "DOUBLE": "quoted # not a comment",
        "SINGLE": "literal ${HOME} # kept",
        "EXPORTED": "yes",
        "EQUALS": "a=b=c",
        "EMPTY": "",
        "SPACED": "around",
        "REF": "value-and-more",
        "QUOTED_REF": "a=b=c",
    }


@pytest.mark.parametrize(("bad", "line"), [("JUST_A_NAME", 3), ("not a key = value", 3)])
def test_a_line_that_is_not_key_value_names_the_file_and_line(tmp_path, bad, line):
    path = tmp_path / "fn.env"
    path.write_text(f"A=1\n# fine\n{bad}\nB=2\n")
    with pytest.raises(envfile.EnvFileError) as raised:
        envfile.read(path)
    assert str(raised.value) == f"{path}:{line}: not a KEY=VALUE line"
