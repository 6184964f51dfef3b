/** A body held in a {@link BodyArena}. */
export interface BodyRegion {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
}

interface Slab {
  buf: Buffer;
  used: number;
  /** Regions not released yet. */
  live: number;
}

interface Held extends BodyRegion {
  slab: Slab;
  released: boolean;
}

/**
 * Request bodies of pending eager bulk jobs (fast-path.ts), copied into large reused slabs. An eager job
 * keeps its body only to parse it again if it is rolled back (eager-apply.ts). Kept as one Buffer per
 * body for the whole bulk delay, every body was promoted and counted as external memory, which made V8
 * run extra full collections: ~0.1 ms per 1,000-user request in bench/emulator.ts. A slab is reused
 * once every body in it is released; a slab still holding bodies of dropped jobs is left to the GC.
 * @example const region = arena.hold(chunks, length); …; arena.release(region)
 */
export class BodyArena {
  private current: Slab | undefined;
  private readonly spare: Slab[] = [];
  private readonly slabSize: number;

  constructor(slabSize = 4 * 1024 * 1024) {
    this.slabSize = slabSize;
  }

  /** Copies `chunks` (`length` bytes in all) into a slab; undefined for a body over a quarter slab (keep it apart). */
  hold(chunks: readonly Buffer[], length: number): BodyRegion | undefined {
    if (length > this.slabSize / 4) return undefined;
    let slab = this.current;
    if (slab === undefined || slab.used + length > slab.buf.length) {
      slab = this.spare.pop() ?? { buf: Buffer.allocUnsafeSlow(this.slabSize), used: 0, live: 0 };
      this.current = slab;
    }
    const start = slab.used;
    for (const chunk of chunks) slab.used += chunk.copy(slab.buf, slab.used);
    slab.live++;
    const held: Held = { buf: slab.buf, start, end: slab.used, slab, released: false };
    return held;
  }

  /** Gives a region back (idempotent; a region this arena did not hold is ignored); its bytes may be overwritten from then on. */
  release(region: BodyRegion): void {
    const held = region as Partial<Held>;
    if (held.slab === undefined || held.released) return;
    held.released = true;
    const slab = held.slab;
    if (--slab.live > 0) return;
    slab.used = 0;
    if (slab !== this.current && this.spare.length < 2) this.spare.push(slab);
  }
}
