# Analyst access: a Cognito user pool, an HTTP API whose routes all require a JWT from it,
# the API Lambda (lambdas/api/), and the Amplify app hosting the console.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # null without Amplify (enable_amplify = false, e.g. against moto, which has no Amplify API)
  console_url     = var.enable_amplify ? "https://${var.console_branch}.${aws_amplify_app.console[0].default_domain}" : null
  console_origins = concat(local.console_url == null ? [] : [local.console_url], var.extra_callback_urls)
  with_lambda     = var.api_lambda_zip != null
  # The routes of lambdas/api/ (tests/test_api_terraform.py keeps the two equal). All need
  # a Cognito JWT but the OpenAPI document, which is public.
  routes = [
    "GET /alerts",
    "GET /alerts/{alert_id}",
    "POST /alerts/{alert_id}/feedback",
    "GET /metrics",
    "GET /openapi.json",
    "GET /rules",
    "POST /rules/validate",
    "GET /rules/changes",
    "POST /rules/changes",
    "GET /rules/changes/{change_id}",
    "POST /rules/changes/{change_id}/approve",
    "POST /rules/changes/{change_id}/reject",
    "GET /rules/{name}/history",
    "GET /lists",
    "POST /lists",
    "GET /lists/{name}/entries",
    "POST /lists/{name}/entries",
    "DELETE /lists/{name}/entries",
    "GET /rules/hits",
    "POST /rules/backtest",
  ]
  public_routes = ["GET /openapi.json"]

  cognito_domain = "${var.cognito_domain_prefix}.auth.${data.aws_region.current.region}.amazoncognito.com"
  # The console's security headers (local/console/server.py `console_headers` serves the
  # same locally; tests/test_api_terraform.py holds them equal). connect-src names the
  # region's execute-api domain rather than this API's own host: the API's CORS origins
  # name the Amplify app, so naming the API here would make a dependency cycle.
  console_headers = {
    "Content-Security-Policy"   = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://*.execute-api.${data.aws_region.current.region}.amazonaws.com https://${local.cognito_domain}; form-action 'self' https://${local.cognito_domain}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    "Strict-Transport-Security" = "max-age=31536000; includeSubDomains"
    "X-Content-Type-Options"    = "nosniff"
    "X-Frame-Options"           = "DENY"
    "Referrer-Policy"           = "strict-origin-when-cross-origin"
  }
  # Callback URLs and CORS origins besides the console's own: https only, unless
  # var.allow_local_development_urls lets http://localhost or 127.0.0.1 in.
  local_url_pattern = "^http://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?(/.*)?$"
  extra_urls_allowed = alltrue([
    for url in var.extra_callback_urls :
    startswith(url, "https://") || (var.allow_local_development_urls && can(regex(local.local_url_pattern, url)))
  ])
}

# ---- Cognito ----------------------------------------------------------------------

resource "aws_cognito_user_pool" "this" {
  name                = var.name
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  # MFA is a pool-level setting in Cognito (no per-group switch): "ON" requires a TOTP
  # for every user, so for every member of `analysts` (readers too). docs/deployment.md.
  mfa_configuration        = "ON"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  # Threat protection (compromised credentials, adaptive authentication) needs the Plus tier.
  user_pool_tier = "PLUS"

  user_pool_add_ons {
    advanced_security_mode = "ENFORCED"
  }

  # A changed e-mail counts only once its owner has verified it (until then the old one
  # stays in the tokens and for sign-in).
  user_attribute_update_settings {
    attributes_require_verification_before_update = ["email"]
  }

  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  tags = var.tags
}

# The groups the API reads from the token's `cognito:groups` (lambdas/api/auth.py): analysts
# may post verdicts and ask for changes of rules and lists, readers may only read,
# rule-admins approve or reject another analyst's change (four eyes).
resource "aws_cognito_user_group" "access" {
  for_each = {
    analysts      = "May read alerts, post verdicts and ask for changes of rules and lists."
    readers       = "May read alerts only."
    "rule-admins" = "May approve or reject another analyst's change of rules and lists."
  }
  name         = each.key
  description  = each.value
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.cognito_domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_user_pool_client" "console" {
  name                                 = "${var.name}-console"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = local.console_origins
  logout_urls                          = local.console_origins
  explicit_auth_flows                  = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  # The console reads these and may change only the display name: not the e-mail (an admin
  # changes it, verified), not groups or custom attributes.
  read_attributes        = ["email", "email_verified", "name"]
  write_attributes       = ["name"]
  access_token_validity  = 60
  id_token_validity      = 60
  refresh_token_validity = 12

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }

  lifecycle {
    precondition {
      condition     = local.extra_urls_allowed
      error_message = "extra_callback_urls must be https:// URLs; http://localhost or 127.0.0.1 only with allow_local_development_urls = true (never in production)."
    }
  }
}

# ---- HTTP API ---------------------------------------------------------------------

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "Alerts, analyst feedback, metrics, rules and lists for the fraud console."

  cors_configuration {
    allow_origins = local.console_origins
    allow_methods = ["GET", "POST", "DELETE", "OPTIONS"]
    allow_headers = ["authorization", "content-type"]
    max_age       = 3600
  }

  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  api_id           = aws_apigatewayv2_api.this.id
  name             = "cognito"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    audience = [aws_cognito_user_pool_client.console.id]
    issuer   = "https://${aws_cognito_user_pool.this.endpoint}"
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      requestTime    = "$context.requestTime"
      routeKey       = "$context.routeKey"
      status         = "$context.status"
      latencyMs      = "$context.responseLatency"
      integrationErr = "$context.integrationErrorMessage"
      authorizerErr  = "$context.authorizer.error"
      sub            = "$context.authorizer.claims.sub"
    })
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  count = local.with_lambda ? 1 : 0

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api[0].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000 # HTTP APIs' most: a backtest may take 25 s
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.with_lambda ? setsubtract(toset(local.routes), local.public_routes) : toset([])

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.lambda[0].id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.cognito.id
}

resource "aws_apigatewayv2_route" "public" {
  # checkov:skip=CKV_AWS_309:The OpenAPI document describes the API and holds no data; clients and tools read it before they have a token.
  for_each = local.with_lambda ? toset(local.public_routes) : toset([])

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.lambda[0].id}"
  authorization_type = "NONE"
}

# ---- Amplify (web console) --------------------------------------------------------
# The console is deployed as a prebuilt artefact (a zip of the built site): infra/README.md
# shows `aws amplify create-deployment` / `start-deployment` with the zip named by
# var.console_artifact. No repository connection, so no access token is stored.

resource "aws_amplify_app" "console" {
  count = var.enable_amplify ? 1 : 0

  name     = var.name
  platform = "WEB"

  custom_rule {
    source = "</^[^.]+$|\\.(?!(css|gif|ico|jpg|js|png|txt|svg|woff|woff2|ttf|map|json)$)([^.]+$)/>"
    target = "/index.html"
    status = "200"
  }

  custom_headers = yamlencode({
    customHeaders = [{
      pattern = "**"
      headers = [for key, value in local.console_headers : { key = key, value = value }]
    }]
  })

  tags = var.tags
}

resource "aws_amplify_branch" "console" {
  count = var.enable_amplify ? 1 : 0

  app_id      = aws_amplify_app.console[0].id
  branch_name = var.console_branch
  stage       = "PRODUCTION"

  environment_variables = {
    API_URL           = aws_apigatewayv2_api.this.api_endpoint
    USER_POOL_ID      = aws_cognito_user_pool.this.id
    USER_POOL_CLIENT  = aws_cognito_user_pool_client.console.id
    COGNITO_DOMAIN    = local.cognito_domain
    CONSOLE_BUILD_ZIP = var.console_artifact
  }

  tags = var.tags
}
