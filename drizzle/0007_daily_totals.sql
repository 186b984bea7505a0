CREATE TABLE `archived_days` (
	`day` text PRIMARY KEY NOT NULL,
	`object` text NOT NULL,
	`rows` integer NOT NULL,
	`sha256` text NOT NULL,
	`archived_at` text NOT NULL,
	`deleted_at` text
);
--> statement-breakpoint
CREATE TABLE `link_daily_totals` (
	`link_id` integer NOT NULL,
	`day` text NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	`unique_hits` integer DEFAULT 0 NOT NULL,
	`confirmed` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`link_id`, `day`),
	FOREIGN KEY (`link_id`) REFERENCES `referral_links`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `link_daily_totals_day_idx` ON `link_daily_totals` (`day`,`link_id`,`hits`,`unique_hits`,`confirmed`);--> statement-breakpoint
CREATE INDEX `confirmed_referrals_hit_idx` ON `confirmed_referrals` (`hit_id`);--> statement-breakpoint
DROP VIEW `daily_hits`;--> statement-breakpoint
DROP VIEW `link_stats`;--> statement-breakpoint
CREATE VIEW `daily_hits` AS SELECT t.day AS day, l.identifier AS identifier, t.hits AS hits, t.unique_hits AS unique_hits,
  CASE WHEN EXISTS (SELECT 1 FROM archived_days a WHERE a.day = t.day) THEN NULL
    ELSE (SELECT COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) FROM referral_hits h WHERE h.link_id = t.link_id
      AND h.created_at >= t.day AND h.created_at < date(t.day, '+1 day')) END AS visitors,
  t.confirmed AS confirmed
FROM link_daily_totals t JOIN referral_links l ON l.id = t.link_id
WHERE t.hits > 0 OR t.confirmed > 0;--> statement-breakpoint
CREATE VIEW `link_stats` AS SELECT l.identifier AS identifier, l.user_id AS user_id,
  (SELECT COALESCE(SUM(t.hits), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS hits,
  (SELECT COALESCE(SUM(t.unique_hits), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS unique_hits,
  CASE WHEN EXISTS (SELECT 1 FROM link_daily_totals t JOIN archived_days a ON a.day = t.day
    WHERE t.link_id = l.id AND t.hits > 0) THEN NULL
    ELSE (SELECT COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) FROM referral_hits h WHERE h.link_id = l.id) END AS visitors,
  CASE WHEN EXISTS (SELECT 1 FROM link_daily_totals t JOIN archived_days a ON a.day = t.day
    WHERE t.link_id = l.id AND t.hits > 0) THEN NULL
    ELSE (SELECT COUNT(DISTINCT h.hit_user_id) FROM referral_hits h WHERE h.link_id = l.id) END AS users,
  (SELECT COALESCE(SUM(t.confirmed), 0) FROM link_daily_totals t WHERE t.link_id = l.id) AS confirmed
FROM referral_links l;