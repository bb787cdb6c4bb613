// DNS-rebinding protection for the MCP endpoints: a browser page on evil.example whose name resolves to
// 127.0.0.1 sends Host: evil.example and Origin: http://evil.example. While the gateway listens on
// loopback, only loopback Host names (and listen.allowedHosts) are served; an Origin header, when sent,
// must be a loopback origin or one in listen.allowedOrigins.
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../config/loopback.ts';
import type { ListenSpec } from '../config/types.ts';


export class OriginPolicy {
  readonly #checkHost: boolean;
  readonly #hosts: ReadonlySet<string>;
  readonly #origins: ReadonlySet<string>;
  /** Verdicts per header value: browsers and SDK clients send the same few values again and again. */
  readonly #seen = new Map<string, string | undefined>();

  constructor(listen: ListenSpec) {
    this.#checkHost = isLoopbackHost(listen.host);
    this.#hosts = new Set(listen.allowedHosts.map((h) => h.toLowerCase()));
    this.#origins = new Set(listen.corsOrigins.map((o) => o.toLowerCase()));
  }

  /** Whether a browser page from `origin` may read answers (CORS): loopback pages and listed origins. */
  allowsCors(origin: string): boolean {
    const o = origin.toLowerCase();
    if (this.#origins.has(o)) return true;
    const name = hostname(o.replace(/^[a-z]+:\/\//, ''));
    return name !== undefined && isLoopbackHost(name);
  }

  /** Why the request must be refused (403), or undefined when it may pass. */
  check(headers: IncomingHttpHeaders): string | undefined {
    const host = headers.host ?? '';
    const origin = headers.origin;
    const key = origin === undefined ? host : `${host}\n${origin}`;
    if (this.#seen.has(key)) return this.#seen.get(key);
    const verdict = this.#judge(host, origin);
    if (this.#seen.size > 256) this.#seen.clear();
    this.#seen.set(key, verdict);
    return verdict;
  }

  #judge(host: string, origin: string | undefined): string | undefined {
    if (this.#checkHost) {
      const name = hostname(host);
      if (name === undefined || !(isLoopbackHost(name) || this.#hosts.has(name))) {
        return 'Host header not allowed: the gateway listens on loopback; add the name to listen.allowedHosts to serve it';
      }
    }
    if (origin !== undefined) {
      const o = origin.toLowerCase();
      const originHost = o.replace(/^[a-z]+:\/\//, '');
      const name = hostname(originHost);
      // Same origin as the Host asked for (the status page calling its own API) is no cross-site call;
      // on loopback the Host was checked above, so a rebound name never gets this far.
      const sameOrigin = originHost === host.toLowerCase();
      if (!this.#origins.has(o) && !sameOrigin && !(name !== undefined && isLoopbackHost(name))) {
        return 'Origin not allowed: add it to listen.cors.origins to let that web page call this gateway';
      }
    }
    return undefined;
  }
}

function hostname(hostAndPort: string): string | undefined {
  try {
    return new URL(`http://${hostAndPort}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
