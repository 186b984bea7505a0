/**
 * The lazily loaded modules (scripts/build-lazy.mjs), imported from here only: wrangler leaves an
 * `import()` of one as it is written, and the runtime resolves it against the main module, which
 * is src/index.ts's bundle, so every specifier must be relative to src/.
 */
export const loadApi = () => import("./lazy/api.js");
export const loadArchiveParquet = () => import("./lazy/archive-parquet.js");
