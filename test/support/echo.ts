/** What the stub origin (test/node/stub-origin.ts) answers: the request it received. */
export interface EchoedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  body: string;
}
