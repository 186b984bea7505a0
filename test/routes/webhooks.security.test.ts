/**
 * Webhook receivers an attacker with the API token (or a careless operator) could point the worker
 * at (docs/webhooks.md#endpoints, SECURITY.md "Forged or hostile webhooks"): nothing local,
 * private, link-local or internal, in any notation, and no credentials in the URL.
 */
import { afterEach, describe, expect, it } from "vitest";
import { apiError, apiJson } from "../support/api";

const created: string[] = [];
afterEach(async () => {
  for (const id of created.splice(0)) await apiJson(`/webhooks/${id}`, { method: "DELETE" });
});

const register = (url: string) =>
  apiJson("/webhooks", { method: "POST", json: { url, events: ["link.created"] } });

describe("a receiver URL that reaches inside", () => {
  it.each([
    // The cloud metadata services, by address and by name.
    "https://169.254.169.254/latest/meta-data/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata.google.internal./computeMetadata/v1/",
    // Private, shared (carrier-grade NAT) and special-purpose IPv4 ranges.
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://172.31.255.255/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://100.127.255.254/hook",
    "https://192.0.0.8/hook",
    "https://198.18.0.1/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://255.255.255.255/hook",
    // Loopback and unspecified, in every notation the URL parser accepts.
    "https://127.0.0.1/hook",
    "https://127.0.0.1:22/hook",
    "https://127.8.9.10/hook",
    "https://0.0.0.0/hook",
    "https://0/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://127.1/hook",
    "https://0177.0.0.1/hook",
    "https://%31%32%37.0.0.1/hook",
    "https://[::1]/hook",
    "https://[0:0:0:0:0:0:0:1]/hook",
    "https://[::]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[::127.0.0.1]/hook",
    "https://[64:ff9b::10.0.0.1]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://[ff02::1]/hook",
    // Names that only mean something inside a network.
    "https://localhost/hook",
    "https://localhost:8443/hook",
    "https://localhost./hook",
    "https://api.localhost/hook",
    "https://printer.local/hook",
    "https://vault.service.internal/hook",
    // Plain http to anything but the two development hosts.
    "http://[::1]:8787/hook",
    "http://10.0.0.1/hook",
    "http://metadata.google.internal/hook",
  ])("refuses %s with 422 naming url", async (url) => {
    const answer = await register(url);
    if (answer.status === 201) created.push(answer.body.id);
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe("validation_failed");
    expect(answer.body.error.message).toMatch(/^url /);
  });

  it.each([
    "https://user:secret@hooks.example.com/hook",
    "https://user@hooks.example.com/hook",
    "https://:secret@hooks.example.com/hook",
    "http://user:secret@127.0.0.1:8000/hook",
  ])("refuses credentials in %s with 422, without echoing them", async (url) => {
    const answer = await register(url);
    if (answer.status === 201) created.push(answer.body.id);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual(
      apiError("validation_failed", "url must not contain a user name or password"),
    );
    expect(JSON.stringify(answer.body)).not.toContain("secret@");
  });
});

describe("a receiver URL that is fine", () => {
  it.each([
    // A public address, in any notation, is as good as a name.
    ["https://8.8.8.8/hook", "https://8.8.8.8/hook"],
    ["https://0x08080808/hook", "https://8.8.8.8/hook"],
    ["https://[2001:4860:4860::8888]/hook", "https://[2001:4860:4860::8888]/hook"],
    ["https://[::ffff:8.8.8.8]/hook", "https://[::ffff:808:808]/hook"],
    ["https://[64:ff9b::8.8.8.8]/hook", "https://[64:ff9b::808:808]/hook"],
    // Names that only look local are ordinary names.
    ["https://localhost.example.com/hook", "https://localhost.example.com/hook"],
    ["https://internal.example.com/hook", "https://internal.example.com/hook"],
    ["https://100.63.255.255/hook", "https://100.63.255.255/hook"],
    ["https://172.32.0.1/hook", "https://172.32.0.1/hook"],
    // Development: plain http to localhost or 127.0.0.1, on any port, in any notation of it.
    ["http://localhost:3000/hook", "http://localhost:3000/hook"],
    ["http://127.0.0.1:8000/hook", "http://127.0.0.1:8000/hook"],
    ["http://127.0.0.1/hook", "http://127.0.0.1/hook"],
    ["http://0x7f000001:9000/hook", "http://127.0.0.1:9000/hook"],
    // Stored as the URL parser writes it.
    ["HTTPS://Hooks.Example.COM:443/a/../b?x=1#frag", "https://hooks.example.com/b?x=1#frag"],
  ])("takes %s, stored and shown as %s", async (url, stored) => {
    const answer = await register(url);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    created.push(answer.body.id);
    expect(answer.body.url).toBe(stored);
    const listed = (await apiJson("/webhooks")).body.webhooks.find(
      (webhook: { id: string }) => webhook.id === answer.body.id,
    );
    expect(listed.url).toBe(stored);
  });
});
