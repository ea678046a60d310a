SELECT sym, count(*), sum(px * qty) / sum(qty) AS v FROM m.t WHERE ts >= '2026-11-01' AND ts < '2026-11-03' GROUP BY sym ORDER BY sym
