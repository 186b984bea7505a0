import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ConfigError, parseConfig } from "../../src/config";
import worker from "../../src/index";

describe("parseConfig", () => {
  it("applies the documented defaults when nothing is set", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      originUrl: null,
      refPath: "/ref/",
      refParams: ["ref"],
      cookieName: "reflinks_rk",
      cookieMaxAge: 31536000,
      cookieDomain: null,
      successUrl: "/",
      attribution: "last",
      attributionWindowDays: 90,
      storeIp: "full",
      apiToken: null,
      signingSecret: null,
    });
    expect([...config.allowedRedirectHosts]).toEqual([]);
  });

  it("reads every variable", () => {
    const config = parseConfig({
      ORIGIN_URL: "https://origin.example.com/app",
      REF_PATH: "/r/x/",
      REF_PARAM: "via",
      COOKIE_NAME: "rk",
      COOKIE_MAX_AGE: "600",
      COOKIE_DOMAIN: ".example.com",
      SUCCESS_URL: "https://example.com/welcome",
      ATTRIBUTION: "first",
      ATTRIBUTION_WINDOW_DAYS: "30",
      STORE_IP: "truncated",
      ALLOWED_REDIRECT_HOSTS: " App.Example.com , www.example.com:8443 ",
      API_TOKEN: "t",
      SIGNING_SECRET: "s".repeat(32),
    });
    expect(config.originUrl?.href).toBe("https://origin.example.com/app");
    expect(config).toMatchObject({
      refPath: "/r/x/",
      refParams: ["via"],
      cookieMaxAge: 600,
      attribution: "first",
    });
    expect([...config.allowedRedirectHosts]).toEqual(["app.example.com", "www.example.com:8443"]);
  });

  it("treats empty optional variables as unset", () => {
    const config = parseConfig({ ORIGIN_URL: "", COOKIE_DOMAIN: "", API_TOKEN: "", SIGNING_SECRET: "" });
    expect(config).toMatchObject({
      originUrl: null,
      cookieDomain: null,
      apiToken: null,
      signingSecret: null,
    });
  });

  it.each([
    ["REF_PATH", "ref"],
    ["REF_PATH", "/r/../"],
    ["REF_PATH", "/./ref/"],
    ["REF_PATH", "/"],
    ["REF_PATH", "//ref/"],
    ["REF_PATH", "/_reflinks/r/"],
    ["REF_PATH", ""],
    ["REF_PARAM", "r f"],
    ["REF_PARAM", ""],
    ["COOKIE_NAME", "a;b"],
    ["COOKIE_NAME", "reflinks_uid"],
    ["COOKIE_MAX_AGE", "one year"],
    ["COOKIE_MAX_AGE", "-1"],
    ["COOKIE_MAX_AGE", "99999999999"],
    ["COOKIE_DOMAIN", "example.com; Secure"],
    ["SUCCESS_URL", "//evil.com"],
    ["SUCCESS_URL", "javascript:alert(1)"],
    ["ATTRIBUTION", "middle"],
    ["ATTRIBUTION_WINDOW_DAYS", "0"],
    ["ATTRIBUTION_WINDOW_DAYS", "ninety"],
    ["STORE_IP", "partial"],
    ["ALLOWED_REDIRECT_HOSTS", "https://app.example.com"],
    ["ORIGIN_URL", "origin.example.com"],
    ["ORIGIN_URL", "ftp://origin.example.com"],
    ["ORIGIN_TIMEOUT_SECONDS", "0"],
    ["WEBHOOK_TIMEOUT_MS", "10s"],
    ["WEBHOOK_TIMEOUT_MS", "50"],
    ["WEBHOOK_TIMEOUT_MS", "600000"],
    ["SIGNING_SECRET", "short"],
    ["PAYOUT_MINIMUM", "EUR"],
    ["PAYOUT_MINIMUM", "EUR:50.00"],
    ["PAYOUT_MINIMUM", "eur:5000"],
    ["PAYOUT_MINIMUM", "EUR:0"],
    ["PAYOUT_MINIMUM", "EUR:5000,EUR:100"],
    ["PAYOUT_MINIMUM", "EUR:5000,"],
    ["SEPA_DEBTOR_NAME", "李小龙"],
    ["SEPA_DEBTOR_NAME", "x".repeat(71)],
    ["SEPA_DEBTOR_IBAN", "DE89370400440532013001"],
    ["SEPA_DEBTOR_BIC", "DEUT"],
    ["SEPA_DEBTOR_BIC", "deutdeff"],
  ])("rejects %s=%j, naming the variable", (variable, value) => {
    let thrown: unknown;
    try {
      parseConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toContain(variable);
  });

  it('completes a REF_PATH written without its last slash: "/ref" is "/ref/"', () => {
    expect(parseConfig({ REF_PATH: "/ref" }).refPath).toBe("/ref/");
    expect(parseConfig({ REF_PATH: "/r/x" }).refPath).toBe("/r/x/");
  });

  it("rejects a __Host- COOKIE_NAME together with COOKIE_DOMAIN (such a cookie cannot carry a Domain)", () => {
    expect(() => parseConfig({ COOKIE_NAME: "__Host-rk", COOKIE_DOMAIN: ".example.com" })).toThrow(
      /COOKIE_NAME must not start with "__Host-" while COOKIE_DOMAIN is set/,
    );
    expect(parseConfig({ COOKIE_NAME: "__Host-rk" }).cookieName).toBe("__Host-rk");
  });

  it.each([
    ["admin.example.com", { own: true, hostname: "admin.example.com", port: null }],
    ["Admin.Example.COM:8443", { own: true, hostname: "admin.example.com", port: "8443" }],
    ["reflinks.you.workers.dev", { own: true, hostname: "reflinks.you.workers.dev", port: null }],
    ["", { own: false }],
  ])("DASHBOARD_HOST=%j reads as a host and an optional port", (value, expected) => {
    expect(parseConfig({ DASHBOARD_HOST: value }).dashboardHost).toEqual(expected);
  });

  it.each([
    "https://admin.example.com",
    "admin.example.com/",
    "admin.example.com:99999",
    "user@admin.example.com",
    "*.example.com",
  ])("DASHBOARD_HOST=%j is not a host: a ConfigError naming it", (value) => {
    expect(() => parseConfig({ DASHBOARD_HOST: value })).toThrow(/DASHBOARD_HOST must be a host name/);
  });

  it("PAYOUT_MINIMUM: minor units per currency; unset, every minimum is empty", () => {
    expect([...parseConfig({ PAYOUT_MINIMUM: "EUR:5000, USD:2500,JPY:1" }).payoutMinimum]).toEqual([
      ["EUR", 5000],
      ["USD", 2500],
      ["JPY", 1],
    ]);
    expect(parseConfig({}).payoutMinimum.size).toBe(0);
    expect(parseConfig({ PAYOUT_MINIMUM: "" }).payoutMinimum.size).toBe(0);
  });

  it("SEPA_DEBTOR_*: read, the IBAN as banks write it (no spaces, capitals); unset, null", () => {
    expect(
      parseConfig({
        SEPA_DEBTOR_NAME: "Shop GmbH",
        SEPA_DEBTOR_IBAN: "de89 3704 0044 0532 0130 00",
        SEPA_DEBTOR_BIC: "COBADEFFXXX",
      }).sepaDebtor,
    ).toEqual({ name: "Shop GmbH", iban: "DE89370400440532013000", bic: "COBADEFFXXX" });
    expect(parseConfig({}).sepaDebtor).toEqual({ name: null, iban: null, bic: null });
  });

  it("rejects a variable that is not a string", () => {
    expect(() => parseConfig({ COOKIE_MAX_AGE: 42 })).toThrow(/COOKIE_MAX_AGE must be a string/);
  });
});

describe("an unexpected exception", () => {
  it("costs the request a logged 500, never an unhandled exception", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    // A binding that throws when read: nothing in the worker expects it.
    const bindings = new Proxy(
      { ...env },
      {
        get(target, property, receiver) {
          if (property === "SIGNING_SECRET") throw new TypeError("binding exploded");
          return Reflect.get(target, property, receiver);
        },
      },
    );
    const response = await worker.fetch(
      new Request("https://shop.example/pricing"),
      bindings,
      createExecutionContext(),
    );
    expect(response.status).toBe(500);
    const body = await response.json<{ error: { request_id: string } }>();
    expect(body).toEqual({
      error: {
        code: "internal_error",
        message: "reflinks could not handle this request.",
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    // The id in the answer finds the line in the log.
    const logged = error.mock.calls.flat().join("\n");
    expect(logged).toMatch(/"event":"request_failed".*binding exploded/);
    expect(logged).toContain(`"request_id":"${body.error.request_id}"`);
    error.mockRestore();
  });
});
