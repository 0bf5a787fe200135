/**
 * What one audit may spend: a number of API requests (OpenPhone and Notion together) and a wall-clock deadline.
 * A Worker invocation has a subrequest limit and callers have timeouts, so an audit stops at its budget and says so
 * (`complete: false`) rather than running until something else cuts it off without a word.
 */

export class AuditBudgetSpent extends Error {
  constructor(readonly reason: "request budget" | "time budget") {
    super(`the audit's ${reason} is spent`);
    this.name = "AuditBudgetSpent";
  }
}

export class AuditBudget {
  openphone = 0;
  notion = 0;

  constructor(
    readonly maxRequests: number,
    readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {}

  get spent(): number {
    return this.openphone + this.notion;
  }

  /** Call before each request; throws when the request would go over the budget or the deadline has passed. */
  take(api: "openphone" | "notion"): void {
    if (this.spent >= this.maxRequests) throw new AuditBudgetSpent("request budget");
    if (this.now() >= this.deadline) throw new AuditBudgetSpent("time budget");
    this[api]++;
  }
}
