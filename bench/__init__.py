"""Benchmarks (`make bench`): throughput against the JVM-only ceiling, latency, scoring cost."""
