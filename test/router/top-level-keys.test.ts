import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopLevelKeys } from '../../src/router/top-level-keys.ts';

/** Feeds `text` in the given pieces (cut at byte offsets) and returns the scanner. */
function scan(text: string, cuts: number[] = [], keys = ['id', 'method']): TopLevelKeys {
  const bytes = Buffer.from(text);
  const s = new TopLevelKeys(keys);
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= from || cut >= bytes.length) continue;
    s.push(bytes.subarray(from, cut));
    from = cut;
  }
  s.push(bytes.subarray(from));
  return s;
}

/** The same text cut in two at every byte: the answer must not depend on where chunks end. */
function everyCut(text: string, key = 'id'): unknown[] {
  const n = Buffer.byteLength(text);
  return Array.from({ length: n + 1 }, (_, i) => scan(text, [i]).get(key));
}

describe('TopLevelKeys.push', () => {
  it('takes the top-level id, not one nested in result before it', () => {
    const text = '{"jsonrpc":"2.0","result":{"id":2,"items":[{"id":3}]},"id":1}';
    expect(new Set(everyCut(text))).toEqual(new Set([1]));
  });

  it('finds an id that comes after a huge result', () => {
    const text = `{"jsonrpc":"2.0","result":{"content":[{"type":"text","text":"${'x'.repeat(200_000)}"}]},"id":42}`;
    expect(scan(text, [1, 65536, 131072, 196608]).get('id')).toBe(42);
  });

  it('is not fooled by quotes, braces, commas and "id" inside strings', () => {
    const text = String.raw`{"result":{"t":"\"},\"id\":99,{[","u":"\\"},"note":"\\\"id\":7","id":5}`;
    expect(JSON.parse(text).id).toBe(5);
    expect(new Set(everyCut(text))).toEqual(new Set([5]));
  });

  it('reads string ids, escapes included', () => {
    expect(scan('{"id":"abc","result":{}}').get('id')).toBe('abc');
    const text = String.raw`{"result":{},"id":"a\"b\\c\u00e9}"}`;
    expect(new Set(everyCut(text))).toEqual(new Set(['a"b\\cé}']));
  });

  it('reads a key written with escapes, whitespace anywhere, and keeps the last of duplicate keys', () => {
    expect(scan(String.raw`{"\u0069d":3}`).get('id')).toBe(3);
    expect(scan('{\n  "id" :\t 7 ,\r\n "x": [1, {"id": 8}]\n}').get('id')).toBe(7);
    expect(scan('{"id":1,"id":2}').get('id')).toBe(2);
  });

  it('says whether the message has a top-level method (a request), and which', () => {
    const request = scan('{"jsonrpc":"2.0","id":"ask-1","method":"sampling/createMessage","params":{"method":"x"}}');
    expect(request.get('method')).toBe('sampling/createMessage');
    expect(request.get('id')).toBe('ask-1');
    expect(scan('{"jsonrpc":"2.0","result":{"method":"x"},"id":1}').get('method')).toBeUndefined();
  });

  it('finds nothing in what is not an object, an object without id, or an id too long to keep', () => {
    expect(scan('[{"id":1}]').get('id')).toBeUndefined();
    expect(scan('"{\\"id\\":1}"').get('id')).toBeUndefined();
    expect(scan('{"result":{"id":1}}').get('id')).toBeUndefined();
    expect(scan(`{"id":"${'x'.repeat(300)}"}`).get('id')).toBeUndefined();
    expect(scan('{"id":1} {"id":2}').get('id')).toBe(1); // only the first value
  });

  it('after reset, reads the next object afresh', () => {
    const s = scan('{"id":1,"method":"m"}');
    s.reset();
    s.push(Buffer.from('{"result":{"id":9}'));
    expect(s.get('id')).toBeUndefined();
    expect(s.get('method')).toBeUndefined();
    s.push(Buffer.from(',"id":10}'));
    expect(s.get('id')).toBe(10);
  });
});

// Generated cases (fast-check, fixed seeds): JSON.parse is the oracle.

/** Keys that stress the scanner: the wanted ones, and strings full of JSON punctuation. */
const key = fc.oneof(fc.constantFrom('id', 'method', 'result', '"', '\\', '{', '}', '[', ']', ',', ':', 'id"', '\\"id'), fc.string({ unit: 'binary', maxLength: 6 }));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.string({ unit: 'binary', maxLength: 12 })),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
}));
const id = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const indent = fc.constantFrom(undefined, 0, 1, 2, '\t');
const cuts = fc.array(fc.nat({ max: 4000 }), { maxLength: 8 });

describe('TopLevelKeys.push (generated)', () => {
  it('finds the top-level id of any object, wherever it stands among nested ids, however it is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 6 }), fc.nat(), id, indent, cuts, (entries, at, theId, space, cutAt) => {
        const all = entries.filter(([k]) => k !== 'id'); // nested ids stay; the top level has one
        all.splice(at % (all.length + 1), 0, ['id', theId]);
        const text = JSON.stringify(Object.fromEntries(all), null, space);
        const expected = (JSON.parse(text) as { id: unknown }).id;
        expect(scan(text, cutAt).get('id')).toEqual(expected);
      }),
      { seed: 1313, numRuns: 600 },
    );
  });

  it('finds no id where the top level has none, and agrees with JSON.parse on any JSON value', () => {
    fc.assert(
      fc.property(value, cuts, (v, cutAt) => {
        const text = JSON.stringify(v);
        const parsed: unknown = JSON.parse(text);
        const own = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.hasOwn(parsed, 'id');
        const idValue = own ? (parsed as { id: unknown }).id : undefined;
        const kept = idValue !== undefined && Buffer.byteLength(JSON.stringify(idValue)) <= 256;
        expect(scan(text, cutAt).get('id')).toEqual(kept ? idValue : undefined);
      }),
      { seed: 2626, numRuns: 1000 },
    );
  });
});
