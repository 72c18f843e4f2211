"""A recording `terraform` for the deploy tests: the subcommands deploy.sh and terraform_lock.sh
run, answered as Terraform answers them, failures included, with nothing downloaded.

    get, init              install the root's modules (local sources), keep the backend config
    providers lock         Terraform's own "Module not installed" when the modules are not
                           installed (its exact text); else writes .terraform.lock.hcl: each
                           provider the configuration (its local modules too) requires, at the
                           newest version of the registry that every constraint admits (the
                           registry: $FAKE_TERRAFORM_DIR/registry.json, {"hashicorp/aws":
                           ["6.0.0", …]}, else REGISTRY)
    plan -out=F            the var files and -var values Terraform's way (undeclared -var,
                           missing var file, missing required value: its errors); reads the
                           artifact files the root reads; the plan is FAKE_TERRAFORM_PLAN (a
                           plan JSON the test wrote) or FAKE_TERRAFORM_MODEL's (module:object)
    show -json F, show F   the saved plan
    output                 the state's outputs (-json: `{}` for an empty state; -raw NAME)
    apply F                "Saved plan is stale" when the state changed since the plan; else
                           the model's apply (or the plan's known outputs) becomes the state

Every call is one JSON line in $FAKE_TERRAFORM_DIR/calls.jsonl: its arguments, the environment
Terraform reads (TF_*), and the sha256 of every file it was given (var files, the artifact).
The S3 backend is a folder: $FAKE_TERRAFORM_DIR/backend/<bucket>/<key>. A plan or an apply
without -lock=false takes the state lock as use_lockfile does: it puts <key>.tflock, and
deletes it when done (each put is a line of $FAKE_TERRAFORM_DIR/locks.jsonl). With
FAKE_TERRAFORM_ROLE_POLICY (a file: the IAM policy of the role the credentials are, e.g.
`deploy.sh ENV policy pr-plan`) each of those S3 calls is allowed or denied as IAM decides
(an explicit Deny wins, else an Allow of the action on the object's ARN), and a denied one
fails as the S3 backend fails on AWS's AccessDenied. FAKE_TERRAFORM_ECHO (names of environment
variables): plan and `show` (the text) print their values, as a provider that logs its keys
would; the saved plan and `show -json` never hold them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

WORLD = Path(os.environ["FAKE_TERRAFORM_DIR"])
# python-hcl2 and pigeon_tools' HCL reader, whoever runs this stand-in.
sys.path.append(str(Path(__file__).resolve().parents[2] / "scripts"))
MODULE_CALL = re.compile(r'^module\s+"([^"]+)"\s*{', re.MULTILINE)
SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]+)"', re.MULTILINE)


# What the Terraform registry offers when the test says nothing: each provider's newest major.
REGISTRY = {
    "hashicorp/aws": ["6.0.0", "6.28.0"],
    "datadog/datadog": ["3.40.0", "3.84.0"],
}


def fail(summary: str, detail: str, where: str = "") -> None:
    """Terraform's diagnostic, as it prints it with -no-color, on stderr; exit 1."""
    lines = ["", f"Error: {summary}", ""]
    if where:
        lines += [where, ""]
    lines += [detail, ""]
    sys.stderr.write("\n".join(lines))
    raise SystemExit(1)


def echoed() -> list[str]:
    """The lines that print FAKE_TERRAFORM_ECHO's variables."""
    names = os.environ.get("FAKE_TERRAFORM_ECHO", "").split()
    return [f"  # (stand-in) {name}={os.environ.get(name, '')}" for name in names]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Call:
    def __init__(self, argv: list[str]) -> None:
        self.chdir = Path.cwd()
        rest = list(argv)
        while rest and rest[0].startswith("-chdir="):
            self.chdir = Path(rest.pop(0).removeprefix("-chdir="))
        self.args = rest
        self.files: dict[str, str] = {}
        self.data_dir = self.chdir / os.environ.get("TF_DATA_DIR", ".terraform")

    def record(self) -> None:
        entry = {
            "chdir": str(self.chdir),
            "cwd": os.getcwd(),
            "args": self.args,
            "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("TF_")},
            "files": self.files,
        }
        with (WORLD / "calls.jsonl").open("a") as log:
            log.write(json.dumps(entry) + "\n")

    def read(self, relative: str) -> Path:
        path = self.chdir / relative
        if path.is_file():
            self.files[relative] = sha256(path)
        return path

    # --- configuration ---------------------------------------------------------------------

    def module_calls(self) -> list[tuple[str, str, str, int]]:
        """(name, source, file, line) of each module block of the root."""
        calls = []
        for tf in sorted(self.chdir.glob("*.tf")):
            text = tf.read_text()
            for match in MODULE_CALL.finditer(text):
                source = SOURCE.search(text, match.end())
                line = text.count("\n", 0, match.start()) + 1
                calls.append((match.group(1), source.group(1) if source else "", tf.name, line))
        return calls

    def variables(self) -> dict[str, dict[str, Any]]:
        import hcl2

        from pigeon_tools.terraform.hcl import unquote

        found: dict[str, dict[str, Any]] = {}
        for tf in sorted(self.chdir.glob("*.tf")):
            with tf.open() as handle:
                for block in unquote(hcl2.load(handle)).get("variable", []):
                    found.update(block)
        return found

    def install_modules(self) -> None:
        modules = [{"Key": "", "Source": "", "Dir": "."}]
        for name, source, _, _ in self.module_calls():
            if source.startswith(("./", "../")) and not (self.chdir / source).is_dir():
                print(f"- {name} in ")
                fail(
                    "Unreadable module directory",
                    f"Unable to evaluate directory symlink: lstat {source}: no such file or\n"
                    "directory",
                )
            modules.append({"Key": name, "Source": source, "Dir": source})
            print(f"- {name} in {source}")
        (self.data_dir / "modules").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "modules" / "modules.json").write_text(json.dumps({"Modules": modules}))

    def check_modules_installed(self) -> None:
        manifest = self.data_dir / "modules" / "modules.json"
        keys = set()
        if manifest.is_file():
            keys = {m["Key"] for m in json.loads(manifest.read_text())["Modules"]}
        for name, _, file, line in self.module_calls():
            if name not in keys:
                text = (self.chdir / file).read_text().splitlines()[line - 1]
                fail(
                    "Module not installed",
                    'This module is not yet installed. Run "terraform init" to install all '
                    "modules\nrequired by this configuration.",
                    f"  on {file} line {line}:\n  {line:>2}: {text}",
                )

    # --- state -----------------------------------------------------------------------------

    def backend_arn(self) -> str:
        """The state object's ARN: arn:aws:s3:::<bucket>/<key>."""
        path = self.backend_path()
        assert path is not None
        return "arn:aws:s3:::" + path.relative_to(WORLD / "backend").as_posix()

    def denied(self, action: str, resource: str) -> str | None:
        """AWS's AccessDenied message when the role's policy does not allow this call."""
        named = os.environ.get("FAKE_TERRAFORM_ROLE_POLICY")
        if not named:
            return None
        statements = json.loads(Path(named).read_text())["Statement"]

        def matches(statement: dict[str, Any]) -> bool:
            actions, resources = statement["Action"], statement["Resource"]
            actions = [actions] if isinstance(actions, str) else actions
            resources = [resources] if isinstance(resources, str) else resources
            return any(fnmatch.fnmatchcase(action, a) for a in actions) and any(
                fnmatch.fnmatchcase(resource, r) for r in resources
            )

        effects = {s["Effect"] for s in statements if matches(s)}
        if effects == {"Allow"}:
            return None
        why = (
            "with an explicit deny in an identity-based policy"
            if "Deny" in effects
            else (f"because no identity-based policy allows the {action} action")
        )
        return (
            "User: arn:aws:sts::123456789012:assumed-role/pigeon-deploy/session is not "
            f'authorized to perform: {action} on resource: "{resource}" {why}'
        )

    def s3_call(self, operation: str, action: str, resource: str) -> str | None:
        """The S3 backend's error text for a denied call (None: allowed)."""
        message = self.denied(action, resource)
        if message is None:
            return None
        return (
            f"operation error S3: {operation}, https response error StatusCode: 403, "
            f"RequestID: 0000000000000000, HostID: stand-in, api error AccessDenied: {message}"
        )

    def lock(self) -> bool:
        """Take the state lock (use_lockfile) unless -lock=false: True when taken."""
        if "-lock=false" in self.args:
            return False
        lock = f"{self.backend_arn()}.tflock"
        error = self.s3_call("PutObject", "s3:PutObject", lock)
        with (WORLD / "locks.jsonl").open("a") as log:
            log.write(json.dumps({"put": lock, "allowed": error is None}) + "\n")
        if error:
            fail(
                "Error acquiring the state lock",
                f"Error message: {error}\n\nTerraform acquires a state lock to protect the "
                "state from being written\nby multiple users at the same time. Please resolve "
                "the issue above and try\nagain. For most commands, you can disable locking "
                'with the "-lock=false"\nflag, but this is not recommended.',
            )
        path = self.backend_path()
        assert path is not None
        lock_path = path.with_name(path.name + ".tflock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path.write_text(json.dumps({"Operation": f"Operation{self.args[0].title()}"}))
        return True

    def unlock(self) -> None:
        lock = f"{self.backend_arn()}.tflock"
        error = self.s3_call("DeleteObject", "s3:DeleteObject", lock)
        if error:
            fail("Error releasing the state lock", f"Error message: {error}")
        path = self.backend_path()
        assert path is not None
        path.with_name(path.name + ".tflock").unlink(missing_ok=True)

    def backend_path(self) -> Path | None:
        marker = self.data_dir / "terraform.tfstate"
        if not marker.is_file():
            return None
        config = json.loads(marker.read_text())["backend"]["config"]
        return WORLD / "backend" / config.get("bucket", "local") / config.get("key", "state")

    def state(self) -> dict[str, Any]:
        path = self.backend_path()
        if path is None:
            fail(
                'Backend initialization required, please run "terraform init"',
                'Reason: Initial configuration of the requested backend "s3"',
            )
        assert path is not None
        error = self.s3_call("GetObject", "s3:GetObject", self.backend_arn())
        if error:
            fail("Failed to load state", f"{error}")
        if not path.is_file():
            return {"serial": 0, "lineage": "", "outputs": {}, "resources": {}}
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        path = self.backend_path()
        assert path is not None
        error = self.s3_call("PutObject", "s3:PutObject", self.backend_arn())
        if error:
            fail("Failed to save state", f"{error}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=1))

    # --- subcommands -----------------------------------------------------------------------

    def version(self) -> None:
        print("Terraform v1.13.4\non linux_amd64")

    def get(self) -> None:
        self.install_modules()

    def init(self) -> None:
        options = [a for a in self.args[1:] if a.startswith("-")]
        if "-lockfile=readonly" in options and not (self.chdir / ".terraform.lock.hcl").is_file():
            fail(
                "Provider dependency changes detected",
                "Changes to the required provider dependencies were detected, but the lock file "
                'is read-only. To use and record these requirements, run "terraform init" '
                'without the "-lockfile=readonly" flag.',
            )
        print("Initializing the backend...")
        self.install_modules()
        config: dict[str, str] = {}
        for option in options:
            if option.startswith("-backend-config="):
                value = option.removeprefix("-backend-config=")
                if "=" in value:
                    key, _, item = value.partition("=")
                    config[key] = item
                else:
                    self.read(value)
                    config.update(self.tfvars(self.chdir / value))
        if "-backend=false" not in options:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            (self.data_dir / "terraform.tfstate").write_text(
                json.dumps({"backend": {"type": "s3", "config": config}})
            )
        print("\nTerraform has been successfully initialized!")

    def providers(self) -> None:
        if self.args[1:2] != ["lock"]:
            fail("Unsupported by the stand-in", " ".join(self.args))
        self.check_modules_installed()
        platforms = [a.removeprefix("-platform=") for a in self.args if a.startswith("-platform=")]
        path = WORLD / "registry.json"
        registry = json.loads(path.read_text()) if path.is_file() else REGISTRY
        locked = []
        for source, constraints in sorted(self.required_providers(self.chdir).items()):
            chosen = self.newest(registry.get(source, []), constraints)
            if chosen is None:
                fail(
                    "Failed to query available provider packages",
                    f"Could not retrieve the list of available versions for provider {source}: "
                    f"no available releases match the given constraints {', '.join(constraints)}",
                )
            for platform in platforms:
                print(f"- Obtained {source} checksums for {platform} (signed by HashiCorp)")
            locked.append(
                f'provider "registry.terraform.io/{source}" {{\n'
                f'  version     = "{chosen}"\n'
                f'  constraints = "{", ".join(constraints)}"\n'
                "  hashes = [\n"
                + "".join(f'    "zh:stand-in-{platform}",\n' for platform in platforms)
                + "  ]\n}\n"
            )
        (self.chdir / ".terraform.lock.hcl").write_text(
            '# This file is maintained automatically by "terraform init".\n'
            "# Manual edits may be lost in future updates.\n\n" + "\n".join(locked)
        )
        print("\nSuccess! Terraform has updated the lock file.")

    @staticmethod
    def required_providers(directory: Path) -> dict[str, list[str]]:
        """Each provider's source (lowercase, as Terraform keys it) and every constraint on it
        in the configuration: this directory's and its local modules', all of them."""
        from pigeon_tools.terraform.hcl import load

        found: dict[str, list[str]] = {}
        module = load(directory)
        for block in module.blocks.get("terraform", []):
            for required in block.get("required_providers", []):
                for spec in required.values():
                    source = str(spec["source"]).lower()
                    if "/" not in source:
                        source = f"hashicorp/{source}"
                    wanted = found.setdefault(source, [])
                    if spec.get("version") and spec["version"] not in wanted:
                        wanted.append(spec["version"])
        for call in module.module_calls().values():
            child = (directory / str(call.get("source", ""))).resolve()
            # A local module (the registry's are never used here); one missing is `get`'s error.
            if str(call.get("source", "")).startswith(("./", "../")) and any(child.glob("*.tf")):
                for source, more in Call.required_providers(child).items():
                    wanted = found.setdefault(source, [])
                    wanted += [c for c in more if c not in wanted]
        return found

    @staticmethod
    def newest(offered: list[str], constraints: list[str]) -> str | None:
        from pigeon_tools.terraform import versions

        fitting = [
            v for v in offered if all(versions.admits(c, versions.version(v)) for c in constraints)
        ]
        return max(fitting, key=versions.version) if fitting else None

    @staticmethod
    def tfvars(path: Path) -> dict[str, Any]:
        import hcl2

        from pigeon_tools.terraform.hcl import unquote

        with path.open() as handle:
            parsed = hcl2.load(handle)
        return {str(k): unquote(v) for k, v in parsed.items() if not str(k).startswith("__")}

    def plan(self) -> None:
        declared = self.variables()
        values = {k: v["default"] for k, v in declared.items() if "default" in v}
        out = None
        for arg in self.args[1:]:
            if arg.startswith("-out="):
                out = arg.removeprefix("-out=")
            elif arg.startswith("-var-file="):
                name = arg.removeprefix("-var-file=")
                path = self.read(name)
                if not path.is_file():
                    fail(
                        "Failed to read variables file",
                        f"Given variables file {name} does not exist.",
                    )
                values.update(self.tfvars(path))
            elif arg.startswith("-var="):
                name, _, raw = arg.removeprefix("-var=").partition("=")
                if name not in declared:
                    fail(
                        "Value for undeclared variable",
                        f'A variable named "{name}" was assigned on the command line, but the '
                        "root module does not declare a variable of that name. To use this "
                        'value, add a "variable" block to the configuration.',
                    )
                kind = str(declared[name].get("type", "string"))
                values[name] = (
                    {"true": True, "false": False}.get(raw, raw) if kind == "bool" else raw
                )
        for name in declared:
            if name not in values:
                fail(
                    "No value for required variable",
                    f'The root module input variable "{name}" is not set, and has no default '
                    "value. Use a -var or -var-file command line argument to provide a value "
                    "for this variable.",
                )
        artifact = values.get("artifact_dir")
        if isinstance(artifact, str):
            for name in ("pigeon.zip", "pigeon.zip.sha256", "pigeon.version.json"):
                if not self.read(f"{artifact}/{name}").is_file():
                    fail(
                        "Invalid function argument",
                        f'Invalid value for "path" parameter: no file exists at '
                        f'"{artifact}/{name}"; this function works only with files that are '
                        "distributed as part of the configuration source code.",
                    )
        if out is None:
            fail("Unsupported by the stand-in", "plan without -out")
        assert out is not None
        self.state()  # the backend must be initialized before it locks
        locked = self.lock()
        try:
            state = self.state()
            document = self.planned(values, state)
            document["variables"] = {k: {"value": v} for k, v in sorted(values.items())}
            target = self.chdir / out
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps({"serial": state["serial"], "plan": document}))
        finally:
            if locked:
                self.unlock()
        for line in echoed():
            print(line)
        print(f"\nSaved the plan to: {out}")

    def planned(self, values: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        fixed = os.environ.get("FAKE_TERRAFORM_PLAN")
        if fixed:
            document: dict[str, Any] = json.loads(Path(fixed).read_text())
            return document
        model = os.environ.get("FAKE_TERRAFORM_MODEL")
        if model:
            module, _, name = model.partition(":")
            planned: dict[str, Any] = getattr(importlib.import_module(module), name).plan(
                values, state
            )
            return planned
        return {"format_version": "1.2", "resource_changes": [], "planned_values": {}}

    def saved(self, relative: str) -> dict[str, Any]:
        path = self.read(relative)
        if not path.is_file():
            fail("Failed to load plan file", f"Could not read plan from {relative}")
        saved: dict[str, Any] = json.loads(path.read_text())
        return saved

    def show(self) -> None:
        files = [a for a in self.args[1:] if not a.startswith("-")]
        document = self.saved(files[0])["plan"]
        if "-json" in self.args:
            print(json.dumps(document))
            return
        counts = {"create": 0, "update": 0, "delete": 0}
        print("Terraform will perform the following actions:\n")
        for line in echoed():
            print(line)
        for change in document.get("resource_changes", []):
            actions = change["change"]["actions"]
            for action in actions:
                if action in counts:
                    counts[action] += 1
            print(f"  # {change['address']} will be {'/'.join(actions)}")
        print(
            f"\nPlan: {counts['create']} to add, {counts['update']} to change, "
            f"{counts['delete']} to destroy."
        )

    def output(self) -> None:
        outputs = self.state()["outputs"]
        names = [a for a in self.args[1:] if not a.startswith("-")]
        if "-json" in self.args and not names:
            print(json.dumps(outputs, indent=2))
            return
        if not outputs:
            print(
                "\nWarning: No outputs found\n\nThe state file either has no outputs defined, or "
                "all the defined outputs are empty.",
                file=sys.stderr,
            )
            return
        if names and names[0] not in outputs:
            fail(
                f'Output "{names[0]}" not found',
                "The output variable requested could not be found in the state file. If you "
                "recently added this to your configuration, be sure to run `terraform apply`, "
                "since the state won't be updated with new output variables until that command "
                "is run.",
            )
        value = outputs[names[0]]["value"]
        print(value if "-raw" in self.args else json.dumps(value))

    def apply(self) -> None:
        files = [a for a in self.args[1:] if not a.startswith("-")]
        if not files:
            fail("Unsupported by the stand-in", "apply without a saved plan")
        saved = self.saved(files[0])
        self.state()
        locked = self.lock()
        try:
            state = self.state()
            if saved["serial"] != state["serial"]:
                fail(
                    "Saved plan is stale",
                    "The given plan file can no longer be applied because the state was changed by "
                    "another operation after the plan was created.",
                )
            document = saved["plan"]
            model = os.environ.get("FAKE_TERRAFORM_MODEL")
            if model:
                module, _, name = model.partition(":")
                state = getattr(importlib.import_module(module), name).apply(document, state)
            else:
                planned = (document.get("planned_values") or {}).get("outputs") or {}
                state["outputs"] = {
                    k: {"value": v["value"], "type": "string", "sensitive": False}
                    for k, v in planned.items()
                    if "value" in v
                }
            state["serial"] += 1
            self.write_state(state)
        finally:
            if locked:
                self.unlock()
        changes = document.get("resource_changes", [])
        added = sum("create" in c["change"]["actions"] for c in changes)
        changed = sum("update" in c["change"]["actions"] for c in changes)
        destroyed = sum("delete" in c["change"]["actions"] for c in changes)
        print(
            f"\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed."
        )


COMMANDS = ("version", "get", "init", "providers", "plan", "show", "output", "apply")


def main() -> None:
    WORLD.mkdir(parents=True, exist_ok=True)
    call = Call(sys.argv[1:])
    try:
        command = call.args[0] if call.args else "version"
        if command not in COMMANDS:
            fail("Unsupported by the stand-in", f"terraform {command}")
        getattr(call, command)()
    finally:
        call.record()


if __name__ == "__main__":
    main()
