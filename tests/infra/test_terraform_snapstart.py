"""SnapStart in Terraform: off by default; on, the function publishes a version, the alias `live`
points at it, and everything that invokes the function (the bucket notification, S3's invoke
permission, the SQS event source mapping, the asynchronous-invoke configuration) targets the
alias, never $LATEST, which SnapStart does not apply to."""

from __future__ import annotations

from pigeon_tools.terraform import hcl

FUNCTION = hcl.load(hcl.TERRAFORM / "modules" / "function")
PIGEON = hcl.load(hcl.TERRAFORM / "modules" / "pigeon")
NOTIFICATION = hcl.load(hcl.TERRAFORM / "modules" / "bucket_notification")
ENVIRONMENTS = hcl.load(hcl.TERRAFORM / "environments")


def test_snap_start_is_off_by_default_and_takes_only_published_versions():
    variable = FUNCTION.variables()["snap_start"]
    assert variable["default"] is None
    assert hcl.object_attributes(variable["type"]) == {"apply_on": "string"}
    [validation] = variable["validation"]
    assert 'apply_on == "PublishedVersions"' in validation["condition"]
    assert "var.snap_start == null" in validation["condition"]
    assert FUNCTION.locals()["snap_start"] == "${var.snap_start != null}"


def test_with_snap_start_the_function_publishes_a_version_and_sets_snap_start():
    function = FUNCTION.resources("aws_lambda_function")["this"]
    assert function["publish"] == "${local.snap_start}"
    [block] = [d["snap_start"] for d in function["dynamic"] if "snap_start" in d]
    assert block["for_each"] == "${local.snap_start ? [var.snap_start] : []}"
    assert block["content"][0]["apply_on"] == "${snap_start.value.apply_on}"
    # SnapStart for Python needs 3.12 or later: the module's runtime is fixed.
    major, minor = function["runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)


def test_lambdas_refusals_of_snap_start_cannot_be_configured():
    """Lambda refuses SnapStart with provisioned concurrency, EFS or more than 512 MB of
    ephemeral storage: the module sets none of them, so none can meet SnapStart."""
    function = FUNCTION.resources("aws_lambda_function")["this"]
    assert "file_system_config" not in function
    assert "ephemeral_storage" not in function
    assert not FUNCTION.resources("aws_lambda_provisioned_concurrency_config")
    assert not any("provisioned" in name or "ephemeral" in name for name in FUNCTION.variables())


def test_the_alias_points_at_the_published_version_only_with_snap_start():
    alias = FUNCTION.resources("aws_lambda_alias")["live"]
    assert alias["count"] == "${local.snap_start ? 1 : 0}"
    assert alias["function_name"] == "${aws_lambda_function.this.function_name}"
    assert alias["function_version"] == "${aws_lambda_function.this.version}"


def test_the_outputs_name_the_alias_with_snap_start_and_the_function_without():
    outputs = FUNCTION.outputs()
    assert outputs["target_arn"]["value"] == (
        "${local.snap_start ? aws_lambda_alias.live[0].arn : aws_lambda_function.this.arn}"
    )
    assert outputs["qualifier"]["value"] == (
        "${local.snap_start ? aws_lambda_alias.live[0].name : null}"
    )


def test_asynchronous_invokes_of_the_alias_keep_the_retries_and_the_on_failure_queue():
    """Event invoke configuration is per qualifier: S3 invoking the alias would otherwise get
    Lambda's defaults and no on-failure destination."""
    config = FUNCTION.resources("aws_lambda_function_event_invoke_config")["this"]
    assert config["qualifier"] == "${local.snap_start ? aws_lambda_alias.live[0].name : null}"
    assert config["destination_config"][0]["on_failure"][0]["destination"] == (
        "${aws_sqs_queue.on_failure.arn}"
    )


def test_the_notification_its_permission_and_the_mapping_invoke_the_target():
    calls = PIGEON.module_calls()
    assert calls["function"]["snap_start"] == "${var.function.snap_start}"
    notification = calls["bucket_notification"]
    assert notification["function_arn"] == "${module.function.target_arn}"
    assert notification["function_qualifier"] == "${module.function.qualifier}"
    assert calls["sqs_delivery"]["function_name"] == "${module.function.target_arn}"

    resource = NOTIFICATION.resources("aws_s3_bucket_notification")["this"]
    assert hcl.pigeon_entries(resource)["lambda_function"]["lambda_function_arn"] == (
        "${var.function_arn}"
    )
    permission = NOTIFICATION.resources("aws_lambda_permission")["s3"]
    assert permission["qualifier"] == "${var.function_qualifier}"
    # Turning SnapStart on or off replaces it: the new one exists before the old one goes.
    assert permission["lifecycle"][0]["create_before_destroy"] is True
    assert NOTIFICATION.variables()["function_qualifier"]["default"] is None


def test_every_layer_passes_snap_start_through():
    pigeon_type = hcl.object_attributes(PIGEON.variables()["function"]["type"])
    assert pigeon_type["snap_start"].replace(" ", "") == "optional(object({apply_on=string}))"
    environment_type = hcl.object_attributes(ENVIRONMENTS.variables()["function"]["type"])
    assert environment_type["snap_start"].replace(" ", "") == "object({apply_on=string})"
    for tfvars in ("prod.tfvars", "stage.tfvars"):
        text = (hcl.TERRAFORM / "environments" / tfvars).read_text()
        assert "snap_start = null" in text, tfvars
