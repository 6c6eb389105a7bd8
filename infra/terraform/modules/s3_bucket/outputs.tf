# Both wait for the bucket's configuration: an object put before versioning is on gets no
# version id (the Flink application names its code by version), one put before the
# encryption default or the policy would miss them.
output "name" {
  description = "Bucket name, once versioning, encryption, public access block and policy are in place."
  value       = aws_s3_bucket.this.bucket # the id, but known when planned
  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_policy.this,
  ]
}

output "arn" {
  description = "Bucket ARN, once versioning, encryption, public access block and policy are in place."
  value       = aws_s3_bucket.this.arn
  depends_on = [
    aws_s3_bucket_versioning.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_policy.this,
  ]
}
