/**
 * reflinks: referral links at the edge. The Worker entry; see README.md and SPEC.md.
 */
import type { AppBindings } from "./bindings";
import { handleRequest } from "./worker";

export default {
  fetch(request, env, ctx) {
    return handleRequest(request, env, ctx);
  },
} satisfies ExportedHandler<AppBindings>;
