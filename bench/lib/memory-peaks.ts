/** The largest RSS of each process over several samples, in MB (10^6 bytes), by process label. */
export class MemoryPeaks {
  private readonly peaks: Record<string, number> = {};

  /** Keep the larger of each process's stored and sampled RSS. */
  record(sample: Readonly<Record<string, number>>): void {
    for (const [label, size] of Object.entries(sample)) {
      this.peaks[label] = Math.max(size, this.peaks[label] ?? 0);
    }
  }

  get values(): Record<string, number> {
    return { ...this.peaks };
  }
}
