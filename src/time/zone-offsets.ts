import { MS_PER_DAY, MS_PER_SECOND, floorToSecond } from './calendar.js';

/** Instants `[start, end)` over which a zone's UTC offset is constant. */
export interface OffsetSpan {
  readonly start: number;
  readonly end: number;
  /** Local wall time minus UTC, in ms. */
  readonly offset: number;
}

/** Reads a zone's UTC offset (ms) at an instant. Slow (about a microsecond per call through Intl). */
export type OffsetReader = (instant: number) => number;

const CHUNK_MS = 32 * MS_PER_DAY;
// No two offset changes in the tz database since 1900 are closer than 95 hours (Africa/Freetown 1939; since 1970
// the closest are a week apart), so sampling every 2 days cannot step over a change and its reversal.
const SAMPLE_MS = 2 * MS_PER_DAY;
// Local time never jumps back by more than 24 h (date-line moves), so an earlier, later-reading wall time is
// always within this window.
const PEAK_LOOKBACK_MS = 2 * MS_PER_DAY;
// Offsets in the tz database lie within ±16 h (Asia/Manila's -15:56 to America/Metlakatla's +15:13 local mean
// times), so the first instant showing a given wall time is at most this much earlier.
const MAX_OFFSET_MS = 24 * 3_600_000;
// Bounds the cache of a zone that is queried all over the calendar (e.g. by property tests): ~350 years.
const MAX_CHUNKS = 4096;

/**
 * The UTC offsets of one time zone as cached constant-offset spans, filled lazily in 32-day chunks by sampling
 * the reader and bisecting each change to the second. Answers UTC↔wall conversions without further Intl calls.
 *
 * Wall times are "wall ms" (see calendar.ts). Conversions work on whole seconds.
 */
export class ZoneOffsets {
  private readonly chunks = new Map<number, readonly OffsetSpan[]>();
  private lastIndex = Number.NaN;
  private lastSpans: readonly OffsetSpan[] = [];

  constructor(private readonly read: OffsetReader) {}

  offsetAt(instant: number): number {
    return this.spanAt(instant).offset;
  }

  /** The span holding `instant`; spans are cut at chunk boundaries, so neighbours may share an offset. */
  spanAt(instant: number): OffsetSpan {
    const index = Math.floor(instant / CHUNK_MS);
    if (index !== this.lastIndex) {
      this.lastSpans = this.chunk(index);
      this.lastIndex = index;
    }
    const spans = this.lastSpans;
    for (let i = 0; i < spans.length - 1; i++) {
      const span = spans[i] as OffsetSpan;
      if (instant < span.end) return span;
    }
    return spans[spans.length - 1] as OffsetSpan;
  }

  /** The latest wall time shown at any whole second up to `instant` (later than its own after a fall-back). */
  wallPeak(instant: number): number {
    const second = floorToSecond(instant);
    let span = this.spanAt(second);
    let peak = second + span.offset;
    const horizon = second - PEAK_LOOKBACK_MS;
    while (span.start > horizon) {
      span = this.spanAt(span.start - MS_PER_SECOND);
      peak = Math.max(peak, span.end - MS_PER_SECOND + span.offset);
    }
    return peak;
  }

  /**
   * The first whole-second instant whose wall time reaches `wall`: its first occurrence, or the end of the
   * spring-forward gap that skips it. Every instant up to `from` must show an earlier wall time than `wall`.
   */
  firstInstantReaching(wall: number, from: number): number {
    // Starting a day before the wall time (rather than at `from`) spares the chunks in between.
    let span = this.spanAt(Math.max(from, wall - MAX_OFFSET_MS));
    while (wall >= span.end + span.offset) span = this.spanAt(span.end);
    return Math.max(span.start, wall - span.offset);
  }

  private chunk(index: number): readonly OffsetSpan[] {
    let spans = this.chunks.get(index);
    if (spans === undefined) {
      if (this.chunks.size >= MAX_CHUNKS) this.chunks.clear();
      spans = this.buildChunk(index * CHUNK_MS);
      this.chunks.set(index, spans);
    }
    return spans;
  }

  private buildChunk(start: number): OffsetSpan[] {
    const end = start + CHUNK_MS;
    const spans: OffsetSpan[] = [];
    let spanStart = start;
    let previous = start;
    let previousOffset = this.read(start);
    for (let sample = start + SAMPLE_MS; sample <= end; sample += SAMPLE_MS) {
      const offset = this.read(sample);
      let from = previous;
      let fromOffset = previousOffset;
      while (fromOffset !== offset) {
        const change = this.firstChange(from, fromOffset, sample);
        spans.push({ start: spanStart, end: change, offset: fromOffset });
        spanStart = change;
        from = change;
        fromOffset = this.read(change);
      }
      previous = sample;
      previousOffset = offset;
    }
    // A change exactly at `end` has already closed the last span.
    if (spanStart < end) spans.push({ start: spanStart, end, offset: previousOffset });
    return spans;
  }

  /** Bisects `(low, high]` for the first whole second whose offset differs from `lowOffset` (read at `low`). */
  private firstChange(low: number, lowOffset: number, high: number): number {
    while (high - low > MS_PER_SECOND) {
      const middle = low + Math.floor((high - low) / (2 * MS_PER_SECOND)) * MS_PER_SECOND;
      if (this.read(middle) === lowOffset) low = middle;
      else high = middle;
    }
    return high;
  }
}
