"""Local runtime: moto as the AWS APIs, the demo, the replay tool, the Lambda poller."""
