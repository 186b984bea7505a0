-- After 0013_fraud_review: the reversals and views that 0012_fraud_review_prepare set aside, the
-- status rules of the new columns, and link_daily_totals.confirmed without rejected referrals.
INSERT INTO `reversals` (id, conversion_id, reversal_id, amount, commission_delta, clawback, payout_id, created_at)
SELECT id, conversion_id, reversal_id, amount, commission_delta, clawback, payout_id, created_at
FROM `__fraud_review_reversals`;--> statement-breakpoint
DROP TABLE `__fraud_review_reversals`;--> statement-breakpoint
CREATE VIEW `link_revenue` AS SELECT l.identifier AS identifier, c.currency AS currency, COUNT(*) AS conversions,
  SUM(c.amount - c.reversed_amount) AS revenue, SUM(c.commission) AS commission
FROM conversions c JOIN referral_links l ON l.id = c.link_id
GROUP BY c.link_id, c.currency;--> statement-breakpoint
CREATE VIEW `referrer_earnings` AS SELECT c.referrer_user_id AS referrer_user_id, c.currency AS currency,
  SUM(CASE WHEN c.status = 'pending' AND c.approve_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN c.commission ELSE 0 END) AS pending,
  SUM(CASE WHEN c.status = 'approved' OR (c.status = 'pending' AND c.approve_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    THEN c.commission ELSE 0 END) AS approved,
  SUM(CASE WHEN c.status = 'paid' THEN c.commission + COALESCE((SELECT -SUM(r.commission_delta)
    FROM reversals r WHERE r.conversion_id = c.id AND r.clawback = 1), 0) ELSE 0 END) AS paid,
  COALESCE(SUM((SELECT -SUM(r.commission_delta) FROM reversals r WHERE r.conversion_id = c.id)), 0)
    AS reversed
FROM conversions c WHERE c.referrer_user_id IS NOT NULL
GROUP BY c.referrer_user_id, c.currency;--> statement-breakpoint
-- SQLite adds a column with a CHECK only by rebuilding the table (and referral_hits' rebuild would
-- cascade to the referrals that name its hits): these triggers are the CHECKs of the new columns.
CREATE TRIGGER `confirmed_referrals_status_insert` BEFORE INSERT ON `confirmed_referrals`
WHEN NEW.status NOT IN ('ok', 'held', 'rejected') OR json_valid(NEW.flags) = 0 BEGIN
  SELECT RAISE(ABORT, 'CHECK constraint failed: confirmed_referrals_status');
END;--> statement-breakpoint
CREATE TRIGGER `confirmed_referrals_status_update` BEFORE UPDATE OF status, flags ON `confirmed_referrals`
WHEN NEW.status NOT IN ('ok', 'held', 'rejected') OR json_valid(NEW.flags) = 0 BEGIN
  SELECT RAISE(ABORT, 'CHECK constraint failed: confirmed_referrals_status');
END;--> statement-breakpoint
-- A rejected referral is not counted in link_daily_totals.confirmed (docs/fraud.md): the insert
-- trigger of 0008 counts only the others, and a change of status into or out of `rejected` moves
-- the count once. A release (held to ok) changes nothing; a repeat of a decision updates no row.
DROP TRIGGER `confirmed_referrals_daily_totals`;--> statement-breakpoint
CREATE TRIGGER `confirmed_referrals_daily_totals` AFTER INSERT ON `confirmed_referrals`
WHEN NEW.status <> 'rejected' AND EXISTS (SELECT 1 FROM referral_links WHERE id = NEW.link_id) BEGIN
  INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
  VALUES (NEW.link_id, substr(NEW.created_at, 1, 10), 0, 0, 1)
  ON CONFLICT (link_id, day) DO UPDATE SET confirmed = confirmed + 1;
END;--> statement-breakpoint
CREATE TRIGGER `confirmed_referrals_daily_totals_rejected` AFTER UPDATE OF status ON `confirmed_referrals`
WHEN OLD.status <> 'rejected' AND NEW.status = 'rejected' BEGIN
  UPDATE link_daily_totals SET confirmed = confirmed - 1
  WHERE link_id = NEW.link_id AND day = substr(NEW.created_at, 1, 10) AND confirmed > 0;
END;--> statement-breakpoint
CREATE TRIGGER `confirmed_referrals_daily_totals_unrejected` AFTER UPDATE OF status ON `confirmed_referrals`
WHEN OLD.status = 'rejected' AND NEW.status <> 'rejected'
  AND EXISTS (SELECT 1 FROM referral_links WHERE id = NEW.link_id) BEGIN
  INSERT INTO link_daily_totals (link_id, day, hits, unique_hits, confirmed)
  VALUES (NEW.link_id, substr(NEW.created_at, 1, 10), 0, 0, 1)
  ON CONFLICT (link_id, day) DO UPDATE SET confirmed = confirmed + 1;
END;
