# Sender identity, a configuration set that requires TLS and tracks reputation, and the
# e-mail template stored from the same file the handler renders
# (lambdas/alert_fanout/templates/fraud-alert.json).

resource "aws_sesv2_configuration_set" "this" {
  configuration_set_name = var.name

  delivery_options {
    tls_policy = "REQUIRE"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }

  tags = var.tags
}

resource "aws_sesv2_email_identity" "sender" {
  email_identity         = coalesce(var.ses_identity, var.email_from)
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  tags                   = var.tags
}

resource "aws_ses_template" "alert" {
  name    = local.template.TemplateName
  subject = local.template.TemplateContent.Subject
  html    = local.template.TemplateContent.Html
  text    = local.template.TemplateContent.Text
}
