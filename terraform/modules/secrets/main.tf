# The broker connection secret, encrypted with its own customer-managed KMS key, with the key's
# automatic yearly rotation on (enable_key_rotation; not a rotation of the password).
#
# Terraform creates the secret but never writes its value, so the password never lands in
# Terraform state. Set the value out of band (README, Deploy):
#   aws secretsmanager put-secret-value --secret-id <secret_arn> --secret-string file://rabbitmq.json

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The key policy (a resource policy: "*" is this key). Administration stays with the account;
# use is granted to the function's role by its own policy, through Secrets Manager only.
data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy: "*" is this key, and only the account administers it.
  #checkov:skip=CKV_AWS_111:A key policy: "*" is this key, and only the account administers it.
  #checkov:skip=CKV_AWS_356:A key policy: "*" is this key, and only the account administers it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Encrypts the Pigeon secret ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.key_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${replace(var.name, "/[^A-Za-z0-9/_-]/", "-")}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:The broker's owner rotates the password out of band; Pigeon re-reads the secret when a login is refused.
  name                    = var.name
  description             = var.description
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}
