"""A saved plan and what it was made from, side by side in ROOT/.plan/<env>/:

    tfplan          terraform plan -out
    plan.txt        terraform show (what the reviewer reads)
    metadata.json   the commit, the zip's sha256, the environment, the decisions and the backend

CI's plan job uploads the folder; the apply job (after the environment's reviewers approved
that plan) downloads it and applies exactly that tfplan, after checking that its own checkout
and zip are the ones the plan was made from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pigeon_tools.deploy.terraform import plan_dir

FORMAT = 1
METADATA = "metadata.json"
PLAN_TEXT = "plan.txt"


@dataclass(frozen=True)
class Metadata:
    format: int
    environment: str
    commit: str
    zip_sha256: str
    attested: bool
    traffic_enabled: bool
    allow_destroy: tuple[str, ...]
    backend: tuple[str, ...]
    plan_sha256: str
    ci_run_id: str | None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def folder(root: Path, env: str) -> Path:
    return root / plan_dir(env)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(root: Path, metadata: Metadata) -> Path:
    path = folder(root, metadata.environment) / METADATA
    path.write_text(metadata.to_json())
    return path


def read(root: Path, env: str) -> Metadata:
    """Raises OSError or ValueError when the folder holds no readable metadata."""
    raw: dict[str, Any] = json.loads((folder(root, env) / METADATA).read_text())
    if raw.get("format") != FORMAT:
        raise ValueError(f"metadata format {raw.get('format')!r}, this deploy.sh reads {FORMAT}")
    for key in ("allow_destroy", "backend"):
        raw[key] = tuple(raw.get(key) or ())
    return Metadata(**raw)
