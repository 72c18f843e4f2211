"""A local AWS Lambda runtime without Docker: Amazon's runtime interface client (awslambdaric)
in a clean process, talking to a Runtime API served here on loopback.

    with Sandbox(FunctionSpec(task_root, handler)) as box:
        outcome = box.invoke(b'{"Records": []}')

Modules by role: `spec` (what to run), `environment` (what reaches the function),
`runtime_package` (the runtime client's own packages), `runtime_api` (the Runtime API server),
`sandbox` (one execution environment), `report` (the REPORT line), `invoke_api` (Lambda's
Invoke API for boto3 and `--endpoint-url`).
"""
