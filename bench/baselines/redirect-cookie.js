// Baseline (b): a bare 302 that sets a visitor cookie, and nothing else.
export default {
  fetch(request) {
    const next = new URL(request.url).searchParams.get("next");
    return new Response(null, {
      status: 302,
      headers: {
        Location: next?.startsWith("/") ? next : "/",
        "Cache-Control": "no-store",
        "Set-Cookie": `reflinks_rk=${crypto.randomUUID()}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax`,
      },
    });
  },
};
