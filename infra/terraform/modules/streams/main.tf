# The Kinesis data streams: transactions in, labels in, alerts out, dead letters out,
# decisions out (the decision log, delivered to S3 by the archive module).

resource "aws_kinesis_stream" "this" {
  for_each = var.stream_names

  name             = each.value
  retention_period = var.retention_hours
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = merge(var.tags, { Role = each.key })
}
