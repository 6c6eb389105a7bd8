# A service handed the role before its policy exists may start without the permissions
# (a Flink application reading its code, a Firehose stream its source): the ARN waits for
# the policy. IAM propagation after that is retried by the provider where AWS reports it
# (Lambda, Firehose, Managed Flink creation retry for up to two minutes).
output "arn" {
  description = "Role ARN, once its inline policy is attached."
  value       = aws_iam_role.this.arn
  depends_on  = [aws_iam_role_policy.this]
}

output "name" {
  description = "Role name, once its inline policy is attached."
  value       = aws_iam_role.this.name
  depends_on  = [aws_iam_role_policy.this]
}
