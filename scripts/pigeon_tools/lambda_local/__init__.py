"""A local AWS Lambda runtime without Docker: Amazon's runtime interface client (awslambdaric)
in a clean process, talking to a Runtime API served here on loopback.

    with Sandbox(FunctionSpec(task_root, handler)) as box:
        outcome = box.invoke(b'{"Records": []}')

Modules by role: `spec` (what to run), `environment` (what reaches the function),
`runtime_package` (the runtime client's own packages), `runtime_api` (the Runtime API server),
`sandbox` (one execution environment: start, freeze, thaw, kill, retire), `report` (the
REPORT line), `fleet` (a function's environments, scaled as Lambda scales them),
`async_invoke` (the queue of Event invocations and its retries), `destinations` (the
on-failure record and its SQS queue), `invoke_api` (Lambda's Invoke API for boto3 and
`--endpoint-url`). What runs Pigeon in it: `function` (its handler, settings and a minimal
environment), `envfile` (pigeon.env), `lambda_image` (the Docker mode's runtime image).
"""
