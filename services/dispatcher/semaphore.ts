/** A counting semaphore: at most `size` holders at a time, waiters served in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Take a slot when one is free at once. Returns false otherwise. */
  tryAcquire(): boolean {
    if (this.active < this.size) {
      this.active++;
      return true;
    }
    return false;
  }

  async acquire(): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next();
      return;
    }
    this.active--;
  }
}
