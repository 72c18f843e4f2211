"""docs/operations.md is a runbook whose commands run as written: its `sh` blocks run in order
in one bash (`set -euo pipefail`: a failing command or an unset variable stops it) from the
checkout's root, as an on-call engineer pastes them, against
- moto's server for the AWS account (the on-failure queue holding Lambda's destination records,
  the dead-letter queue, the crash bucket named in ENV.tfvars, the broker secret);
- a stand-in `terraform` that answers `output` from the root's declared outputs, and refuses as
  Terraform does before `init` ("Backend initialization required");
- a stand-in `aws` (the AWS CLI is not part of the checkout) that runs the command through
  boto3 with the CLI's `--query` and `--output text`, and answers StartMessageMoveTask (which
  moto lacks) as SQS does;
- `rabbitmqctl` aimed at the test node, the built zip in the local runtime as pigeon-ENV, and
  a real broker.
Each block must run; what it says it does must have happened. Blocks marked
`<!-- runbook: not run … -->` (deploys) are checked for syntax and names only. The tools' names
for an environment are tied to what terraform/ creates."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from pigeon_tools import events, moto_server
from pigeon_tools.broker.node import CTL
from pigeon_tools.operate import environment
from pigeon_tools.operate.rotation import login_works
from pigeon_tools.paths import CACHE, ROOT
from pigeon_tools.terraform import hcl
from support import commands, evidence

RUNBOOK = ROOT / "docs" / "operations.md"
BLOCK = re.compile(r"(?:<!-- runbook: (?P<note>[^>]*?) -->\n)?```sh\n(?P<body>.*?)```", re.S)
USED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
ASSIGNED = re.compile(r"(?:^|[\s;(])(?:export\s+)?((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s*)+)", re.M)
# Set by what the runbook runs (the venv's activate) or by any shell.
GIVEN = {"PATH", "HOME", "PWD", "VIRTUAL_ENV"}


@dataclass(frozen=True)
class Block:
    index: int
    heading: str
    body: str
    run: bool

    @property
    def id(self) -> str:
        return f"{self.index}: {self.heading}"


def blocks() -> list[Block]:
    text = RUNBOOK.read_text()
    found = []
    for n, match in enumerate(BLOCK.finditer(text)):
        headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)
        heading = headings[-1] if headings else ""
        found.append(Block(n, heading, match["body"], run=match["note"] is None))
    return found


def assigned(body: str) -> set[str]:
    names = set()
    for group in ASSIGNED.findall(body):
        names |= set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", group))
    return names


def test_every_variable_the_runbook_uses_is_set_in_it_first():
    known = set(GIVEN)
    for block in blocks():
        body = re.sub(r"'[^']*'", "", block.body)  # not expanded in single quotes
        unset = {name for name in USED.findall(body) if name not in known} - assigned(body)
        assert not unset, f"block {block.id} uses {sorted(unset)}, set nowhere before it"
        known |= assigned(body)


def test_the_blocks_not_run_are_valid_shell_and_valid_deploy_commands():
    for block in blocks():
        checked = subprocess.run(["bash", "-n"], input=block.body, text=True, capture_output=True)
        assert checked.returncode == 0, f"block {block.id}: {checked.stderr}"
        for action in re.findall(r"scripts/deploy\.sh \"\$ENV\" (\S+)", block.body):
            assert action in ("plan", "apply", "output"), f"block {block.id}: {action}"


def test_the_outputs_the_runbook_reads_are_the_roots():
    declared = set(hcl.load(hcl.TERRAFORM / "environments").outputs())
    read = {name for b in blocks() for name in re.findall(r"output -raw (\w+)", b.body)}
    assert read
    assert read <= declared, read - declared


def test_the_tools_name_an_environment_as_terraform_does():
    """--env ENV means pigeon-ENV, its queue pigeon-ENV-on-failure, its secret
    pigeon-ENV/rabbitmq: what terraform/modules create from env."""
    pigeon = hcl.load(hcl.TERRAFORM / "modules" / "pigeon")
    name = next(block["name"] for block in pigeon.blocks["locals"] if "name" in block)
    function = hcl.load(hcl.TERRAFORM / "modules" / "function")
    queue = function.resources("aws_sqs_queue")["on_failure"]["name"]
    secret = pigeon.module_calls()["secrets"]["name"]
    module_name = pigeon.module_calls()["function"]["name"]
    assert module_name == "${local.name}"

    def terraform(template: str, env: str) -> str:
        text = template.replace("${var.env}", env).replace("${local.name}", f"pigeon-{env}")
        return text.replace("${var.name}", name.replace("${var.env}", env))

    for env in ("stage", "prod"):
        assert environment.function_name(env) == terraform(name, env)
        assert environment.failure_queue_name(env) == terraform(queue, env)
        assert environment.secret_name(env) == terraform(secret, env)
    assert environment.names() == sorted(
        p.stem for p in hcl.TERRAFORM.glob("environments/*.tfvars")
    )


# -- the runbook, run -------------------------------------------------------------------------
STANDIN_TERRAFORM = """\
import json, os, sys
from pathlib import Path
log, outputs = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
args = sys.argv[3:]
with log.open("a") as f:
    f.write("terraform " + " ".join(args) + "\\n")
chdir = next((a.split("=", 1)[1] for a in args if a.startswith("-chdir=")), ".")
rest = [a for a in args if not a.startswith("-chdir=")]
# As Terraform: -chdir first, so a relative TF_DATA_DIR is relative to that directory.
data = Path(chdir) / os.environ.get("TF_DATA_DIR", ".terraform")
state = data / "terraform.tfstate"
if rest[:1] == ["init"]:
    if "-lockfile=readonly" in rest and not (Path(chdir) / ".terraform.lock.hcl").is_file():
        sys.stderr.write(  # Terraform's own words
            "\\u2577\\n\\u2502 Error: Provider dependency changes detected\\n\\u2502\\n"
            "\\u2502 Changes to the required provider dependencies were detected, but the "
            "lock file is read-only.\\n\\u2575\\n"
        )
        sys.exit(1)
    data.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"backend": {"type": "s3", "args": rest[1:]}}))
    print("Terraform has been successfully initialized!")
    sys.exit(0)
if rest[:1] == ["output"]:
    if not state.exists():
        sys.stderr.write(
            "\\u2577\\n\\u2502 Error: Backend initialization required, please run "
            '"terraform init"\\n\\u2502\\n\\u2502 Reason: Initial configuration of the '
            'requested backend "s3"\\n\\u2575\\n'
        )
        sys.exit(1)
    names = [a for a in rest[1:] if not a.startswith("-")]
    if names and names[0] not in outputs:
        sys.stderr.write(f'\\u2577\\n\\u2502 Error: Output "{names[0]}" not found\\n\\u2575\\n')
        sys.exit(1)
    if "-raw" in rest:
        sys.stdout.write(str(outputs[names[0]]))
    else:
        print(json.dumps(outputs[names[0]]) if names else json.dumps(outputs))
    sys.exit(0)
sys.stderr.write(f"stand-in terraform: {rest[:1]} is not what a read-only runbook runs\\n")
sys.exit(1)
"""

STANDIN_AWS = """\
import json, sys, uuid
from pathlib import Path
import boto3, jmespath
log = Path(sys.argv[1])
args = sys.argv[2:]
with log.open("a") as f:
    f.write("aws " + " ".join(args) + "\\n")
service, command, options = args[0], args[1], args[2:]
query, text, params, key = None, False, {}, None
for word in options:
    if word.startswith("--"):
        key = word[2:]
        if key == "output":
            continue
        params.setdefault(key, [])
    elif key == "output":
        text = word == "text"
    elif key == "query":
        query = word
    else:
        params[key].append(word)
params.pop("query", None)
client = boto3.client("s3" if service == "s3api" else service)
operation = "".join(part.title() for part in command.split("-"))
shape = client.meta.service_model.operation_model(operation).input_shape
members = {name.lower(): name for name in shape.members}
call = {}
for name, values in params.items():
    member = members[name.replace("-", "")]
    kind = shape.members[member].type_name
    call[member] = values if kind == "list" else values[0]
if operation == "StartMessageMoveTask":  # moto has none: answer as SQS does
    name = call["SourceArn"].rsplit(":", 1)[1]
    client.get_queue_url(QueueName=name)  # the source must exist
    result = {"TaskHandle": uuid.uuid4().hex}
else:
    result = getattr(client, "_".join(w.lower() for w in command.split("-")))(**call)
    result.pop("ResponseMetadata", None)
if query:
    result = jmespath.search(query, result)
if text:
    print("\\t".join(map(str, result)) if isinstance(result, list) else result)
else:
    print(json.dumps(result, indent=4, default=str))
"""


def standin(folder: Path, name: str, program: str, *args: str) -> None:
    (folder / f"{name}.py").write_text(program)
    quoted = " ".join(f'"{a}"' for a in (sys.executable, str(folder / f"{name}.py"), *args))
    path = folder / name
    path.write_text(f'#!/bin/sh\nexec {quoted} "$@"\n')
    path.chmod(0o755)


def destination_record(event: dict) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": event,
            "responsePayload": {"errorType": "PublishError", "errorMessage": "could not connect"},
        }
    )


@dataclass
class Site:
    """The account, the broker and the laptop the runbook meets."""

    env: str
    folder: Path
    root: Path  # the Terraform root the tools and deploy.sh read
    environment: dict[str, str]
    calls: Path
    sqs: object
    failed_url: str
    dlq_url: str
    bucket: str
    checkpoint: Path
    expected: list[str]  # every accepted id the runbook's redrives and backfills publish
    queue: str
    secret_arn: str
    users: tuple[str, str]

    def script(self, chosen: list[Block]) -> str:
        lines = ["set -euo pipefail", f"cd {ROOT}"]
        for block in chosen:
            lines += [
                f'echo "::start {block.index}:: $(date +%s.%N)"',
                block.body,
                f'echo "::ok {block.index}:: $(date +%s.%N)"',
            ]
        return "\n".join(lines) + "\n"

    def run(self, chosen: list[Block]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["bash", "-c", self.script(chosen)],
            env=self.environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=580,
        )
        evidence.seen("runbook", done.stdout, done.stderr)
        return done


def runbook_env() -> str:
    for block in blocks():
        found = re.search(r"^ENV=(\w+)$", block.body, re.M)
        if found:
            return found[1]
    raise AssertionError("the runbook sets no ENV")


def runbook_days() -> list[str]:
    text = " ".join(b.body for b in blocks())
    first, last = re.findall(r"--from (\S+)", text)[0], re.findall(r"--to (\S+)", text)[0]
    return [first, last]


@pytest.fixture(scope="module")
def site(tmp_path_factory, moto_endpoint, broker, pigeon_url):
    env = runbook_env()
    folder = tmp_path_factory.mktemp("runbook")
    calls = folder / "calls.log"
    # The Terraform root as committed, with this site's crash bucket.
    root = folder / "environments"
    shutil.copytree(
        hcl.TERRAFORM / "environments", root, ignore=shutil.ignore_patterns(".terraform*")
    )
    bucket = f"crashes-runbook-{uuid.uuid4().hex[:8]}"
    tfvars = root / f"{env}.tfvars"
    kept = [line for line in tfvars.read_text().splitlines() if not line.startswith("bucket_name")]
    tfvars.write_text("\n".join([*kept, f'bucket_name = "{bucket}"']) + "\n")
    lock = root / ".terraform.lock.hcl"
    if not lock.exists():  # until the terraform-lock workflow's file is committed
        lock.write_text("# providers locked\n")
    s3 = moto_server.client("s3", moto_endpoint)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    expected: list[str] = []
    for day in runbook_days():
        date = datetime.date.fromisoformat(day)
        ids = [events.new_crash_id("accept", date) for _ in range(4)]
        ids.append(events.new_crash_id("defer", date))
        expected += [i for i in ids if i[-7] == "0"]
        for crash_id in ids:
            s3.put_object(Bucket=bucket, Key=events.raw_crash_key(crash_id), Body=b"{}")
    sqs = moto_server.client("sqs", moto_endpoint)
    failed_url = sqs.create_queue(QueueName=f"pigeon-{env}-on-failure-{uuid.uuid4().hex[:6]}")[
        "QueueUrl"
    ]
    for _ in range(3):
        ids = [events.new_crash_id("accept") for _ in range(2)]
        expected += ids
        sqs.send_message(
            QueueUrl=failed_url, MessageBody=destination_record(events.for_crash_ids(ids))
        )
    sqs.send_message(QueueUrl=failed_url, MessageBody="not a destination record")
    dlq_url = sqs.create_queue(QueueName=f"pigeon-{env}-delivery-dlq-{uuid.uuid4().hex[:6]}")[
        "QueueUrl"
    ]
    # The broker's two users, the secret naming the first.
    users = ("pigeon_a", "pigeon_b")
    password = evidence.secret("pw-" + uuid.uuid4().hex)
    broker.ctl("add_user", users[0], password)
    broker.ctl("set_permissions", "-p", "/", users[0], ".*", ".*", ".*")
    value = {"host": broker.host, "port": broker.port, "tls": False, "username": users[0],
             "password": password}  # fmt: skip
    secrets = moto_server.client("secretsmanager", moto_endpoint)
    secret_arn = secrets.create_secret(
        Name=environment.secret_name(env), SecretString=json.dumps(value)
    )["ARN"]
    outputs = {
        "function_name": environment.function_name(env),
        "failure_queue_url": failed_url,
        "dead_letter_queue_url": dlq_url,
        "secret_arn": secret_arn,
        "dashboard_url": None,
    }
    declared = set(hcl.load(hcl.TERRAFORM / "environments").outputs())
    outputs = {k: v for k, v in outputs.items() if k in declared}  # only what the root has
    (folder / "outputs.json").write_text(json.dumps(outputs))
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    standin(bin_dir, "terraform", STANDIN_TERRAFORM, str(calls), str(folder / "outputs.json"))
    standin(bin_dir, "aws", STANDIN_AWS, str(calls))
    node = broker.node
    exports = " ".join(f"{k}='{v}'" for k, v in node.environment().items() if k != "PATH")
    ctl = bin_dir / "rabbitmqctl"
    ctl.write_text(
        textwrap.dedent(f"""\
        #!/bin/bash
        # rabbitmqctl aimed at the test node, whichever node the runbook names
        echo "rabbitmqctl $*" >> "{calls}"
        if [ "${{1:-}}" = -n ]; then shift 2; fi
        env {exports} "{CTL}" -n "{node.node_name}" "$@"
        """)
    )
    ctl.chmod(0o755)
    with commands.lambda_endpoint(
        broker, pigeon_url, "runbook", "--function-name", environment.function_name(env),
        "--timeout", "30",
    ) as (endpoint, queue):  # fmt: skip
        base = {
            k: v
            for k, v in commands.developer_environment().items()
            if not k.startswith(("AWS_", "TF_"))
        }
        environ = {
            **base,
            "PATH": f"{bin_dir}:{base['PATH']}",
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": endpoint,
            "PIGEONTOOLS_TERRAFORM_ROOT": str(root),
            **moto_server.FAKE_CREDENTIALS,
        }
        days = runbook_days()
        checkpoint = CACHE / "backfill" / f"{bucket}_{days[0]}_{days[1]}.json"
        yield Site(
            env, folder, root, environ, calls, sqs, failed_url, dlq_url, bucket, checkpoint,
            expected, queue, secret_arn, users,
        )  # fmt: skip
        checkpoint.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def session(site):
    """The runbook's blocks run as a terminal session by someone who has deployed from this
    laptop before (the environment's .terraform folder exists)."""
    data = site.root / ".terraform" / site.env
    data.mkdir(parents=True, exist_ok=True)
    (data / "terraform.tfstate").write_text('{"backend": {"type": "s3"}}')
    try:
        done = site.run([b for b in blocks() if b.run])
    finally:
        shutil.rmtree(site.root / ".terraform")
    return done


@pytest.mark.parametrize("block", [b for b in blocks() if b.run], ids=lambda b: b.id)
def test_each_block_runs_as_written(session, block):
    out = session.stdout
    assert f"::start {block.index}::" in out, "an earlier block failed:\n" + session.stderr[-3000:]
    assert f"::ok {block.index}::" in out, session.stderr[-3000:]


def test_what_the_runbook_says_it_does_happens(session, site, broker):
    assert session.returncode == 0, session.stderr[-3000:]
    calls = site.calls.read_text()
    # The redrive emptied the on-failure queue but for the message that is not a record.
    left = site.sqs.receive_message(QueueUrl=site.failed_url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in left.get("Messages", [])] == ["not a destination record"]
    # Every accepted id of the records and of the bucket's days was published, once.
    assert Counter(broker.bodies(site.queue)) == Counter(site.expected)
    assert "redrive: redriven: 3" in session.stdout
    assert re.search(r"^backfill: \d{8}: 4 accept, 1 defer$", session.stdout, re.M)
    # The dead letters were moved back from the dead-letter queue.
    dlq_arn = site.sqs.get_queue_attributes(QueueUrl=site.dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    assert f"aws sqs start-message-move-task --source-arn {dlq_arn}" in calls
    # Outputs read from the state; nothing planned or applied by a read-only session.
    assert "output -raw failure_queue_url" in calls
    assert not re.search(r"^terraform .*\b(plan|apply)\b", calls, re.M)
    # The rotation switched the secret to the other user, whose login works.
    client = moto_server.client("secretsmanager", site.environment["AWS_ENDPOINT_URL"])
    value = json.loads(
        client.get_secret_value(SecretId=site.secret_arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    evidence.secret(value["password"])
    assert value["username"] == site.users[1]
    url = broker.url_with(value["username"], value["password"])
    assert login_works(url) is None


def test_on_a_fresh_laptop_the_first_block_reads_the_outputs(site):
    """No .terraform folder: deploy.sh ENV output must init the backend itself (read-only:
    the lock file as committed, no artifact, no attestation), then answer."""
    first = next(b for b in blocks() if b.run and "deploy.sh" in b.body)
    setup = [
        b for b in blocks() if b.run and b.index < first.index and "make install" not in b.body
    ]
    done = site.run([*setup, first])
    assert done.returncode == 0, done.stderr
    calls = site.calls.read_text()
    init = [line for line in calls.splitlines() if re.search(r"terraform .*\binit\b", line)]
    assert init, calls
    assert "-lockfile=readonly" in init[-1]
    assert "gh " not in calls


def test_without_the_lock_file_the_first_block_stops_as_the_runbook_says(site):
    """The root before the terraform-lock workflow's file is committed: deploy.sh ENV output
    refuses, naming the file, and the runbook gives that refusal and what to do about it."""
    first = next(b for b in blocks() if b.run and "deploy.sh" in b.body)
    setup = [
        b for b in blocks() if b.run and b.index < first.index and "make install" not in b.body
    ]
    lock, data = site.root / ".terraform.lock.hcl", site.root / ".terraform"
    kept, aside = lock.read_bytes(), site.folder / "terraform-data-aside"
    lock.unlink()
    if data.exists():  # a fresh laptop: deploy.sh must init, read-only on the lock file
        data.rename(aside)
    try:
        done = site.run([*setup, first])
    finally:
        lock.write_bytes(kept)
        shutil.rmtree(data, ignore_errors=True)
        if aside.exists():
            aside.rename(data)
    assert done.returncode != 0, done.stdout + done.stderr
    assert f"::ok {first.index}::" not in done.stdout
    refusal = "lock-file: terraform/environments/.terraform.lock.hcl is not committed"
    assert f"  - {refusal}" in done.stderr, done.stderr
    assert "terraform-lock" in done.stderr
    assert "Traceback" not in done.stderr
    said = " ".join(RUNBOOK.read_text().split())
    assert f"`{refusal}`" in said
    assert "terraform-lock workflow" in said
    assert "`scripts/terraform_lock.sh`" in said
