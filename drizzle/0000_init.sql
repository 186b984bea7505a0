CREATE TABLE `confirmed_referrals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`event` text NOT NULL,
	`hit_id` text,
	`link_id` integer NOT NULL,
	`referrer_user_id` text,
	`created_at` text NOT NULL,
	FOREIGN KEY (`hit_id`) REFERENCES `referral_hits`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `confirmed_referrals_user_event_unique` ON `confirmed_referrals` (`user_id`,`event`);--> statement-breakpoint
CREATE INDEX `confirmed_referrals_link_created_idx` ON `confirmed_referrals` (`link_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `referral_hits` (
	`id` text PRIMARY KEY NOT NULL,
	`link_id` integer NOT NULL,
	`anonymous_id` text,
	`authenticated` integer DEFAULT false NOT NULL,
	`hit_user_id` text,
	`ip` text,
	`user_agent` text DEFAULT '' NOT NULL,
	`http_referer` text DEFAULT '' NOT NULL,
	`next` text DEFAULT '' NOT NULL,
	`country` text,
	`confirmed_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`link_id`) REFERENCES `referral_links`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "referral_hits_authenticated_bool" CHECK("referral_hits"."authenticated" IN (0, 1))
);
--> statement-breakpoint
CREATE INDEX `referral_hits_link_created_idx` ON `referral_hits` (`link_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `referral_hits_anonymous_id_idx` ON `referral_hits` (`anonymous_id`);--> statement-breakpoint
CREATE INDEX `referral_hits_user_created_idx` ON `referral_hits` (`hit_user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `referral_links` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`identifier` text NOT NULL,
	`user_id` text,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "referral_links_identifier_format" CHECK(length("referral_links"."identifier") BETWEEN 1 AND 50 AND "referral_links"."identifier" NOT GLOB '*[^A-Za-z0-9_-]*'),
	CONSTRAINT "referral_links_disabled_bool" CHECK("referral_links"."disabled" IN (0, 1))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `referral_links_identifier_unique` ON `referral_links` (`identifier`);--> statement-breakpoint
CREATE INDEX `referral_links_user_id_idx` ON `referral_links` (`user_id`,`id`);--> statement-breakpoint
CREATE VIEW `daily_hits` AS SELECT d.day AS day, l.identifier AS identifier, SUM(d.hits) AS hits,
  SUM(d.visitors) AS visitors, SUM(d.confirmed) AS confirmed
FROM (
  SELECT substr(h.created_at, 1, 10) AS day, h.link_id AS link_id, COUNT(*) AS hits,
    COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) AS visitors, 0 AS confirmed
  FROM referral_hits h GROUP BY 1, 2
  UNION ALL
  SELECT substr(c.created_at, 1, 10), c.link_id, 0, 0, COUNT(*)
  FROM confirmed_referrals c GROUP BY 1, 2
) d JOIN referral_links l ON l.id = d.link_id
GROUP BY d.day, d.link_id;--> statement-breakpoint
CREATE VIEW `link_stats` AS SELECT l.identifier AS identifier, l.user_id AS user_id,
  COALESCE(h.hits, 0) AS hits, COALESCE(h.visitors, 0) AS visitors, COALESCE(h.users, 0) AS users,
  (SELECT COUNT(*) FROM confirmed_referrals c WHERE c.link_id = l.id) AS confirmed
FROM referral_links l
LEFT JOIN (
  SELECT h.link_id AS link_id, COUNT(*) AS hits, COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) AS visitors,
    COUNT(DISTINCT h.hit_user_id) AS users
  FROM referral_hits h GROUP BY h.link_id
) h ON h.link_id = l.id;