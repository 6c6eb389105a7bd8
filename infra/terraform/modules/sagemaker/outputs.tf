output "role_arn" {
  description = "SageMaker execution role for training jobs."
  value       = module.role.arn
}

output "training_input_uri" {
  description = "s3:// prefix of the training data."
  value       = "s3://${var.bucket_name}/${var.training_prefix}"
}

output "training_output_uri" {
  description = "s3:// prefix SageMaker writes model artefacts to."
  value       = "s3://${var.bucket_name}/${var.output_prefix}"
}
