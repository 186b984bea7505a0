import { inArray } from "drizzle-orm";
import type { Database } from "../client";
import { referralLinks } from "../schema";

/** A link's enabled state, commission override and friend's reward: what the dashboard's forms change. */
export interface LinkSettingsRow {
  identifier: string;
  disabled: boolean;
  commission: string | null;
  refereeReward: string | null;
}

/** The settings of the links named (at most one page of the dashboard's links table). */
export async function linkSettingsOf(
  db: Database,
  identifiers: readonly string[],
): Promise<LinkSettingsRow[]> {
  if (identifiers.length === 0) return [];
  return db
    .select({
      identifier: referralLinks.identifier,
      disabled: referralLinks.disabled,
      commission: referralLinks.commission,
      refereeReward: referralLinks.refereeReward,
    })
    .from(referralLinks)
    .where(inArray(referralLinks.identifier, [...identifiers]));
}
