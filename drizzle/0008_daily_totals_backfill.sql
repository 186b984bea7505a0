-- link_daily_totals, kept exact by triggers (docs/data.md#daily-totals), then filled from the
-- hits and referrals already stored. A trigger counts a row in the very statement that inserts it:
-- every write path (the routes, the queue consumer, retries, the Django import, hand-written SQL)
-- counts each hit once, and an insert that inserts nothing (ON CONFLICT DO NOTHING on a retried
-- hit id) fires nothing. Deleting hits (the archive, a link's cascade) counts nothing back.
CREATE TRIGGER `referral_hits_daily_totals` AFTER INSERT ON `referral_hits` BEGIN
  INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
  VALUES (NEW.link_id, substr(NEW.created_at, 1, 10), 1, NEW.duplicate = 0, 0)
  ON CONFLICT (link_id, day) DO UPDATE SET hits = hits + 1, unique_hits = unique_hits + excluded.unique_hits;
END;
--> statement-breakpoint
-- No code changes a hit's link, day or duplicate flag; a hand-written UPDATE that does moves its count.
CREATE TRIGGER `referral_hits_daily_totals_moved` AFTER UPDATE OF link_id, created_at, duplicate ON `referral_hits` BEGIN
  UPDATE link_daily_totals SET hits = hits - 1, unique_hits = unique_hits - (OLD.duplicate = 0)
  WHERE link_id = OLD.link_id AND day = substr(OLD.created_at, 1, 10);
  INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
  VALUES (NEW.link_id, substr(NEW.created_at, 1, 10), 1, NEW.duplicate = 0, 0)
  ON CONFLICT (link_id, day) DO UPDATE SET hits = hits + 1, unique_hits = unique_hits + excluded.unique_hits;
END;
--> statement-breakpoint
-- A confirmation counts on the day it was made (as daily_hits always counted it), for a link that
-- exists: the reports leave a deleted link's confirmations out, as they did.
CREATE TRIGGER `confirmed_referrals_daily_totals` AFTER INSERT ON `confirmed_referrals`
WHEN EXISTS (SELECT 1 FROM referral_links WHERE id = NEW.link_id) BEGIN
  INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
  VALUES (NEW.link_id, substr(NEW.created_at, 1, 10), 0, 0, 1)
  ON CONFLICT (link_id, day) DO UPDATE SET confirmed = confirmed + 1;
END;
--> statement-breakpoint
-- The backfill: a recount that overwrites, so it is exact even if a hit was counted by the trigger
-- above before it ran.
INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
SELECT link_id, day, SUM(hits), SUM(unique_hits), SUM(confirmed) FROM (
  SELECT h.link_id AS link_id, substr(h.created_at, 1, 10) AS day, COUNT(*) AS hits,
    SUM(h.duplicate = 0) AS unique_hits, 0 AS confirmed
  FROM referral_hits h GROUP BY 1, 2
  UNION ALL
  SELECT c.link_id, substr(c.created_at, 1, 10), 0, 0, COUNT(*)
  FROM confirmed_referrals c WHERE c.link_id IN (SELECT id FROM referral_links) GROUP BY 1, 2
) WHERE true GROUP BY link_id, day
ON CONFLICT (link_id, day) DO UPDATE SET hits = excluded.hits, unique_hits = excluded.unique_hits,
  confirmed = excluded.confirmed;
