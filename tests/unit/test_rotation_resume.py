"""A rotation stopped inside `finish`, between its two stage moves (AWSCURRENT moved, AWSPENDING
still on the same version), carries on as the runbook says: run again, it finishes that
rotation and starts no new one (which would change the other user's password again)."""

from __future__ import annotations

import json

from pigeon_tools.operate.rotation import Rotation


def test_a_finish_stopped_between_its_stage_moves_is_completed_not_started_again(secretsmanager):
    client = secretsmanager
    old = {"url": "amqps://pigeon_a:one@broker:5671/"}
    new = {"url": "amqps://pigeon_b:two@broker:5671/"}
    arn = client.create_secret(Name="pigeon/rotating", SecretString=json.dumps(old))["ARN"]
    first = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    [was] = [v for v, s in first.items() if "AWSCURRENT" in s]
    made = client.put_secret_value(
        SecretId=arn, SecretString=json.dumps(new), VersionStages=["AWSPENDING"]
    )["VersionId"]
    client.update_secret_version_stage(  # finish's first move, then Ctrl-C
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=made, RemoveFromVersionId=was
    )
    said: list[str] = []
    rotation = Rotation(client, arn, ("pigeon_a", "pigeon_b"), broker=None, say=said.append)  # type: ignore[arg-type]
    rotation.run()  # `--step all` again: the broker is never touched (None would fail)
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert stages[made] == ["AWSCURRENT"]
    assert "AWSPENDING" not in str(stages)
    assert len(said) == 1
    assert "that rotation is finished" in said[0]
    assert (
        json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
        == new
    )
