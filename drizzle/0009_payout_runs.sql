CREATE TABLE `payout_methods` (
	`user_id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`email` text,
	`iban` text,
	`account_name` text,
	`updated_at` text NOT NULL,
	CONSTRAINT "payout_methods_type" CHECK("payout_methods"."type" IN ('paypal', 'wise', 'iban'))
);
--> statement-breakpoint
CREATE TABLE `payout_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`idempotency_key` text NOT NULL,
	`currency` text NOT NULL,
	`created_at` text NOT NULL,
	CONSTRAINT "payout_runs_currency_format" CHECK("payout_runs"."currency" GLOB '[A-Z][A-Z][A-Z]')
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_runs_idempotency_key_unique` ON `payout_runs` (`idempotency_key`);--> statement-breakpoint
ALTER TABLE `payouts` ADD `run_id` integer REFERENCES payout_runs(id);--> statement-breakpoint
CREATE INDEX `payouts_run_idx` ON `payouts` (`run_id`,`referrer_user_id`);