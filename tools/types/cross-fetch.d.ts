// Types-only stand-in for `cross-fetch` (mapped in tsconfig.base.json `paths`; runtime code is
// untouched). weaviate-client → graphql-request imports cross-fetch's types, whose index.d.ts
// carries `/// <reference lib="dom" />`: that would switch the whole program to the DOM's fetch
// types and break Node's (ReadableStream iteration, Uint8Array bodies). Node 20 has fetch built in.
export declare const fetch: typeof globalThis.fetch;
export declare const Request: typeof globalThis.Request;
export declare const Response: typeof globalThis.Response;
export declare const Headers: typeof globalThis.Headers;
export default fetch;
