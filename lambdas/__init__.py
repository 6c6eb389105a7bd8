"""AWS Lambda functions: the alert fan-out (and, later, the analyst API)."""
