"""Alert fan-out: each Alert v1 from the `alerts` stream to the S3 lake, DynamoDB and e-mail."""
