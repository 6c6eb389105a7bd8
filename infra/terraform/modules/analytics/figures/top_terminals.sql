-- The terminals with most alerts, and how many cards those alerts were on.
SELECT terminal_id,
       COUNT(*) AS alert_count,
       COUNT(DISTINCT card_id) AS card_count
FROM ${alerts}
GROUP BY terminal_id
ORDER BY alert_count DESC, terminal_id
LIMIT 10
