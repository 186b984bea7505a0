/**
 * The first attempt of the webhook events a request wrote, made after its response. The
 * middleware gives the request a {@link WrittenEvents} (`c.var.events`); handlers pass it to the
 * query functions that write events, so every call that sends an event says so; once the handler
 * has answered, what they wrote is sent in `waitUntil`. The scheduled job retries what fails or
 * never starts.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { HonoEnv } from "../app-env";
import { errorMessage, log } from "../lib/log";
import { deliverNewEvents } from "./delivery";
import { WrittenEvents } from "./outbox";

export const sendWrittenEvents: MiddlewareHandler<HonoEnv> = async (c, next) => {
  const events = new WrittenEvents();
  c.set("events", events);
  await next();
  if (events.ids.length > 0) sendAfterResponse(c, events.ids);
};

function sendAfterResponse(c: Context<HonoEnv>, ids: string[]) {
  let ctx: Context<HonoEnv>["executionCtx"];
  try {
    ctx = c.executionCtx;
  } catch {
    return; // no context (an app called without one, in a test): the scheduled job sends them
  }
  ctx.waitUntil(
    deliverNewEvents(c.env, ids).catch((error) =>
      log("warn", "webhook_first_attempt_failed", { events: ids.length, error: errorMessage(error) }),
    ),
  );
}
