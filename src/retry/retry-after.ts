/**
 * The `Retry-After` header (RFC 9110 §10.2.3): either delay-seconds, a non-negative whole number of seconds, or an
 * HTTP-date. Of the dates, the preferred IMF-fixdate and the two obsolete forms a recipient must still accept
 * (rfc850-date, asctime-date) are read; all three are in GMT. Anything else (a fraction, a negative number, a date in
 * some other shape) is not a Retry-After the server sent on purpose, and the caller's own backoff decides instead.
 */

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`);

/**
 * How long the server asked to wait, in milliseconds; undefined when there is no header or it cannot be read. A date
 * already past asks for no wait (0).
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  let at = Number.NaN;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) at = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) at = Date.parse(`${text} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
