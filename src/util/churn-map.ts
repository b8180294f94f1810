// A map for keys that come and go all run long, such as one entry per request in flight.
//
// V8's Map rehashes into a new table whenever deleted entries fill the old one, and the old
// table keeps a link to its successor (for iterators still walking it). Once a full collection
// has moved one such table to the old generation, it stays there, dead, until the next full
// collection, and through that link every later table stays reachable at each scavenge, with
// every value it holds: each scavenge then copies and promotes request state that died long
// before, which makes every scavenge from the first full collection on several times dearer
// (docs/performance.md, change 27). Copying the entries into a fresh Map every so many
// deletions leaves the old chain nothing new to hold.

/** Deletions between copies: a copy costs one pass over the entries in flight. */
const DELETES_PER_COPY = 1024;

export class ChurnMap<K, V> {
  private map = new Map<K, V>();
  private deletesSinceCopy = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): this {
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.map.delete(key)) return false;
    if (++this.deletesSinceCopy === DELETES_PER_COPY) {
      this.map = new Map(this.map);
      this.deletesSinceCopy = 0;
    }
    return true;
  }
}

/** A set of keys that come and go; see ChurnMap. */
export class ChurnSet<K> {
  private readonly members = new ChurnMap<K, true>();

  get size(): number {
    return this.members.size;
  }

  has(key: K): boolean {
    return this.members.has(key);
  }

  add(key: K): this {
    this.members.set(key, true);
    return this;
  }

  delete(key: K): boolean {
    return this.members.delete(key);
  }
}
