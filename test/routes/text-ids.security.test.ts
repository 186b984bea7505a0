/**
 * Text ids the origin sends (SPEC "The operator's door", Money and ids): well-formed Unicode
 * without control characters or bidirectional controls, in a body or in a URL path, else 422
 * naming the field. A lone surrogate used to be stored as invalid UTF-8 and read back as U+FFFD,
 * so that an identical retry answered 409; NUL and U+202E were accepted in user ids.
 */
import { describe, expect, it } from "vitest";
import { type ApiOptions, apiError, apiJson, uniqueUser } from "../support/api";
import { converted, countRows, DUE_AT_ONCE, externalId, referredUser } from "../support/money";

/** Each a way an id can be "the same" text and still not be one: each must be refused. */
const BAD = [
  ["a lone high surrogate", "inv-\uD800"],
  ["a lone low surrogate", "\uDC00-inv"],
  ["NUL", "bob\u0000"],
  ["DEL", "bob\u007F"],
  ["U+202E (right-to-left override)", "\u202Eevil"],
  ["U+202A (left-to-right embedding)", "a\u202Ab"],
  ["U+2066 (left-to-right isolate)", "a\u2066b"],
  ["U+2069 (pop directional isolate)", "a\u2069b"],
] as const;

const RULE = /^(\S+) must be well-formed Unicode without control or bidirectional control characters$/;

describe("a text id in a body: 422 naming the field", () => {
  const bodies: [string, string, (bad: string) => Promise<[string, ApiOptions]>][] = [
    [
      "user_id",
      "POST /conversions",
      async (bad) => [
        "/conversions",
        { method: "POST", json: { user_id: bad, external_id: externalId(), amount: 100, currency: "EUR" } },
      ],
    ],
    [
      "external_id",
      "POST /conversions",
      async (bad) => {
        const { user } = await referredUser();
        return [
          "/conversions",
          { method: "POST", json: { user_id: user, external_id: bad, amount: 100, currency: "EUR" } },
        ];
      },
    ],
    [
      "event",
      "POST /conversions",
      async (bad) => {
        const { user } = await referredUser();
        return [
          "/conversions",
          {
            method: "POST",
            json: { user_id: user, external_id: externalId(), amount: 100, currency: "EUR", event: bad },
          },
        ];
      },
    ],
    [
      "reversal_id",
      "POST /conversions/:external_id/reverse",
      async (bad) => {
        const { user } = await referredUser();
        const conversion = await converted(user, 1000);
        return [
          `/conversions/${encodeURIComponent(conversion.external_id)}/reverse`,
          { method: "POST", json: { reversal_id: bad } },
        ];
      },
    ],
    ["user_id", "POST /confirm", async (bad) => ["/confirm", { method: "POST", json: { user_id: bad } }]],
    [
      "event",
      "POST /confirm",
      async (bad) => ["/confirm", { method: "POST", json: { user_id: uniqueUser(), event: bad } }],
    ],
    [
      "user_id",
      "POST /reconcile",
      async (bad) => ["/reconcile", { method: "POST", json: { user_id: bad, anonymous_id: null } }],
    ],
    ["user_id", "POST /links", async (bad) => ["/links", { method: "POST", json: { user_id: bad } }]],
    [
      "referrer_user_id",
      "POST /payouts",
      async (bad) => [
        "/payouts",
        {
          method: "POST",
          json: { referrer_user_id: bad, currency: "EUR" },
          headers: { "Idempotency-Key": crypto.randomUUID() },
        },
      ],
    ],
  ];

  for (const [field, route, request] of bodies) {
    it.each(BAD)(`${route} ${field} with %s`, async (_name, bad) => {
      const [path, options] = await request(bad);
      const answer = await apiJson(path, { ...options, bindings: DUE_AT_ONCE });
      expect(answer.status, JSON.stringify(answer.body)).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", RULE));
      expect(answer.body.error.message.split(" ")[0]).toBe(field);
    });
  }

  it("a retry of a conversion is the same call: a lone surrogate is refused both times, nothing stored", async () => {
    const { user } = await referredUser();
    const json = {
      user_id: user,
      external_id: `inv-\uD800-${crypto.randomUUID()}`,
      amount: 100,
      currency: "EUR",
    };
    for (let i = 0; i < 2; i++) {
      const answer = await apiJson("/conversions", { method: "POST", json, bindings: DUE_AT_ONCE });
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual(apiError("validation_failed", /^external_id /));
    }
    expect(await countRows("conversions", "user_id = ?", user)).toBe(0);
  });

  it("still taken: a JSON integer as user id (its decimal text), and text in any script with a surrogate pair", async () => {
    for (const user_id of [Math.floor(Math.random() * 1e12), `用户-😀-${crypto.randomUUID()}`]) {
      const answer = await apiJson("/links", { method: "POST", json: { user_id } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.user_id).toBe(String(user_id));
    }
  });
});

describe("an id in a URL path: 422 naming it", () => {
  const PATHS: [string, string, ApiOptions][] = [
    ["user_id", "/users/%s", {}],
    ["user_id", "/users/%s/export", {}],
    ["user_id", "/users/%s", { method: "DELETE" }],
    ["external_id", "/conversions/%s", {}],
    ["external_id", "/conversions/%s/reverse", { method: "POST", json: { reversal_id: "re-1" } }],
    ["id", "/webhooks/%s", { method: "DELETE" }],
    ["id", "/webhooks/%s/deliveries", {}],
    ["id", "/webhooks/%s/deliveries/1/retry", { method: "POST" }],
  ];
  // A lone surrogate cannot be written in a URL (its percent-encoding is no UTF-8): the rest can.
  const ENCODED = [
    ["NUL", "bob%00"],
    ["U+202E", "%E2%80%AEevil"],
    ["U+2066", "a%E2%81%A6b"],
    ["a tab", "a%09b"],
  ] as const;

  for (const [field, template, options] of PATHS) {
    it.each(ENCODED)(
      `${options.method ?? "GET"} ${template.replace("%s", `:${field}`)} with %s`,
      async (_name, encoded) => {
        const answer = await apiJson(template.replace("%s", encoded), options);
        expect(answer.status, JSON.stringify(answer.body)).toBe(422);
        expect(answer.body).toEqual(apiError("validation_failed", RULE));
        expect(answer.body.error.message.split(" ")[0]).toBe(field);
      },
    );
  }

  it("a well-formed id outside ASCII is still looked up: a user never seen, a conversion not found", async () => {
    const user = await apiJson(`/users/${encodeURIComponent("böb-😀")}`);
    expect(user.status).toBe(200);
    expect(user.body.user_id).toBe("böb-😀");
    const conversion = await apiJson(`/conversions/${encodeURIComponent("inv-ü")}`);
    expect(conversion.status).toBe(404);
  });
});
