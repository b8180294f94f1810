// The FCFS waiting queue; mirrors vllm/v1/core/sched/request_queue.py (FCFSRequestQueue): a deque
// with pushes at the back and preempted or skipped requests put back at the front.

import type { Request } from "./request.ts";

export class RequestQueue {
  private items: (Request | undefined)[] = new Array<Request | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  addRequest(request: Request): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = request;
    this.count += 1;
  }

  prependRequest(request: Request): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = request;
    this.count += 1;
  }

  peekRequest(): Request {
    if (this.count === 0) throw new Error("RequestQueue.peekRequest: queue is empty");
    return this.items[this.head]!;
  }

  popRequest(): Request {
    const request = this.peekRequest();
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count -= 1;
    return request;
  }

  /** Removes one request wherever it is (an abort); O(n). */
  remove(request: Request): boolean {
    const all = this.toArray();
    const idx = all.indexOf(request);
    if (idx < 0) return false;
    all.splice(idx, 1);
    this.items = new Array<Request | undefined>(Math.max(16, this.items.length));
    this.head = 0;
    this.count = 0;
    for (const r of all) this.addRequest(r);
    return true;
  }

  toArray(): Request[] {
    const out: Request[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.items.length]!);
    return out;
  }

  private grow(): void {
    const old = this.toArray();
    this.items = new Array<Request | undefined>(this.items.length * 2);
    this.head = 0;
    this.count = 0;
    for (const r of old) this.addRequest(r);
  }
}
