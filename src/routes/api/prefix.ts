/**
 * Where the API and the dashboard live. Their own module so that the front can tell an API or
 * dashboard request from a page view without importing the API itself, which it loads on the
 * first API request only.
 */
export const API_PREFIX = "/_reflinks";

/** The dashboard, under the API's prefix: it answers only on its own host (src/operator-door.ts). */
export const DASHBOARD_PATH = `${API_PREFIX}/dashboard`;
