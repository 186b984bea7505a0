/**
 * Where the API lives. Its own module so that the dispatcher can tell an API request from a page
 * view without importing the API itself, which it loads on the first API request only.
 */
export const API_PREFIX = "/_reflinks";
