"""The function's env file (pigeon.env), read by the rules docker compose uses for `env_file`.

One parser in every mode: python-dotenv's. `#` comments, `KEY=value # note` (a space before
`#`), both quote styles, `export KEY=…`, `=` inside values, empty values, and `${VAR}` expanded
in unquoted and double-quoted values (single-quoted ones are literal, as in compose).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from dotenv.parser import parse_stream
from dotenv.variables import parse_variables


class EnvFileError(ValueError):
    """A line that is not KEY=VALUE; the message names the file and line, never the text (it
    may hold a secret)."""


def read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError as error:
        raise EnvFileError(f"{path}: cannot read the env file: {error.strerror}") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            raise EnvFileError(f"{path}:{binding.original.line}: not a KEY=VALUE line")
        if binding.key is None or binding.value is None:
            continue  # a comment or a blank line
        literal = binding.original.string.partition("=")[2].lstrip().startswith("'")
        known = {**os.environ, **values}
        values[binding.key] = (
            binding.value
            if literal
            else "".join(atom.resolve(known) for atom in parse_variables(binding.value))
        )
    return values
