/**
 * Live simulated traffic: calls and texts arriving at random (Poisson) moments at the requested average rates, each
 * going through the same path as `POST /_emulator/calls` / `messages`, webhooks included.
 */
export interface TrafficOptions {
  callsPerMinute: number;
  messagesPerMinute: number;
  /** Omitted or 0: until stopped. */
  durationSeconds?: number;
}

export class TrafficGenerator {
  private timers = new Set<NodeJS.Timeout>();
  private until = 0;
  private active: TrafficOptions | undefined;

  constructor(
    private readonly makeCall: () => void,
    private readonly makeMessage: () => void,
  ) {}

  start(options: TrafficOptions): { until: string | null } {
    this.stop();
    this.active = options;
    this.until = options.durationSeconds ? Date.now() + options.durationSeconds * 1000 : Infinity;
    this.loop(options.callsPerMinute, this.makeCall);
    this.loop(options.messagesPerMinute, this.makeMessage);
    return { until: Number.isFinite(this.until) ? new Date(this.until).toISOString() : null };
  }

  private loop(perMinute: number, make: () => void): void {
    if (perMinute <= 0) return;
    const schedule = () => {
      const waitMs = (-Math.log(1 - Math.random()) * 60_000) / perMinute;
      if (Date.now() + waitMs > this.until) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        make();
        schedule();
      }, waitMs);
      this.timers.add(timer);
    };
    schedule();
  }

  status(): { running: boolean; options?: TrafficOptions } {
    return { running: this.timers.size > 0, options: this.timers.size > 0 ? this.active : undefined };
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.active = undefined;
  }
}
