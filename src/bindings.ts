import type { ConfigVariable } from "./config";
import type { QueuedHit } from "./hits/save-hit";

/**
 * The worker's bindings: what `wrangler types` generates from wrangler.toml (committed as
 * worker-configuration.d.ts), plus what wrangler.toml cannot declare because it is optional.
 */
export interface AppBindings extends Env, SettingsNotInWranglerToml {
  /** Optional Cloudflare Queue: hits are sent there and batch-inserted by this worker's consumer. */
  HITS_QUEUE?: Queue<QueuedHit>;
  /** Optional R2 bucket the scheduled job archives old hits to (`ARCHIVE_AFTER_DAYS`). */
  ARCHIVE?: R2Bucket;
}

/**
 * The settings (src/config.ts, docs/configuration.md) that the committed wrangler.toml leaves
 * unset, and so `Env` does not declare: each an optional string, as wrangler passes vars and
 * secrets.
 */
type SettingsNotInWranglerToml = Partial<Record<Exclude<ConfigVariable, keyof Env>, string>>;
