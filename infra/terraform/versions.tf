terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Exactly the release the checks validate against: make test builds the provider's
      # 6.48.0 snapshot from source and installs it as 6.48.0 (infra/README.md, "Checks").
      # The modules ask for >= 6.37 (global secondary indexes' key_schema, since 6.29 and
      # fixed in 6.37); bump this pin and tools/build_aws_provider.sh together.
      version = "6.48.0"
    }
  }
}
