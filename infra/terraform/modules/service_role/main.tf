# An IAM role that one AWS service assumes, with one inline policy: the trust policy and
# the role every module wrote for itself. The permissions stay in the calling module.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [var.service]
    }
    # Against the confused deputy: the service assumes the role only on this account's behalf.
    dynamic "condition" {
      for_each = var.trust_account_key == null ? [] : [var.trust_account_key]
      content {
        test     = "StringEquals"
        variable = condition.value
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy
}
