/**
 * A link made on the referrer's page (docs/referrer-page.md#get-your-link) writes its
 * `link.created` as `POST /links` does, and its first attempt is made right after the page's
 * answer (docs/webhooks.md#delivery), not left for the scheduled job.
 */
import { afterEach, describe, expect, it } from "vitest";
import { apiJson, uniqueUser } from "../support/api";
import { formTokenOf, openPortal, PORTAL, postGetLink } from "../support/portal";
import { createWebhook, eventsOf, receiver } from "../support/webhooks";

describe("Get your link sends link.created", () => {
  const created: string[] = [];
  afterEach(async () => {
    for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
  });

  it("the event of the link made on the page is delivered with the page's answer", async () => {
    const box = receiver("ok");
    const webhook = await createWebhook(box.url, ["link.created"]);
    created.push(webhook.id);
    const userId = uniqueUser("page-maker");
    const page = await (await openPortal(userId)).text();

    // `send` waits for the request's waitUntil, as the runtime lets it run after the answer.
    const response = await postGetLink(userId, { form_token: await formTokenOf(page), identifier: "" });
    expect(response.status).toBe(303);
    const identifier = new URL(response.headers.get("Location") ?? "", "https://x").searchParams.get(
      "created",
    );
    expect(response.headers.get("Location")).toBe(`${PORTAL}?created=${identifier}`);

    const { requests } = await box.received();
    expect(requests).toHaveLength(1);
    expect(JSON.parse(requests[0]?.body ?? "{}")).toMatchObject({
      type: "link.created",
      data: { identifier, user_id: userId },
    });
    expect((await eventsOf(webhook.id)).map((event) => [event.type, event.status])).toEqual([
      ["link.created", "delivered"],
    ]);
  });
});
