CREATE TABLE `coupons` (
	`code` text PRIMARY KEY NOT NULL,
	`link_id` integer NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`link_id`) REFERENCES `referral_links`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "coupons_code_format" CHECK(length("coupons"."code") BETWEEN 3 AND 40 AND "coupons"."code" NOT GLOB '*[^A-Z0-9_-]*')
);
--> statement-breakpoint
CREATE INDEX `coupons_link_idx` ON `coupons` (`link_id`,`code`);--> statement-breakpoint
ALTER TABLE `confirmed_referrals` ADD `source` text DEFAULT 'link' NOT NULL;--> statement-breakpoint
ALTER TABLE `referral_links` ADD `referee_reward` text;--> statement-breakpoint
ALTER TABLE `referral_links` ADD `expires_at` text;--> statement-breakpoint
ALTER TABLE `referral_links` ADD `commission_payments` integer;