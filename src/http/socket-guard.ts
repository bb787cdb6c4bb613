// Answers a client does not read stay in the gateway: Node keeps what a socket could not send yet (the
// strings and buffers of whole answers, up to 64 MiB each) for as long as the socket lives, and a client
// that stops reading can hold many. Two bounds, over every socket of the listener:
// - a socket with unsent bytes whose writes make no progress for `stallMs` is closed;
// - the unsent bytes of all sockets together stay under `budgetBytes`: past it, the sockets holding the
//   most are closed first, until the rest fits (the client that makes the pressure pays for it).
// An idle socket (nothing unsent) is never closed here: a long tool call may keep a request quiet.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SocketGuardOptions {
  readonly stallMs: number;
  readonly budgetBytes: number;
  /** How often the budget is checked. */
  readonly checkEveryMs: number;
}

export const DEFAULT_SOCKET_GUARD: SocketGuardOptions = { stallMs: 30_000, budgetBytes: 64 * 1024 * 1024, checkEveryMs: 250 };

export type DropReason = 'stalled' | 'over-budget';

/** Bytes a socket holds that the peer has not taken: in the stream's buffer and in libuv's write queue. */
export function unsentBytes(socket: Socket): number {
  const queued = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0;
  return socket.writableLength + queued;
}

/** The sockets to close so that the rest of `held` (unsent bytes per socket) fits in `budget`. Pure. */
export function overBudget<T>(held: ReadonlyMap<T, number>, budget: number): T[] {
  let total = 0;
  for (const n of held.values()) total += n;
  if (total <= budget) return [];
  const heaviest = [...held].sort((a, b) => b[1] - a[1]);
  const out: T[] = [];
  for (const [s, n] of heaviest) {
    if (total <= budget) break;
    out.push(s);
    total -= n;
  }
  return out;
}

/** Watches `server`'s sockets until close(); `dropped` is told of each socket it closes, and why. */
export function guardSockets(server: Server, options: SocketGuardOptions, dropped: (reason: DropReason) => void): { close(): void } {
  const sockets = new Set<Socket>();
  const drop = (socket: Socket, reason: DropReason): void => {
    if (socket.destroyed) return;
    dropped(reason);
    socket.destroy();
  };
  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Node calls this only after stallMs without any progress on the socket, reads or writes.
    socket.setTimeout(options.stallMs);
  };
  // A listener here keeps Node from closing every socket that times out: only stalled writers are closed.
  const onTimeout = (socket: Socket): void => {
    if (unsentBytes(socket) > 0) drop(socket, 'stalled');
  };
  server.on('connection', onConnection);
  server.on('timeout', onTimeout);
  const timer = setInterval(() => {
    const held = new Map<Socket, number>();
    for (const s of sockets) {
      const n = unsentBytes(s);
      if (n > 0) held.set(s, n);
    }
    for (const s of overBudget(held, options.budgetBytes)) drop(s, 'over-budget');
  }, options.checkEveryMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      server.off('connection', onConnection);
      server.off('timeout', onTimeout);
    },
  };
}
