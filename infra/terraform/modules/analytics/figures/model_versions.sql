-- The model versions that raised alerts: how many, when first and last, mean score.
SELECT model_version,
       COUNT(*) AS alert_count,
       MIN(detected_at) AS first_alert,
       MAX(detected_at) AS last_alert,
       AVG(score) AS mean_score,
       MAX(threshold) AS threshold
FROM ${alerts}
GROUP BY model_version
ORDER BY last_alert DESC, model_version
