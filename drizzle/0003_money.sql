CREATE TABLE `conversions` (
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
	CONSTRAINT "conversions_amount_positive" CHECK("conversions"."amount" > 0),
	CONSTRAINT "conversions_currency_format" CHECK("conversions"."currency" GLOB '[A-Z][A-Z][A-Z]'),
	CONSTRAINT "conversions_commission_range" CHECK("conversions"."commission" >= 0),
	CONSTRAINT "conversions_reversed_range" CHECK("conversions"."reversed_amount" >= 0 AND "conversions"."reversed_amount" <= "conversions"."amount"),
	CONSTRAINT "conversions_status" CHECK("conversions"."status" IN ('pending', 'approved', 'reversed', 'paid'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `conversions_external_id_unique` ON `conversions` (`external_id`);--> statement-breakpoint
CREATE INDEX `conversions_referrer_idx` ON `conversions` (`referrer_user_id`,`currency`,`status`);--> statement-breakpoint
CREATE INDEX `conversions_user_idx` ON `conversions` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `conversions_link_idx` ON `conversions` (`link_id`,`currency`);--> statement-breakpoint
CREATE INDEX `conversions_payout_idx` ON `conversions` (`payout_id`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`idempotency_key` text NOT NULL,
	`referrer_user_id` text NOT NULL,
	`currency` text NOT NULL,
	`amount` integer NOT NULL,
	`created_at` text NOT NULL,
	CONSTRAINT "payouts_amount_positive" CHECK("payouts"."amount" > 0),
	CONSTRAINT "payouts_currency_format" CHECK("payouts"."currency" GLOB '[A-Z][A-Z][A-Z]')
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_idempotency_key_unique` ON `payouts` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `payouts_referrer_idx` ON `payouts` (`referrer_user_id`,`id`);--> statement-breakpoint
CREATE TABLE `reversals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`conversion_id` integer NOT NULL,
	`reversal_id` text NOT NULL,
	`amount` integer NOT NULL,
	`commission_delta` integer NOT NULL,
	`clawback` integer DEFAULT false NOT NULL,
	`payout_id` integer,
	`created_at` text NOT NULL,
	FOREIGN KEY (`conversion_id`) REFERENCES `conversions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`payout_id`) REFERENCES `payouts`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "reversals_amount_positive" CHECK("reversals"."amount" > 0),
	CONSTRAINT "reversals_commission_delta" CHECK("reversals"."commission_delta" <= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reversals_reversal_id_unique` ON `reversals` (`reversal_id`);--> statement-breakpoint
CREATE INDEX `reversals_conversion_idx` ON `reversals` (`conversion_id`);--> statement-breakpoint
CREATE INDEX `reversals_payout_idx` ON `reversals` (`payout_id`);--> statement-breakpoint
ALTER TABLE `referral_links` ADD `commission` text;--> statement-breakpoint
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
GROUP BY c.referrer_user_id, c.currency;