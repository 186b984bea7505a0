import type { AppBindings } from "../bindings";
import { database } from "../db/client";
import { insertHits } from "../db/queries/hits";
import { findLinkTarget } from "../db/queries/links";
import type { NewReferralHit } from "../db/schema";
import { errorMessage } from "../lib/log";
import { withRetries } from "../lib/retry";

/** A hit as the referral routes make it: complete but for the link, which may not be known yet. */
export type HitDraft = Omit<NewReferralHit, "linkId">;

/**
 * Stores a hit without holding up the visitor's redirect: the write runs in `waitUntil`, retried
 * with backoff and logged, so a D1 error never becomes the visitor's error page. When the link
 * lookup itself failed (`linkId` null), the lookup is retried too and the hit stored if the link
 * turns out to exist and be enabled.
 */
export function saveHit(
  bindings: AppBindings,
  ctx: ExecutionContext,
  identifier: string,
  linkId: number | null,
  draft: HitDraft,
): void {
  const db = database(bindings.DB);
  let resolvedLinkId = linkId;
  const store = async () => {
    if (resolvedLinkId === null) {
      const link = await findLinkTarget(db, identifier);
      if (!link || link.disabled) return;
      resolvedLinkId = link.id;
    }
    await insertHits(db, [{ ...draft, linkId: resolvedLinkId }]);
  };
  ctx.waitUntil(
    withRetries(store, {
      event: "hit_write_failed",
      fields: { hit_id: draft.id, link: identifier },
      // The link was deleted between lookup and insert: its hits are deleted with it anyway.
      isPermanent: (error) => /FOREIGN KEY constraint/i.test(errorMessage(error)),
    }),
  );
}
