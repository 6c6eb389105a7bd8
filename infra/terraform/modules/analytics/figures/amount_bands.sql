-- Alerts by amount band (in the transaction's currency); empty bands show as 0.
SELECT bands.band_order,
       bands.amount_band,
       COUNT(alerts.alert_id) AS alert_count,
       COALESCE(SUM(alerts.amount), 0) AS amount_total
FROM (
  VALUES (1, 'under 10', 0, 10),
         (2, '10 to 50', 10, 50),
         (3, '50 to 100', 50, 100),
         (4, '100 to 250', 100, 250),
         (5, '250 to 500', 250, 500),
         (6, '500 to 1000', 500, 1000),
         (7, '1000 and over', 1000, 1000000000)
) AS bands (band_order, amount_band, lower_bound, upper_bound)
LEFT JOIN ${alerts} AS alerts
  ON alerts.amount >= bands.lower_bound AND alerts.amount < bands.upper_bound
GROUP BY bands.band_order, bands.amount_band
ORDER BY bands.band_order
