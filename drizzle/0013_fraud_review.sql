CREATE TABLE `banned_users` (
	`user_id` text PRIMARY KEY NOT NULL,
	`reason` text,
	`banned_at` text NOT NULL,
	`links_disabled` integer NOT NULL,
	`commissions_rejected` integer NOT NULL
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_conversions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`external_id` text NOT NULL,
	`referral_id` integer NOT NULL,
	`user_id` text NOT NULL,
	`referrer_user_id` text,
	`link_id` integer NOT NULL,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`commission` integer NOT NULL,
	`commission_rule` text NOT NULL,
	`status` text NOT NULL,
	`approve_at` text NOT NULL,
	`reversed_amount` integer DEFAULT 0 NOT NULL,
	`payout_id` integer,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`referral_id`) REFERENCES `confirmed_referrals`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`payout_id`) REFERENCES `payouts`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "conversions_amount_positive" CHECK("__new_conversions"."amount" > 0),
	CONSTRAINT "conversions_currency_format" CHECK("__new_conversions"."currency" GLOB '[A-Z][A-Z][A-Z]'),
	CONSTRAINT "conversions_commission_range" CHECK("__new_conversions"."commission" >= 0),
	CONSTRAINT "conversions_reversed_range" CHECK("__new_conversions"."reversed_amount" >= 0 AND "__new_conversions"."reversed_amount" <= "__new_conversions"."amount"),
	CONSTRAINT "conversions_status" CHECK("__new_conversions"."status" IN ('pending', 'approved', 'reversed', 'paid', 'held', 'rejected'))
);
--> statement-breakpoint
INSERT INTO `__new_conversions`("id", "external_id", "referral_id", "user_id", "referrer_user_id", "link_id", "amount", "currency", "commission", "commission_rule", "status", "approve_at", "reversed_amount", "payout_id", "created_at", "updated_at") SELECT "id", "external_id", "referral_id", "user_id", "referrer_user_id", "link_id", "amount", "currency", "commission", "commission_rule", "status", "approve_at", "reversed_amount", "payout_id", "created_at", "updated_at" FROM `conversions`;--> statement-breakpoint
DROP TABLE `conversions`;--> statement-breakpoint
ALTER TABLE `__new_conversions` RENAME TO `conversions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `conversions_external_id_unique` ON `conversions` (`external_id`);--> statement-breakpoint
CREATE INDEX `conversions_referrer_idx` ON `conversions` (`referrer_user_id`,`currency`,`status`);--> statement-breakpoint
CREATE INDEX `conversions_user_idx` ON `conversions` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `conversions_link_idx` ON `conversions` (`link_id`,`currency`);--> statement-breakpoint
CREATE INDEX `conversions_payout_idx` ON `conversions` (`payout_id`);--> statement-breakpoint
CREATE INDEX `conversions_pending_approve_idx` ON `conversions` (`approve_at`,`id`) WHERE status = 'pending';--> statement-breakpoint
DROP INDEX `referral_hits_personal_idx`;--> statement-breakpoint
ALTER TABLE `referral_hits` ADD `asn` integer;--> statement-breakpoint
ALTER TABLE `referral_hits` ADD `paid_click` text;--> statement-breakpoint
ALTER TABLE `referral_hits` ADD `ip_hash` text;--> statement-breakpoint
ALTER TABLE `referral_hits` ADD `ip_private` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `referral_hits_personal_idx` ON `referral_hits` (`created_at`) WHERE ip IS NOT NULL OR user_agent IS NOT NULL OR http_referer IS NOT NULL OR ip_hash IS NOT NULL;--> statement-breakpoint
ALTER TABLE `confirmed_referrals` ADD `status` text DEFAULT 'ok' NOT NULL;--> statement-breakpoint
ALTER TABLE `confirmed_referrals` ADD `flags` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `confirmed_referrals` ADD `reason` text;--> statement-breakpoint
ALTER TABLE `confirmed_referrals` ADD `reviewed_at` text;--> statement-breakpoint
CREATE INDEX `confirmed_referrals_status_idx` ON `confirmed_referrals` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `confirmed_referrals_referrer_idx` ON `confirmed_referrals` (`referrer_user_id`,`status`);--> statement-breakpoint
ALTER TABLE `reflinks_users` ADD `last_ip_hash` text;