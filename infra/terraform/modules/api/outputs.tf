output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_function_name" {
  description = "Name of the API Lambda (null until api.zip exists)."
  value       = local.with_lambda ? aws_lambda_function.api[0].function_name : null
}

output "user_pool_id" {
  description = "Cognito user pool of the analysts."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_client_id" {
  description = "Cognito app client of the console (the JWT audience)."
  value       = aws_cognito_user_pool_client.console.id
}

output "amplify_app_id" {
  description = "Amplify app of the console (null without enable_amplify)."
  value       = var.enable_amplify ? aws_amplify_app.console[0].id : null
}

output "console_branch" {
  description = "Amplify branch serving the console."
  value       = var.enable_amplify ? aws_amplify_branch.console[0].branch_name : null
}

output "console_url" {
  description = "URL of the analyst console on Amplify (null without enable_amplify)."
  value       = local.console_url
}

output "cognito_domain" {
  description = "Host of the Cognito hosted UI the console signs in through (<prefix>.auth.<region>.amazoncognito.com)."
  value       = "${aws_cognito_user_pool_domain.this.domain}.auth.${data.aws_region.current.region}.amazoncognito.com"
}
