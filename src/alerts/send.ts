/**
 * One alert message to `ALERT_WEBHOOK_URL`: a Slack-compatible incoming webhook, `POST` with the JSON body
 * `{"text": …}` (Slack, Mattermost, Discord's `/slack` endpoint, Google Chat and most chat tools accept it). The
 * whole exchange, response body included, is bounded; the outcome is returned, never thrown, so a receiver that is
 * down costs one evaluation a few seconds and the message is tried again at the next one.
 */

export const ALERT_SEND_TIMEOUT_MS = 5_000;

export type SendOutcome = { ok: true } | { ok: false; error: string };

export async function sendAlert(url: string, text: string, timeoutMs = ALERT_SEND_TIMEOUT_MS): Promise<SendOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
      signal,
    });
    // Read the (short) answer under the same deadline so the connection is released and its error can be shown.
    const answer = (await response.text()).slice(0, 200);
    if (!response.ok) return { ok: false, error: `HTTP ${response.status}${answer ? `: ${answer}` : ""}` };
    return { ok: true };
  } catch (error) {
    if (signal.aborted) return { ok: false, error: `no answer within ${timeoutMs} ms` };
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
