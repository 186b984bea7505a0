// Baseline (a): the least a worker in front of an origin can do, a bare `fetch` passthrough.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(`${env.ORIGIN_URL}${url.pathname}${url.search}`, request);
  },
};
