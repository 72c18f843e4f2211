"""What every figure needs: copies of the built zip (Pigeon's; the same without its bytecode;
one with the baselines beside it, compiled like the build compiles), a durable queue on the
broker, and functions to run in the local runtime."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from pigeon_tools import archive, events, queues
from pigeon_tools.build import bytecode
from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec
from pigeon_tools.paths import ZIP

BASELINES = Path(__file__).resolve().parent / "baselines"
# What the naive baseline imports and Pigeon's zip no longer holds (the function signs its one
# AWS call itself): boto3 and its dependencies, from the dev venv (the same lock), compiled
# beside it. In Lambda such a handler imports the runtime's boto3 or ships its own; it imports
# it at Init either way.
SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def add_sdk(root: Path) -> list[str]:
    """Copy each SDK package the task root lacks into it; the .py files added."""
    import importlib.util

    added: list[str] = []
    for name in SDK:
        if (root / name).exists() or (root / f"{name}.py").exists():
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"bench: the naive baseline needs {name}, not in the dev venv")
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(
                origin.parent, root / name, ignore=shutil.ignore_patterns("__pycache__")
            )
            added += [str(p.relative_to(root)) for p in sorted((root / name).rglob("*.py"))]
        else:
            shutil.copy(origin, root / origin.name)
            added.append(origin.name)
    return added


class Workbench:
    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.ours = archive.extract(ZIP, workdir / "ours")
        # The same build without bytecode: what every cold start compiled before the zip had it.
        self.source = workdir / "source"
        shutil.copytree(self.ours, self.source, ignore=shutil.ignore_patterns("__pycache__"))
        self.baseline = workdir / "baseline"
        shutil.copytree(self.ours, self.baseline)
        added = []
        for module in BASELINES.glob("*.py"):
            if module.name != "__init__.py":
                shutil.copy(module, self.baseline / module.name)
                added.append(module.name)
        added += add_sdk(self.baseline)
        python = bytecode.target_python()
        bytecode.run(bytecode.compiler(python), "compile", self.baseline, sorted(added))
        self.queue = f"bench.{uuid.uuid4().hex[:8]}"
        queues.declare(self.url, self.queue)

    def purge(self) -> None:
        queues.purge(self.url, self.queue)

    def sandbox(self, root: Path, handler: str, **env: str) -> Sandbox:
        environment = function.environment(
            self.url, self.queue, PIGEON_ENV="bench", PIGEON_LOG_LEVEL="WARNING", **env
        )
        spec = FunctionSpec(root, handler, name="pigeon", timeout_s=60, environment=environment)
        return Sandbox(spec)

    def ours_sandbox(self, **env: str) -> Sandbox:
        return self.sandbox(self.ours, function.HANDLER, **env)

    @staticmethod
    def one_accepted() -> bytes:
        return json.dumps(events.for_crash_ids([events.new_crash_id("accept")])).encode()

    @staticmethod
    def accepted_event(n: int) -> bytes:
        return json.dumps(events.for_crash_ids([events.new_crash_id() for _ in range(n)])).encode()
