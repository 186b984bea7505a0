CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`error` text,
	`duration_ms` integer NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`event_id`) REFERENCES `webhook_events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook_idx` ON `webhook_deliveries` (`webhook_id`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_event_idx` ON `webhook_deliveries` (`event_id`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`webhook_id` text NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`webhook_id`) REFERENCES `webhooks`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "webhook_events_status" CHECK("webhook_events"."status" IN ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE INDEX `webhook_events_due_idx` ON `webhook_events` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_webhook_idx` ON `webhook_events` (`webhook_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
-- referral_hits is rebuilt so that user_agent and http_referer can be null (erased). D1 keeps
-- foreign keys on during a migration, so dropping the old table would set every
-- confirmed_referrals.hit_id to null: the links are kept aside and put back. The views name
-- referral_hits, so they are dropped first and made again (with unique_hits) at the end.
DROP VIEW `daily_hits`;--> statement-breakpoint
DROP VIEW `link_stats`;--> statement-breakpoint
CREATE TABLE `__referral_hit_links` AS SELECT `id`, `hit_id` FROM `confirmed_referrals` WHERE `hit_id` IS NOT NULL;--> statement-breakpoint
CREATE TABLE `__new_referral_hits` (
	`id` text PRIMARY KEY NOT NULL,
	`link_id` integer NOT NULL,
	`anonymous_id` text,
	`authenticated` integer DEFAULT false NOT NULL,
	`hit_user_id` text,
	`ip` text,
	`user_agent` text,
	`http_referer` text,
	`next` text DEFAULT '' NOT NULL,
	`country` text,
	`confirmed_at` text,
	`duplicate` integer DEFAULT false NOT NULL,
	`consented` integer DEFAULT true NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`link_id`) REFERENCES `referral_links`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "referral_hits_authenticated_bool" CHECK("__new_referral_hits"."authenticated" IN (0, 1)),
	CONSTRAINT "referral_hits_duplicate_bool" CHECK("__new_referral_hits"."duplicate" IN (0, 1)),
	CONSTRAINT "referral_hits_consented_bool" CHECK("__new_referral_hits"."consented" IN (0, 1))
);
--> statement-breakpoint
INSERT INTO `__new_referral_hits`("id", "link_id", "anonymous_id", "authenticated", "hit_user_id", "ip", "user_agent", "http_referer", "next", "country", "confirmed_at", "duplicate", "consented", "created_at", "updated_at") SELECT "id", "link_id", "anonymous_id", "authenticated", "hit_user_id", "ip", NULLIF("user_agent", ''), NULLIF("http_referer", ''), "next", "country", "confirmed_at", 0, 1, "created_at", "updated_at" FROM `referral_hits`;--> statement-breakpoint
DROP TABLE `referral_hits`;--> statement-breakpoint
ALTER TABLE `__new_referral_hits` RENAME TO `referral_hits`;--> statement-breakpoint
CREATE INDEX `referral_hits_link_created_idx` ON `referral_hits` (`link_id`,`created_at`,`hit_user_id`,`anonymous_id`,`duplicate`);--> statement-breakpoint
CREATE INDEX `referral_hits_created_idx` ON `referral_hits` (`created_at`,`link_id`,`hit_user_id`,`anonymous_id`,`duplicate`);--> statement-breakpoint
CREATE INDEX `referral_hits_anonymous_id_idx` ON `referral_hits` (`anonymous_id`,`link_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `referral_hits_user_created_idx` ON `referral_hits` (`hit_user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `referral_hits_personal_idx` ON `referral_hits` (`created_at`) WHERE ip IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL;--> statement-breakpoint
UPDATE `confirmed_referrals` SET `hit_id` = (SELECT k.`hit_id` FROM `__referral_hit_links` k WHERE k.`id` = `confirmed_referrals`.`id`) WHERE `id` IN (SELECT `id` FROM `__referral_hit_links`);--> statement-breakpoint
DROP TABLE `__referral_hit_links`;--> statement-breakpoint
CREATE VIEW `daily_hits` AS SELECT d.day AS day, l.identifier AS identifier, SUM(d.hits) AS hits,
  SUM(d.unique_hits) AS unique_hits, SUM(d.visitors) AS visitors, SUM(d.confirmed) AS confirmed
FROM (
  SELECT substr(h.created_at, 1, 10) AS day, h.link_id AS link_id, COUNT(*) AS hits,
    SUM(CASE WHEN h.duplicate = 0 THEN 1 ELSE 0 END) AS unique_hits,
    COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) AS visitors, 0 AS confirmed
  FROM referral_hits h GROUP BY 1, 2
  UNION ALL
  SELECT substr(c.created_at, 1, 10), c.link_id, 0, 0, 0, COUNT(*)
  FROM confirmed_referrals c GROUP BY 1, 2
) d JOIN referral_links l ON l.id = d.link_id
GROUP BY d.day, d.link_id;--> statement-breakpoint
CREATE VIEW `link_stats` AS SELECT l.identifier AS identifier, l.user_id AS user_id,
  (SELECT COUNT(*) FROM referral_hits h WHERE h.link_id = l.id) AS hits,
  (SELECT COUNT(*) FROM referral_hits h WHERE h.link_id = l.id AND h.duplicate = 0) AS unique_hits,
  (SELECT COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) FROM referral_hits h WHERE h.link_id = l.id) AS visitors,
  (SELECT COUNT(DISTINCT h.hit_user_id) FROM referral_hits h WHERE h.link_id = l.id) AS users,
  (SELECT COUNT(*) FROM confirmed_referrals c WHERE c.link_id = l.id) AS confirmed
FROM referral_links l;