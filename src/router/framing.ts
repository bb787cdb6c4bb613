// Newline-delimited framing for a child's stdout and stderr. Pure: bytes in, whole lines out.
// Chunks may split a line anywhere (even inside a UTF-8 sequence): partial chunks are kept as Buffers and
// joined once, when the newline arrives. A line may be long, but not without bound: past `maxLine` bytes
// the rest of it is dropped as it arrives (memory stays flat) and `onOversize` gets its head instead.
// Whoever must know more of a dropped line than its head (the router: its top-level id) is shown every
// byte of it as it passes (`onSkipped`), and keeps what it needs.

/** The start of a line that was too long, and how long it was. */
export interface Oversize {
  readonly head: Buffer;
  readonly bytes: number;
}

const HEAD_BYTES = 4096;

export class LineSplitter {
  readonly #maxLine: number;
  readonly #onSkipped: ((bytes: Buffer) => void) | undefined;
  #parts: Buffer[] = [];
  #size = 0;
  #skipping: { head: Buffer; bytes: number } | undefined;

  /**
   * `onSkipped` sees every byte of a line over `maxLine`, in order and once, before `onOversize` is
   * told of that line; the bytes held before the line turned out too long come first.
   */
  constructor(maxLine = Infinity, onSkipped?: (bytes: Buffer) => void) {
    this.#maxLine = maxLine;
    this.#onSkipped = onSkipped;
  }

  /** Feeds one chunk; calls `onLine` for every complete line (without the newline, CR trimmed). */
  push(chunk: Buffer, onLine: (line: string) => void, onOversize?: (o: Oversize) => void): void {
    let start = 0;
    let nl = chunk.indexOf(10, start);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      if (this.#skipping !== undefined || this.#size + piece.length > this.#maxLine) {
        this.#skip(piece);
        const s = this.#skipping!;
        this.#skipping = undefined;
        onOversize?.({ head: s.head, bytes: s.bytes });
      } else {
        this.#emit(piece, onLine);
      }
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.#skipping !== undefined || this.#size + rest.length > this.#maxLine) this.#skip(rest);
      else {
        this.#parts.push(rest);
        this.#size += rest.length;
      }
    }
  }

  /** Emits an unfinished last line (a child that exited without a final newline). */
  flush(onLine: (line: string) => void, onOversize?: (o: Oversize) => void): void {
    const s = this.#skipping;
    this.#skipping = undefined;
    if (s !== undefined) onOversize?.({ head: s.head, bytes: s.bytes });
    else if (this.#size > 0) this.#emit(Buffer.alloc(0), onLine);
  }

  /** Bytes of an unfinished line held so far. */
  get buffered(): number {
    return this.#size;
  }

  #emit(piece: Buffer, onLine: (line: string) => void): void {
    let line = piece;
    if (this.#parts.length > 0) {
      this.#parts.push(piece);
      line = Buffer.concat(this.#parts);
      this.#parts = [];
      this.#size = 0;
    }
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    if (end > 0) onLine(line.toString('utf8', 0, end));
  }

  /** Drops `piece`, keeping only the head of the line it belongs to. */
  #skip(piece: Buffer): void {
    if (this.#skipping === undefined) {
      // The head only: joining all that was held (up to maxLine) would cost what dropping it saves.
      const first: Buffer[] = [];
      let headSize = 0;
      for (const b of [...this.#parts, piece]) {
        if (headSize >= HEAD_BYTES) break;
        first.push(b);
        headSize += b.length;
      }
      this.#skipping = { head: Buffer.concat(first).subarray(0, HEAD_BYTES), bytes: this.#size };
      if (this.#onSkipped !== undefined) for (const part of this.#parts) this.#onSkipped(part);
      this.#parts = [];
      this.#size = 0;
    }
    this.#skipping.bytes += piece.length;
    this.#onSkipped?.(piece);
  }
}
