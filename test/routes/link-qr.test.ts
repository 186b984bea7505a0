/**
 * `GET /_reflinks/links/:identifier/qr.svg` (docs/api.md#links): the QR code of the link's URL
 * on the request's host, as the referrer's page draws it; bearer token; unknown links 404.
 */
import { renderSVG } from "uqr";
import { describe, expect, it } from "vitest";
import { API_TOKEN, api, apiError, apiJson } from "../support/api";
import { send, uniqueIdentifier } from "../support/worker";

async function newLink(): Promise<{ identifier: string; url: string }> {
  const identifier = uniqueIdentifier("qr");
  const created = await apiJson("/links", { method: "POST", json: { identifier, user_id: "alice" } });
  expect(created.status).toBe(201);
  return { identifier, url: created.body.url };
}

describe("GET /links/:identifier/qr.svg", () => {
  it("answers an SVG QR code of the link's URL, not to be cached", async () => {
    const { identifier, url } = await newLink();
    const response = await api(`/links/${identifier}/qr.svg`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^image\/svg\+xml/);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const svg = await response.text();
    expect(svg).toContain("<svg");
    expect(url).toMatch(new RegExp(`^https://shop\\.example/.*${identifier}$`));
    expect(svg).toBe(renderSVG(url, { border: 1 }));
  });

  it("draws the URL on the host the request came to", async () => {
    const { identifier, url } = await newLink();
    const response = await send(`https://other.example/_reflinks/links/${identifier}/qr.svg`, {
      headers: { Authorization: `Bearer ${API_TOKEN}` },
    });
    expect(response.status).toBe(200);
    const svg = await response.text();
    expect(svg).toBe(renderSVG(url.replace("https://shop.example", "https://other.example"), { border: 1 }));
    expect(svg).not.toBe(renderSVG(url, { border: 1 }));
  });

  it("is 404 not_found for an unknown link", async () => {
    const answer = await apiJson(`/links/${uniqueIdentifier("none")}/qr.svg`);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual(apiError("not_found"));
  });

  it("is 401 without the bearer token", async () => {
    const { identifier } = await newLink();
    const response = await api(`/links/${identifier}/qr.svg`, { token: null });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain("<svg");
  });
});
