// Baseline (c): baseline (b) plus one awaited D1 insert of a hit-sized row into `referral_hits`
// (the project's own migrations; link 1 is seeded by the benchmark).
const INSERT =
  "INSERT INTO referral_hits (id, link_id, anonymous_id, authenticated, hit_user_id, ip, user_agent, " +
  "http_referer, next, country, confirmed_at, created_at, updated_at) " +
  "VALUES (?, 1, ?, 0, NULL, ?, ?, ?, ?, ?, NULL, ?, ?)";

export default {
  async fetch(request, env) {
    const next = new URL(request.url).searchParams.get("next");
    const location = next?.startsWith("/") ? next : "/";
    const visitor = crypto.randomUUID();
    const now = new Date().toISOString();
    await env.DB.prepare(INSERT)
      .bind(
        crypto.randomUUID(),
        visitor,
        request.headers.get("CF-Connecting-IP"),
        request.headers.get("User-Agent") ?? "",
        request.headers.get("Referer") ?? "",
        next ?? "",
        request.cf?.country ?? null,
        now,
        now,
      )
      .run();
    return new Response(null, {
      status: 302,
      headers: {
        Location: location,
        "Cache-Control": "no-store",
        "Set-Cookie": `reflinks_rk=${visitor}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax`,
      },
    });
  },
};
