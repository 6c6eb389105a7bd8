"""Hosting the analyst console locally: `server` serves the built console and the API's
Lambda code on one loopback origin (`make console`), `dev_issuer` signs in as Cognito does."""
