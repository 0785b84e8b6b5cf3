/**
 * Typed client of the Channel Suite API, through the gateway.
 *
 * `paths`, `components` and `operations` are generated from the gateway's merged OpenAPI
 * document (`make clients`); openapi-fetch turns them into a `fetch` wrapper whose paths,
 * parameters, bodies and answers are all checked by the TypeScript compiler.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, operations, paths } from "./schema";

export type { components, operations, paths };

/** Every named schema of the API: `Schemas["PartnerRead"]`, `Schemas["Problem"]`, … */
export type Schemas = components["schemas"];

/** An RFC 9457 problem, the body of every 4xx/5xx answer. */
export type Problem = Schemas["Problem"];

/** A Channel Suite client: `client.GET("/api/v1/partners", { params: { query } })`. */
export type ChannelClient = Client<paths>;

export interface ChannelClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The gateway's URL, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** An API key (`csk_…`) or a JWT; sent as `Authorization: Bearer …`. */
  token: string;
}

/** A client of the gateway that authenticates every request with `token`. */
export function createChannelClient(options: ChannelClientOptions): ChannelClient {
  const { token, headers, ...rest } = options;
  return createClient<paths>({
    ...rest,
    headers: { ...headers, Authorization: `Bearer ${token}` },
  });
}
