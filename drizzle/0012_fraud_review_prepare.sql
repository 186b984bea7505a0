-- Before 0013_fraud_review rebuilds `conversions` (SQLite changes a CHECK only by copying the table
-- into a new one): D1 keeps foreign keys on during migrations, so dropping the old table would fail
-- on the reversals that reference it, and renaming the new one would fail on the views that read it.
-- The reversals wait in a copy and the views are dropped; 0014_fraud_review_triggers puts both back.
CREATE TABLE `__fraud_review_reversals` AS SELECT * FROM `reversals`;--> statement-breakpoint
DELETE FROM `reversals`;--> statement-breakpoint
DROP VIEW `link_revenue`;--> statement-breakpoint
DROP VIEW `referrer_earnings`;
