"""The PyFlink fraud-detection job: parse, features, score, decide, alert."""
