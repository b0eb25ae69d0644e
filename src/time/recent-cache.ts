/**
 * A bounded cache that keeps what was used recently: entries go into the current generation; once it holds
 * `generationSize` entries it becomes the previous one and the one before is dropped; a hit in the previous
 * generation copies the entry into the current one. At most 2 × `generationSize` entries, O(1) per call (a
 * least-recently-used Map that evicts its first key is not: V8 scans over the deleted slots to find it).
 */
export class RecentCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();

  constructor(private readonly generationSize: number) {}

  get(key: K): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const older = this.previous.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}
