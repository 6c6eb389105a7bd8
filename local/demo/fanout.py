"""A self-contained demo of the alert fan-out on moto: 40 demo alerts and a malformed one
on the alerts stream, the fan-out's real handler fed by the local event-source mapping
(batches of 10), and what it did.

    python -m local.demo.fanout
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.lambda_poller import (
    LambdaPoller,
    MappingSettings,
    function_environment,
    provision_fanout,
    stats_lines,
)
from local.traffic.demo_alerts import demo_alerts, put_alerts


def main() -> None:
    config = FanoutConfig()
    with LocalAws() as aws:
        queue_url = provision_fanout(aws.client, config)
        put_alerts(aws, [*demo_alerts(40, cards=25), '{"schema": "alert.v1", "amount": -1}'])
        poller = LambdaPoller(
            aws,
            settings=MappingSettings(batch_size=10),
            environment={
                **function_environment(config, queue_url),
                "POWERTOOLS_METRICS_DISABLED": "true",
            },
        )
        stats = poller.run_until_idle(timeout_s=120)
        summary = poller.summary(replace(config, deadletter_queue_url=queue_url))
        print("\n".join(stats_lines(stats, summary)))
        print(json.dumps(asdict(stats)))


if __name__ == "__main__":
    main()
