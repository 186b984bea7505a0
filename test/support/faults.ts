/**
 * Fault injection for D1: a binding that fails some calls the way an outage would, then recovers.
 */
export interface FlakyDatabase {
  db: D1Database;
  /** How many calls were refused so far. */
  readonly refused: number;
}

/**
 * Wraps `db` so that its first `failures` queries (prepared-statement runs and batches) reject
 * with a D1-like error; every later one goes through. With `only`, just the statements whose SQL
 * matches count (and fail), and a batch holding one of them fails as a whole, as D1 runs a batch
 * as one transaction.
 */
export function flakyDatabase(
  db: D1Database,
  failures: number,
  options: { only?: RegExp } = {},
): FlakyDatabase {
  let refused = 0;
  const fail = () => {
    if (refused >= failures) return false;
    refused += 1;
    return true;
  };
  const outage = () => new Error("D1_ERROR: Network connection lost (injected fault)");
  const queries = new WeakMap<object, string>();
  const wrapStatement = (statement: D1PreparedStatement, query: string): D1PreparedStatement => {
    const wrapped: D1PreparedStatement = new Proxy(statement, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === "bind") {
          return (...values: unknown[]) => wrapStatement(target.bind(...values), query);
        }
        if (typeof value !== "function") return value;
        const targeted = !options.only || options.only.test(query);
        if (targeted && ["first", "all", "raw", "run"].includes(String(property))) {
          return (...args: unknown[]) => (fail() ? Promise.reject(outage()) : value.apply(target, args));
        }
        return value.bind(target);
      },
    });
    queries.set(wrapped, query);
    return wrapped;
  };
  const wrapped = new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "prepare") return (query: string) => wrapStatement(target.prepare(query), query);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const only = options.only;
          const targeted = !only || statements.some((statement) => only.test(queries.get(statement) ?? ""));
          return targeted && fail() ? Promise.reject(outage()) : target.batch(statements);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: wrapped,
    get refused() {
      return refused;
    },
  };
}

/**
 * Wraps `db` so that `action` runs once, just before the first batch goes to D1: a way to land
 * another request's write between a handler's reads and its atomic write.
 */
export function beforeFirstBatch(db: D1Database, action: () => Promise<unknown>): D1Database {
  let done = false;
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (!done) {
            done = true;
            await action();
          }
          return target.batch(statements);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * A D1 binding whose `batch` first waits for `before()`: what another call does between a call's
 * reads and its batch, replayed in the order that would break a read-then-write.
 */
export function delayedBatch(db: D1Database, before: () => Promise<unknown>): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await before();
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
