-- The reason codes that explain most alerts (an alert counts once per code it carries).
SELECT reason_code,
       COUNT(DISTINCT alert_id) AS alert_count
FROM ${alerts}
CROSS JOIN UNNEST(reason_codes) AS codes (reason_code)
GROUP BY reason_code
ORDER BY alert_count DESC, reason_code
LIMIT 10
