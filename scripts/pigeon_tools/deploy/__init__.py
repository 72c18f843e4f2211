"""scripts/deploy.sh: verify the artifact, check the account, plan, check the plan, apply.

Every check is declared once, as data (`checks.PREFLIGHTS`, `checks.PLAN_CHECKS`), and returns
refusals instead of stopping: a deploy runs every check and reports every refusal at once, and
nothing is planned (preflights) or applied (plan checks) while there is one. docs/deploy.md
("deploy.sh: what it checks and refuses") lists them; a test keeps the list and the code equal.

- `settings`: an environment's settings, from its committed <env>.tfvars and the root's defaults
- `artifact`: provenance (gh attestation verify), sha256, build checks, the copy Terraform reads
- `aws`: the reads before a plan (boto3: STS, Secrets Manager, S3, Lambda, SQS)
- `terraform`: the Terraform command lines, built from the environment alone
- `plan`: `terraform show -json` read by resource type
- `notifications`: the bucket's notification entries, before and as planned
- `saved`: a saved plan and what it was made from (the CI apply job applies exactly that)
- `ci_run`: the CI run whose artifact a commit deploys
- `sources`: where each setting comes from (one source per setting; a test reads it)
"""
