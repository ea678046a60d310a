WITH d AS (SELECT d, sum(id) s FROM m.t GROUP BY d LIMIT 3) SELECT round(sum(s), 2), CASE WHEN count(*) > 1 THEN 'x' END FROM d; SELECT sum(id) FROM m.t
