"""Firehose record transformation for the S3 archive: no card number lands in it."""
