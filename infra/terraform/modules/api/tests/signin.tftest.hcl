# Plans the module against the AWS provider's real schema, no account (mock provider): the
# sign-in settings, the console's security headers Amplify serves, and the refusal of
# http:// callback URLs outside local development.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
}

variables {
  name                  = "fraud-test-api"
  alerts_table_name     = "fraud-test-alerts"
  alerts_table_arn      = "arn:aws:dynamodb:eu-west-1:111111111111:table/fraud-test-alerts"
  labels_stream_name    = "labels"
  labels_stream_arn     = "arn:aws:kinesis:eu-west-1:111111111111:stream/labels"
  cognito_domain_prefix = "fraud-test"
  audit_bucket_name     = "fraud-test-verdict-audit"
  ledger_table_name     = "fraud-test-label-ledger"
  changes_table_name    = "fraud-test-rule-changes"
  rules_bucket_name     = "fraud-test-artifacts"
  rules_bucket_arn      = "arn:aws:s3:::fraud-test-artifacts"
  rules_prefix          = "rules/"
  kms_key_arn           = "arn:aws:kms:eu-west-1:111111111111:key/test"

  archive_bucket_name       = "fraud-test-archive"
  archive_bucket_arn        = "arn:aws:s3:::fraud-test-archive"
  glue_database_name        = "fraud_test"
  athena_workgroup_name     = "fraud-test"
  athena_results_bucket_arn = "arn:aws:s3:::fraud-test-athena-results"
}

run "sign_in_requires_mfa_and_threat_protection" {
  command = plan

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "ON"
    error_message = "MFA must be required (pool-level: every analyst)"
  }

  assert {
    condition     = aws_cognito_user_pool.this.user_pool_add_ons[0].advanced_security_mode == "ENFORCED"
    error_message = "threat protection must be enforced"
  }

  assert {
    condition     = aws_cognito_user_pool.this.user_attribute_update_settings[0].attributes_require_verification_before_update == toset(["email"])
    error_message = "an e-mail change must be verified before it counts"
  }

  assert {
    condition     = aws_cognito_user_pool_client.console.write_attributes == toset(["name"])
    error_message = "the console may write the display name only"
  }
}

run "amplify_serves_the_consoles_security_headers" {
  command = plan

  assert {
    condition = {
      for header in yamldecode(aws_amplify_app.console[0].custom_headers).customHeaders[0].headers :
      header.key => header.value
    } == local.console_headers
    error_message = "Amplify's custom headers are local.console_headers"
  }

  assert {
    condition     = strcontains(local.console_headers["Content-Security-Policy"], "frame-ancestors 'none'")
    error_message = "the console must never be framed"
  }

  assert {
    condition     = strcontains(local.console_headers["Content-Security-Policy"], "https://fraud-test.auth.eu-west-1.amazoncognito.com")
    error_message = "the CSP names the Cognito domain"
  }

  assert {
    condition     = yamldecode(aws_amplify_app.console[0].custom_headers).customHeaders[0].pattern == "**"
    error_message = "every path gets the headers"
  }
}

run "an_http_callback_is_refused_in_production" {
  command = plan

  variables {
    extra_callback_urls = ["http://localhost:5173"]
  }

  expect_failures = [aws_cognito_user_pool_client.console]
}

run "an_http_localhost_callback_is_allowed_for_local_development" {
  command = plan

  variables {
    extra_callback_urls          = ["http://localhost:5173", "https://console.example.com"]
    allow_local_development_urls = true
  }

  assert {
    condition     = contains(aws_cognito_user_pool_client.console.callback_urls, "http://localhost:5173")
    error_message = "the development URL is a callback"
  }
}

run "an_http_url_other_than_localhost_is_refused_even_for_development" {
  command = plan

  variables {
    extra_callback_urls          = ["http://console.example.com"]
    allow_local_development_urls = true
  }

  expect_failures = [aws_cognito_user_pool_client.console]
}
