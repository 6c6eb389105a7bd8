-- The merchant categories (MCC) with most alerts; alerts without one count as 'unknown'.
SELECT COALESCE(merchant_category, 'unknown') AS merchant_category,
       COUNT(*) AS alert_count
FROM ${alerts}
GROUP BY COALESCE(merchant_category, 'unknown')
ORDER BY alert_count DESC, merchant_category
LIMIT 10
