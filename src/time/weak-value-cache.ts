/**
 * A cache that holds its values weakly: a value stays findable while something else uses it, and its entry goes
 * once it has been collected. Its size follows what is in use, however many keys were ever stored.
 */
export class WeakValueCache<K, V extends object> {
  private readonly entries = new Map<K, WeakRef<V>>();
  private readonly collected = new FinalizationRegistry<K>((key) => {
    // The key may have been stored again, with a value still alive.
    if (this.entries.get(key)?.deref() === undefined) this.entries.delete(key);
  });

  get(key: K): V | undefined {
    return this.entries.get(key)?.deref();
  }

  set(key: K, value: V): void {
    this.entries.set(key, new WeakRef(value));
    this.collected.register(value, key);
  }
}
