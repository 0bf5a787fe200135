// The dashboard: reads /health (public) and the admin API (bearer ADMIN_TOKEN kept in this browser only).
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "opn-admin-token";
let token = localStorage.getItem(TOKEN_KEY) ?? "";
$("token").value = token;

function text(el, value) { el.textContent = value; return el; }
function cell(row, value, className) { const td = row.insertCell(); td.textContent = value ?? ""; if (className) td.className = className; return td; }
const number = new Intl.NumberFormat();
function seconds(ms) { return ms == null ? "–" : `${(ms / 1000).toFixed(1)} s`; }
function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

async function admin(path, init = {}) {
  const res = await fetch(`/admin${path}`, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token}`, "Content-Type": "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 503) {
    const auth = $("auth-message");
    auth.hidden = false;
    text(auth, body.message ?? (res.status === 401 ? "The admin token was not accepted." : "The admin API is not configured (ADMIN_TOKEN)."));
  }
  return { ok: res.ok, status: res.status, body };
}

async function refreshHealth() {
  const res = await fetch("/health", { cache: "no-store" });
  const health = await res.json().catch(() => ({ status: "unreachable", problems: [] }));
  const badge = $("health-badge");
  badge.className = `badge ${health.status === "ok" ? "ok" : "bad"}`;
  text(badge, health.status === "ok" ? "healthy" : "needs attention");
  const list = $("problems");
  list.replaceChildren();
  const problems = [...(health.problems ?? [])];
  for (const [name, c] of Object.entries(health.components ?? {})) if (!c.ok) problems.push({ setting: name, problem: c.detail ?? "failing" });
  for (const p of problems) list.append(text(document.createElement("li"), `${p.setting}: ${p.problem}`));
  $("health-problems").hidden = problems.length === 0;
}

function renderStats(stats) {
  const rows = stats.today ?? [];
  const sum = (pred, field = "syncs") => rows.filter(pred).reduce((n, r) => n + (r[field] ?? 0), 0);
  const written = (r) => r.outcome === "created" || r.outcome === "updated";
  text($("synced"), number.format(sum(written)));
  text($("synced-detail"), `${number.format(sum((r) => written(r) && r.kind === "call"))} calls, ${number.format(sum((r) => written(r) && r.kind === "message"))} texts · ${number.format(sum((r) => r.outcome === "created"))} new pages`);
  text($("failed"), number.format(sum((r) => r.outcome === "failed")));
  text($("failed-detail"), `${number.format(stats.deadLetters?.open ?? 0)} waiting for replay`);
  const timed = rows.filter((r) => written(r) && r.avg_latency_ms != null);
  const avg = timed.length ? timed.reduce((n, r) => n + r.avg_latency_ms * r.syncs, 0) / timed.reduce((n, r) => n + r.syncs, 0) : null;
  text($("latency"), seconds(avg));
  text($("latency-detail"), `average today · slowest ${seconds(Math.max(0, ...timed.map((r) => r.max_latency_ms ?? 0)) || null)}`);
  const canvas = stats.canvas ?? {};
  text($("canvas"), canvas.hit_ratio == null ? "–" : `${(canvas.hit_ratio * 100).toFixed(1)} %`);
  text($("canvas-detail"), `${number.format(canvas.memory_hits ?? 0)} memory · ${number.format(canvas.d1_hits ?? 0)} index · ${number.format(canvas.notion_lookups ?? 0)} Notion · ${number.format(canvas.misses ?? 0)} unknown` + (stats.canvasIndex ? ` · index: ${number.format(stats.canvasIndex.pages)} customers, ${number.format(stats.canvasIndex.unmatchedParticipants)} numbers without one` : ""));
  const notionRequests = sum(() => true, "notion_requests");
  const writes = sum(written);
  for (const api of ["notion", "openphone"]) {
    const gate = stats.gates?.[api] ?? {};
    // Requests come from the D1 counters (they survive gate restarts); rate, pauses and 429s from the gate itself.
    text($(api), `${number.format(stats.metrics24h?.[`${api}.requests`] ?? 0)} req / 24 h`);
    const paused = gate.breakerOpenUntil > Date.now() ? " · paused (breaker open)" : gate.pausedUntil > Date.now() ? " · paused (429)" : "";
    const perItem = api === "notion" && writes > 0 ? ` · ${(notionRequests / writes).toFixed(2)} per item` : "";
    text($(`${api}-detail`), gate.error ?? `${number.format(gate.rateLimited ?? 0)} × 429 · ${(gate.rate ?? 0).toFixed(1)}/${gate.configuredRate ?? "?"} per s${perItem}${paused}`);
  }
  const metrics = $("metrics").tBodies[0];
  metrics.replaceChildren();
  for (const [name, value] of Object.entries(stats.metrics24h ?? {}).sort()) {
    const row = metrics.insertRow();
    cell(row, name);
    cell(row, number.format(value));
  }
  text($("updated"), `Updated ${new Date(stats.generatedAt ?? Date.now()).toLocaleTimeString()}`);
}

function renderDeadLetters({ open, deadLetters }) {
  text($("dead-count"), open ? `(${number.format(open)} open)` : "(none)");
  $("replay-all").disabled = !open;
  const body = $("dead-letters").tBodies[0];
  body.replaceChildren();
  for (const letter of deadLetters ?? []) {
    const row = body.insertRow();
    cell(row, when(letter.createdAt));
    cell(row, letter.resourceId ?? "–");
    cell(row, letter.eventType ?? letter.queue);
    cell(row, letter.reason, "reason");
    cell(row, letter.property ?? "");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Replay";
    button.addEventListener("click", () => replay([letter.id]));
    row.insertCell().append(button);
  }
}

function renderBackfill(runs) {
  const box = $("backfill");
  box.replaceChildren();
  if (runs.length === 0) return box.append(text(document.createElement("p"), "No backfill has run yet."));
  const table = document.createElement("table");
  table.createTHead().insertRow().append(...["Started", "Status", "Progress", "Written", "Skipped", "Failed", "Requests"].map((h) => text(document.createElement("th"), h)));
  const tbody = table.createTBody();
  for (const run of runs.slice(0, 5)) {
    const row = tbody.insertRow();
    cell(row, when(run.startedAt ?? run.started_at));
    cell(row, run.status);
    const progress = document.createElement("progress");
    // Conversations listed over conversations found (GET /admin/backfill; the total grows while they are listed).
    const planned = run.planned ?? 0;
    const done = run.listed ?? 0;
    progress.max = Math.max(planned, done, 1);
    progress.value = run.status === "completed" ? progress.max : done;
    row.insertCell().append(progress);
    cell(row, number.format(run.written ?? 0));
    cell(row, number.format(run.skipped ?? 0));
    cell(row, number.format(run.failed ?? 0));
    cell(row, `${number.format(run.requests?.openphone ?? 0)} OpenPhone · ${number.format(run.requests?.notion ?? 0)} Notion`);
  }
  box.append(table);
}

// Open incidents first, then the latest resolved ones; a message that could not be delivered says so.
function renderAlerts(alerts) {
  const open = alerts?.open ?? [];
  const figure = $("alerts");
  figure.className = `figure${open.length ? " bad" : ""}`;
  text(figure, open.length ? `${number.format(open.length)} open` : "none open");
  const list = $("alerts-list");
  list.replaceChildren();
  const resolved = (alerts?.recent ?? []).filter((a) => a.resolvedAt != null).slice(0, 3);
  for (const a of [...open, ...resolved]) {
    const delivery = a.openStatus === "sent" ? "" : a.openStatus === "unconfigured" ? " (not sent: ALERT_WEBHOOK_URL not set)" : ` (not delivered yet: ${a.lastSendError ?? a.openStatus})`;
    const state = a.resolvedAt == null ? `since ${when(a.openedAt)}` : `resolved ${when(a.resolvedAt)}`;
    const li = text(document.createElement("li"), `${state}: ${a.lastText}${delivery}`);
    if (a.resolvedAt == null) li.className = "open";
    list.append(li);
  }
}

async function replay(ids) {
  const res = await admin("/dead-letters/replay", { method: "POST", body: JSON.stringify(ids ? { ids } : {}) });
  text($("replay-result"), res.ok ? `Replayed ${res.body.replayed}.` : `Replay failed: ${res.body.message ?? res.body.error ?? res.status}`);
  await refresh();
}

async function refresh() {
  await refreshHealth().catch(() => {});
  if (!token) {
    const auth = $("auth-message");
    auth.hidden = false;
    text(auth, "Enter the admin token to see figures, failures and backfill progress.");
    return;
  }
  const [stats, dead, backfill] = await Promise.all([admin("/stats"), admin("/dead-letters?limit=50"), admin("/backfill")]);
  if (stats.ok) { $("auth-message").hidden = true; renderStats(stats.body); renderAlerts(stats.body.alerts); }
  if (dead.ok) renderDeadLetters(dead.body);
  if (backfill.ok) renderBackfill(Array.isArray(backfill.body) ? backfill.body : backfill.body.runs ?? []);
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  localStorage.setItem(TOKEN_KEY, token);
  void refresh();
});
$("replay-all").addEventListener("click", () => replay());
$("backfill-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const since = $("backfill-since").value;
  const res = await admin("/backfill", { method: "POST", body: JSON.stringify(since ? { since: new Date(`${since}T00:00:00Z`).toISOString() } : {}) });
  text($("backfill-result"), res.ok ? `Started ${res.body.id}.` : `Could not start: ${res.body.message ?? res.status}`);
  await refresh();
});
$("resync-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = $("resync-id").value.trim();
  const res = await admin("/resync", { method: "POST", body: JSON.stringify({ id }) });
  text($("resync-result"), res.ok ? `Re-sync of ${id} queued.` : `Could not re-sync: ${res.body.message ?? res.status}`);
});

await refresh();
setInterval(() => void refresh(), 5000);
