import { isbot } from "isbot";
import { describe, expect, it } from "vitest";
import {
  BOT_VERDICTS_MAX,
  isBotAgent,
  isTrackableVisit,
  rememberedBotVerdicts,
} from "../../src/lib/trackable";

const CHROME =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

describe("the remembered bot verdicts", () => {
  it("answer as isbot does, the first time and from memory", () => {
    for (const agent of [CHROME, SLACK, "", "curl/8.5.0", CHROME, SLACK, "curl/8.5.0"]) {
      expect(isBotAgent(agent)).toBe(isbot(agent));
    }
  });

  it("decide whether a click counts", () => {
    const visit = (agent: string) =>
      new Request("https://shop.example/ref/x", { headers: { "User-Agent": agent } });
    expect(isTrackableVisit(visit(CHROME))).toBe(true);
    expect(isTrackableVisit(visit(CHROME))).toBe(true);
    expect(isTrackableVisit(visit(SLACK))).toBe(false);
    expect(isTrackableVisit(visit(SLACK))).toBe(false);
  });

  it("stay bounded: many made-up agents, and very long ones, are judged but not all kept", () => {
    for (let i = 0; i < BOT_VERDICTS_MAX * 3; i++) {
      const agent = `${CHROME} x/${i}`;
      expect(isBotAgent(agent)).toBe(isbot(agent));
    }
    expect(rememberedBotVerdicts()).toBeLessThanOrEqual(BOT_VERDICTS_MAX);
    const long = `${CHROME} ${"a".repeat(5000)}`;
    expect(isBotAgent(long)).toBe(isbot(long));
    expect(rememberedBotVerdicts()).toBeLessThanOrEqual(BOT_VERDICTS_MAX);
  });
});
