// Stream tickets: how a browser opens an event stream once keys or tokens are required. EventSource cannot
// send an Authorization header, and a key or token in a URL ends up in logs and histories; so a page asks
// for a ticket with its credential (fetch, POST /auth/ticket) and opens the stream with `?ticket=…`. A ticket
// is random, lives 30 s, is good for one GET of one path, once, and stands for the principal that asked.
import { randomBytes } from 'node:crypto';
import type { KeySpec } from '../config/types.ts';

export const TICKET_TTL_MS = 30_000;
/** Outstanding tickets at most: past it the oldest goes (a ticket is cheap to ask for again). */
const MAX_TICKETS = 10_000;

interface Ticket {
  readonly principal: KeySpec;
  readonly path: string;
  readonly expiresAt: number;
}

export class StreamTickets {
  /** By ticket text, oldest first (Map order): expiry sweeps stop at the first one still valid. */
  readonly #tickets = new Map<string, Ticket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new ticket for `principal` to GET `path` once within TICKET_TTL_MS. */
  issue(principal: KeySpec, path: string): { ticket: string; expiresInSeconds: number } {
    this.#sweep();
    if (this.#tickets.size >= MAX_TICKETS) this.#tickets.delete(this.#tickets.keys().next().value!);
    const ticket = randomBytes(32).toString('base64url');
    this.#tickets.set(ticket, { principal, path, expiresAt: this.now() + TICKET_TTL_MS });
    return { ticket, expiresInSeconds: TICKET_TTL_MS / 1000 };
  }

  /** The principal of a valid ticket for `path`, spending it; undefined for anything else (spent, expired, other path). */
  take(ticket: string, path: string): KeySpec | undefined {
    const t = this.#tickets.get(ticket);
    if (t === undefined) return undefined;
    this.#tickets.delete(ticket); // spent even when misused: a ticket tried on the wrong path is gone
    return t.expiresAt > this.now() && t.path === path ? t.principal : undefined;
  }

  get size(): number {
    return this.#tickets.size;
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, t] of this.#tickets) {
      if (t.expiresAt > now) break;
      this.#tickets.delete(k);
    }
  }
}
