/**
 * `/_reflinks/webhooks` (docs/webhooks.md): register, list and delete endpoints, read an
 * endpoint's delivery log, and send one of its events again now.
 */
import * as z from "zod/mini";
import { ApiError } from "../../errors";
import {
  createWebhook,
  deleteWebhook,
  deliveryJson,
  findDelivery,
  findWebhook,
  listDeliveries,
  listWebhooks,
  retryWebhookEvent,
} from "../../webhooks";
import type { ApiHandlers } from "./handler";
import { decodeCursor, encodeCursor } from "./input";

/** The handlers of the webhook routes, by their name in the route table (./contract.ts). */
export const webhookHandlers = {
  async createWebhook(c, { body }) {
    return c.json(await createWebhook(c.var.db, body), 201);
  },

  async listWebhooks(c) {
    return c.json({ webhooks: await listWebhooks(c.var.db) });
  },

  async deleteWebhook(c, { params: { id } }) {
    if (!(await deleteWebhook(c.var.db, id))) throw notFound(id);
    return c.body(null, 204);
  },

  async listWebhookDeliveries(c, { params: { id }, query }) {
    if (!(await findWebhook(c.var.db, id))) throw notFound(id);
    const beforeId =
      query.cursor === undefined ? undefined : decodeCursor(query.cursor, z.number().check(z.int()));
    const page = await listDeliveries(c.var.db, id, { beforeId, limit: query.limit + 1 });
    const more = page.length > query.limit;
    const shown = more ? page.slice(0, query.limit) : page;
    return c.json({
      deliveries: shown.map(deliveryJson),
      next_cursor: more ? encodeCursor(shown.at(-1)?.id) : null,
    });
  },

  async retryWebhookDelivery(c, { params: { id, delivery_id: deliveryId } }) {
    const delivery = /^\d{1,15}$/.test(deliveryId)
      ? await findDelivery(c.var.db, id, Number(deliveryId))
      : null;
    if (!delivery)
      throw new ApiError(
        "not_found",
        `No delivery ${deliveryId.slice(0, 20)} of webhook "${id.slice(0, 50)}".`,
      );
    const attempt = await retryWebhookEvent(c.env, delivery.eventId);
    // Null: the endpoint was deleted while the attempt was made.
    if (!attempt) throw notFound(id);
    return c.json(deliveryJson(attempt));
  },
} satisfies Partial<ApiHandlers>;

function notFound(id: string): ApiError {
  return new ApiError("not_found", `No webhook "${id.slice(0, 50)}".`);
}
