# Sender identity, a configuration set that requires TLS and tracks reputation, and the
# e-mail template stored from the same file the handler renders
# (lambdas/alert_fanout/templates/fraud-alert.json), its name prefixed with var.name so
# that environments in one account do not share it.
#
# A new account is in the SES sandbox: it sends only to verified identities, and the
# sending role must be allowed each recipient's identity as well as the sender's. With
# verify_recipients each recipient is created as an identity (SES e-mails it a
# verification link) and the role may send to it; after production access it can be off.

locals {
  sender_identity      = coalesce(var.ses_identity, var.email_from)
  recipient_identities = var.verify_recipients ? setsubtract(toset(var.email_to), [local.sender_identity]) : toset([])
}

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
  email_identity         = local.sender_identity
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  tags                   = var.tags
}

resource "aws_sesv2_email_identity" "recipient" {
  for_each = local.recipient_identities

  email_identity = each.value
  tags           = var.tags
}

resource "aws_ses_template" "alert" {
  name    = "${var.name}-${local.template.TemplateName}"
  subject = local.template.TemplateContent.Subject
  html    = local.template.TemplateContent.Html
  text    = local.template.TemplateContent.Text
}
