-- Alerts per hour by severity. The hour is the lake's partition (dt, hour), i.e. the
-- hour of the alert's transaction in UTC.
SELECT CAST(dt || ' ' || "hour" || ':00:00' AS TIMESTAMP) AS alert_hour,
       severity,
       COUNT(*) AS alert_count
FROM ${alerts}
GROUP BY dt, "hour", severity
ORDER BY alert_hour, severity
