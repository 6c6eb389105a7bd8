"""The local runtime, a folder per job; each imports only the folders named before it
(tests/test_dependencies.py):

- `aws`: the AWS APIs on this machine (`LocalAws` over the moto server) and what Terraform
  makes there, made locally: the fan-out's and the API's resources, the Lambda event-source
  mapping (`lambda_poller`), the archive as Firehose writes it;
- `traffic`: what goes onto the streams and comes off them (replay, demo alerts, stream tail,
  latency, the smoke test of a deployment);
- `flink`: running the job locally (`RunningPipeline`, the mini-cluster's REST client);
- `console`: hosting the analyst console (server, development issuer);
- `insights`: the alerts lake's figures, as QuickSight shows them;
- `demo`: `make demo` (`python -m local.demo`) and the fan-out's demo (`local.demo.fanout`).
"""
