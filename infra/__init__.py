"""Infrastructure: Terraform under infra/terraform, packaging of the deployable artefacts."""
