package io.fraudstream.metrics;

import org.apache.flink.metrics.MetricGroup;

/**
 * The metric group of the job's custom metrics. Managed Service for Apache Flink forwards a
 * custom metric to CloudWatch (namespace AWS/KinesisAnalytics, dimension Application at the
 * APPLICATION metrics level) only when it is registered under a group named {@code
 * kinesisanalytics}; elsewhere it shows in the Flink REST API and never reaches CloudWatch.
 * The Python UDFs use the same group (udfs/metrics.py).
 */
public final class CloudWatchMetrics {

    public static final String GROUP = "kinesisanalytics";

    private CloudWatchMetrics() {}

    /** The group under {@code parent} whose metrics reach CloudWatch. */
    public static MetricGroup group(MetricGroup parent) {
        return parent.addGroup(GROUP);
    }
}
