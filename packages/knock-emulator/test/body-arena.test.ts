import { describe, expect, test } from 'vitest';
import { BodyArena, type BodyRegion } from '../src/body-arena.js';

const text = (r: BodyRegion) => r.buf.toString('utf8', r.start, r.end);
const hold = (arena: BodyArena, s: string) => arena.hold([Buffer.from(s.slice(0, 3)), Buffer.from(s.slice(3))], Buffer.byteLength(s))!;

describe('BodyArena (bodies of pending eager jobs)', () => {
  test('keeps every held body intact until it is released, reusing slabs only when all their bodies are', () => {
    const arena = new BodyArena(1000);
    const live = new Map<BodyRegion, string>();
    let n = 0;
    // Bodies released oldest first, as jobs complete; every 17th is released only at the end (rolled back late).
    const queue: BodyRegion[] = [];
    const late: BodyRegion[] = [];
    for (let round = 0; round < 200; round++) {
      const body = `${n++}:`.padEnd(50 + ((round * 37) % 200), String.fromCharCode(97 + (round % 26)));
      const region = hold(arena, body);
      live.set(region, body);
      (round % 17 === 0 ? late : queue).push(region);
      if (queue.length > 6) {
        const oldest = queue.shift()!;
        arena.release(oldest);
        arena.release(oldest); // idempotent
        live.delete(oldest);
      }
      for (const [r, b] of live) expect(text(r)).toBe(b);
    }
    for (const r of late) arena.release(r);
  });

  test('bodies over a quarter slab are not held; regions it did not hold are ignored on release', () => {
    const arena = new BodyArena(1000);
    expect(arena.hold([Buffer.alloc(251)], 251)).toBeUndefined();
    expect(arena.hold([Buffer.alloc(250)], 250)).toBeDefined();
    expect(() => arena.release({ buf: Buffer.alloc(3), start: 0, end: 3 })).not.toThrow();
  });
});
