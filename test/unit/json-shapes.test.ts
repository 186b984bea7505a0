/**
 * The JSON the modules build is what the API's zod schemas document, field for field: each
 * hand-written type beside its schema (kept where it is so that the main module does not carry the
 * API's schemas) is checked here by `npm run typecheck` (tsc reads `expectTypeOf`), and a drift
 * either way is a compile error.
 */
import { describe, expectTypeOf, it } from "vitest";
import type * as z from "zod/mini";
import type { BanJson } from "../../src/db/queries/fraud-review";
import type { PayoutMethodJson } from "../../src/db/queries/payout-methods";
import type { PayoutJson } from "../../src/db/queries/payouts";
import type { queuedHitSchema } from "../../src/hits/consume-hits";
import type { QueuedHit } from "../../src/hits/save-hit";
import type {
  banSchema,
  deliverySchema,
  payoutMethodSchema,
  payoutSchema,
  webhookSchema,
} from "../../src/routes/api/schemas";
import type { DeliveryJson, WebhookJson } from "../../src/webhooks/endpoints";

describe("the JSON types and their schemas", () => {
  it("are the same types (checked by tsc)", () => {
    expectTypeOf<PayoutJson>().toEqualTypeOf<z.output<typeof payoutSchema>>();
    expectTypeOf<WebhookJson>().toEqualTypeOf<z.output<typeof webhookSchema>>();
    expectTypeOf<DeliveryJson>().toEqualTypeOf<z.output<typeof deliverySchema>>();
    expectTypeOf<BanJson>().toEqualTypeOf<z.output<typeof banSchema>>();
    expectTypeOf<PayoutMethodJson>().toEqualTypeOf<z.output<typeof payoutMethodSchema>>();
    // A queued hit as validated is one the hit writer takes.
    expectTypeOf<z.output<typeof queuedHitSchema>>().toExtend<QueuedHit>();
  });
});
