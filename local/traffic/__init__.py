"""What goes onto the streams and comes off them: `replay` (transactions at a rate, times
shifted to now), `demo_alerts` (Alert v1 records without running the job), `stream_tail`
(follow a stream), `latency` (put-to-alert, cold start apart), `smoke` (a deployment's
first transaction to the analyst's screen)."""
