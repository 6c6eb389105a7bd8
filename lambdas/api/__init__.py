"""The analyst API: alerts, verdicts (to the labels stream) and metrics, behind the HTTP API."""
