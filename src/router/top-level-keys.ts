// The values of a few top-level keys of one JSON object that streams past in pieces, without holding it.
// Pure and byte-driven: it knows strings (with escapes) and nesting, so an "id" inside `result` or inside
// a string is never taken for the message's own, and a top-level "id" written after a huge `result` is
// still found. The router feeds it the bytes of a child message too large to keep (see framing.ts).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Longest key compared, in bytes (longer keys are none of the wanted ones). */
const MAX_KEY_BYTES = 64;

export class TopLevelKeys {
  readonly #wanted: ReadonlySet<string>;
  readonly #maxValueBytes: number;
  readonly #found = new Map<string, unknown>();

  /** Nesting depth: 1 inside the top-level object. */
  #depth = 0;
  /** The top-level value is over (or was not an object): nothing more to read. */
  #done = false;
  #inString = false;
  #escaped = false;
  /** At depth 1, the next string is a key (after `{` or `,`). */
  #keyNext = false;
  #readingKey = false;
  /** The wanted key whose value comes after the next `:` at depth 1. */
  #key: string | undefined = undefined;
  #readingValue = false;
  /** Bytes of the key or value being read (bounded). */
  readonly #bytes: Buffer;
  #length = 0;
  #overflow = false;

  constructor(wanted: readonly string[], maxValueBytes = 256) {
    this.#wanted = new Set(wanted);
    this.#maxValueBytes = maxValueBytes;
    this.#bytes = Buffer.alloc(Math.max(maxValueBytes, MAX_KEY_BYTES));
  }

  /** The parsed value of top-level key `key` seen so far (the last one, as JSON.parse keeps), or undefined. */
  get(key: string): unknown {
    return this.#found.get(key);
  }

  /** Ready for the next object. */
  reset(): void {
    this.#found.clear();
    this.#depth = 0;
    this.#done = false;
    this.#inString = false;
    this.#escaped = false;
    this.#keyNext = false;
    this.#readingKey = false;
    this.#key = undefined;
    this.#readingValue = false;
    this.#length = 0;
    this.#overflow = false;
  }

  /** Reads the next bytes of the object. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n && !this.#done) {
      if (this.#inString) {
        if (!this.#readingKey && !this.#readingValue) {
          // Most bytes of a big message are inside strings nobody reads: step over them in a tight loop
          // (escapes skipped whole), stopping only at the closing quote.
          i = this.#skipString(chunk, i);
          continue;
        }
        const b = chunk[i]!;
        i++;
        if (this.#escaped) {
          this.#escaped = false;
          this.#keep(b);
        } else if (b === BACKSLASH) {
          this.#escaped = true;
          this.#keep(b);
        } else if (b === QUOTE) {
          this.#inString = false;
          if (this.#readingKey) this.#endKey();
          else this.#keep(b);
        } else {
          this.#keep(b);
        }
        continue;
      }
      const b = chunk[i]!;
      i++;
      if (this.#depth === 1) {
        // Where keys, values and their ends are: only the top-level object's own punctuation counts.
        if (b === COMMA || b === RBRACE) {
          this.#endValue();
          this.#keyNext = b === COMMA;
          if (b === RBRACE) {
            this.#depth = 0;
            this.#done = true;
          }
          continue;
        }
        if (b === COLON && !this.#readingValue) {
          if (this.#key !== undefined) this.#startValue();
          continue;
        }
        if (b === QUOTE && this.#keyNext) {
          this.#keyNext = false;
          this.#readingKey = true;
          this.#inString = true;
          this.#length = 0;
          this.#overflow = false;
          continue;
        }
      }
      this.#keep(b);
      if (b === QUOTE) this.#inString = true;
      else if (b === LBRACE || b === LBRACKET) {
        if (this.#depth === 0) {
          // The top-level value: an object has keys; anything else has none.
          if (b === LBRACKET) this.#done = true;
          this.#keyNext = true;
        }
        this.#depth++;
      } else if (b === RBRACE || b === RBRACKET) {
        this.#depth--;
      }
    }
  }

  /** Steps through an unread string from `i`; returns the index after its closing quote, or `n`. */
  #skipString(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.#escaped) {
      this.#escaped = false;
      i++;
    }
    while (i < n) {
      const b = chunk[i]!;
      if (b === BACKSLASH) {
        if (i + 1 === n) {
          this.#escaped = true; // the escaped byte comes in the next chunk
          return n;
        }
        i += 2;
      } else if (b === QUOTE) {
        this.#inString = false;
        return i + 1;
      } else {
        i++;
      }
    }
    return n;
  }

  /** Keeps a byte of the key or value being read, up to the bound. */
  #keep(b: number): void {
    if (!this.#readingKey && !this.#readingValue) return;
    const max = this.#readingKey ? MAX_KEY_BYTES : this.#maxValueBytes;
    if (this.#length < max) this.#bytes[this.#length++] = b;
    else this.#overflow = true;
  }

  #endKey(): void {
    this.#readingKey = false;
    this.#key = undefined;
    if (this.#overflow) return;
    const raw = this.#bytes.toString('utf8', 0, this.#length);
    let key = raw;
    if (raw.includes('\\')) {
      try {
        key = JSON.parse(`"${raw}"`) as string;
      } catch {
        return;
      }
    }
    if (this.#wanted.has(key)) this.#key = key;
  }

  #startValue(): void {
    this.#readingValue = true;
    this.#length = 0;
    this.#overflow = false;
  }

  #endValue(): void {
    const key = this.#key;
    this.#key = undefined;
    if (!this.#readingValue || key === undefined) return;
    this.#readingValue = false;
    if (this.#overflow) {
      this.#found.delete(key); // a later duplicate replaces an earlier value, even one too long to keep
      return;
    }
    try {
      this.#found.set(key, JSON.parse(this.#bytes.toString('utf8', 0, this.#length)));
    } catch {
      this.#found.delete(key);
    }
  }
}
