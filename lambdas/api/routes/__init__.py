"""One router per resource: alerts, feedback, metrics, rules, lists."""
