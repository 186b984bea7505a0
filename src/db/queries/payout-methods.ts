/**
 * How referrers are paid (docs/payouts.md#payout-methods): one method per user, replaced whole by
 * `PUT /users/:user_id/payout-method`. Personal data: in the export, deleted by erasure.
 */
import { eq, inArray } from "drizzle-orm";
import type { PayoutMethod, PayoutMethodType } from "../../payouts/files";
import type { Database } from "../client";
import { payoutMethods } from "../schema";

export interface PayoutMethodJson extends PayoutMethod {
  user_id: string;
  updated_at: string;
}

function methodJson(row: typeof payoutMethods.$inferSelect): PayoutMethodJson {
  return {
    user_id: row.userId,
    type: row.type as PayoutMethodType,
    email: row.email,
    iban: row.iban,
    account_name: row.accountName,
    updated_at: row.updatedAt,
  };
}

/** Sets the user's method (the fields the type does not use are null) and answers it. */
export async function setPayoutMethod(
  db: Database,
  userId: string,
  method: PayoutMethod,
  now: string,
): Promise<PayoutMethodJson> {
  const values = {
    type: method.type,
    email: method.email,
    iban: method.iban,
    accountName: method.account_name,
    updatedAt: now,
  };
  const [row] = await db
    .insert(payoutMethods)
    .values({ userId, ...values })
    .onConflictDoUpdate({ target: payoutMethods.userId, set: values })
    .returning();
  if (!row) throw new Error("payout method lost after its write");
  return methodJson(row);
}

export async function findPayoutMethod(db: Database, userId: string): Promise<PayoutMethodJson | null> {
  const [row] = await db.select().from(payoutMethods).where(eq(payoutMethods.userId, userId)).limit(1);
  return row ? methodJson(row) : null;
}

/** The methods of these users, by user id (chunked: D1 binds at most 100 parameters). */
export async function payoutMethodsOf(
  db: Database,
  userIds: readonly string[],
): Promise<Map<string, PayoutMethodJson>> {
  const methods = new Map<string, PayoutMethodJson>();
  const unique = [...new Set(userIds)];
  for (let start = 0; start < unique.length; start += 90) {
    const rows = await db
      .select()
      .from(payoutMethods)
      .where(inArray(payoutMethods.userId, unique.slice(start, start + 90)));
    for (const row of rows) methods.set(row.userId, methodJson(row));
  }
  return methods;
}
