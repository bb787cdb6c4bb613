// Newline-delimited JSON framing for a child's stdout. Pure: bytes in, whole lines out.
// Chunks may split a line anywhere (even inside a UTF-8 sequence), and a line may be any length:
// partial chunks are kept as Buffers and joined once, when the newline arrives.

export class LineSplitter {
  #parts: Buffer[] = [];

  /** Feeds one chunk; calls `onLine` for every complete line (without the newline, CR trimmed). */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    let nl = chunk.indexOf(10, start);
    while (nl !== -1) {
      let piece = chunk.subarray(start, nl);
      if (this.#parts.length > 0) {
        this.#parts.push(piece);
        piece = Buffer.concat(this.#parts);
        this.#parts = [];
      }
      const end = piece.length > 0 && piece[piece.length - 1] === 13 ? piece.length - 1 : piece.length;
      if (end > 0) onLine(piece.toString('utf8', 0, end));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.#parts.push(chunk.subarray(start));
  }

  /** Bytes of an unfinished line held so far. */
  get buffered(): number {
    let n = 0;
    for (const p of this.#parts) n += p.length;
    return n;
  }
}
