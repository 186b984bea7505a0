DROP INDEX `referral_hits_link_created_idx`;--> statement-breakpoint
CREATE INDEX `referral_hits_created_idx` ON `referral_hits` (`created_at`,`link_id`,`hit_user_id`,`anonymous_id`);--> statement-breakpoint
CREATE INDEX `referral_hits_link_created_idx` ON `referral_hits` (`link_id`,`created_at`,`hit_user_id`,`anonymous_id`);--> statement-breakpoint
DROP VIEW `link_stats`;--> statement-breakpoint
CREATE VIEW `link_stats` AS SELECT l.identifier AS identifier, l.user_id AS user_id,
  (SELECT COUNT(*) FROM referral_hits h WHERE h.link_id = l.id) AS hits,
  (SELECT COUNT(DISTINCT COALESCE('u:' || h.hit_user_id, 'a:' || h.anonymous_id)) FROM referral_hits h WHERE h.link_id = l.id) AS visitors,
  (SELECT COUNT(DISTINCT h.hit_user_id) FROM referral_hits h WHERE h.link_id = l.id) AS users,
  (SELECT COUNT(*) FROM confirmed_referrals c WHERE c.link_id = l.id) AS confirmed
FROM referral_links l;