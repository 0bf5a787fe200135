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
function age(totalSeconds) {
  if (totalSeconds == null) return "–";
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
/** For chart axes: the largest unit only. */
function shortAge(totalSeconds) {
  const s = Math.round(totalSeconds);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(s < 36_000 ? 1 : 0)} h`;
}
function ago(iso) { return iso ? `${age((Date.now() - Date.parse(iso)) / 1000)} ago` : "never"; }

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
  // Distinct calls and texts, not flushes: a call written and then updated with its recording counts once.
  const synced = stats.syncedToday ?? { calls: 0, texts: 0, newPages: 0 };
  text($("synced"), number.format(synced.calls + synced.texts));
  text($("synced-detail"), `${number.format(synced.calls)} calls, ${number.format(synced.texts)} texts · ${number.format(synced.newPages)} new pages`);
  text($("failed"), number.format(sum((r) => r.outcome === "failed")));
  text($("failed-detail"), `${number.format(stats.deadLetters?.open ?? 0)} waiting for replay`);
  const workspace = stats.workspace ?? {};
  text($("latency"), seconds(workspace.latencyP50Ms));
  text($("latency-detail"), `median, last 24 h · p95 ${seconds(workspace.latencyP95Ms)} · ${number.format(workspace.latencySamples ?? 0)} pages · ${(workspace.itemsPerMinute ?? 0).toFixed(2)} items/min last hour`);
  const canvas = stats.canvas ?? {};
  text($("canvas"), canvas.hit_ratio == null ? "–" : `${(canvas.hit_ratio * 100).toFixed(1)} %`);
  text($("canvas-detail"), `${number.format(canvas.memory_hits ?? 0)} memory · ${number.format(canvas.d1_hits ?? 0)} index · ${number.format(canvas.notion_lookups ?? 0)} Notion · ${number.format(canvas.misses ?? 0)} unknown` + (stats.canvasIndex ? ` · index: ${number.format(stats.canvasIndex.pages)} customers, ${number.format(stats.canvasIndex.unmatchedParticipants)} numbers without one` : ""));
  const notionRequests = sum(() => true, "notion_requests");
  const writes = sum(written);
  for (const api of ["notion", "openphone"]) {
    const gate = stats.gates?.[api] ?? {};
    // Requests come from the D1 counters (they survive gate restarts); rate, pauses and 429s from the gate itself.
    // Every request, whatever spent it: flushes, media, backfill listings, routing, Canvas and admin calls.
    text($(api), `${number.format(stats.requests24h?.[api] ?? 0)} req / 24 h`);
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
  renderLines(stats.lines ?? [], stats.alertLagSeconds ?? 300);
  renderThroughput(stats.series24h?.throughput ?? [], stats.series24h?.bucketSeconds ?? 300, Date.parse(stats.generatedAt ?? new Date().toISOString()));
  renderLag(stats.series24h?.lag ?? [], stats.series24h?.bucketSeconds ?? 300, stats.alertLagSeconds ?? 300, Date.parse(stats.generatedAt ?? new Date().toISOString()));
  text($("updated"), `Updated ${new Date(stats.generatedAt ?? Date.now()).toLocaleTimeString()}`);
}

function renderLines(lines, limit) {
  const body = $("lines").tBodies[0];
  body.replaceChildren();
  let behind = 0;
  for (const line of lines) {
    const row = body.insertRow();
    const late = !line.answered || line.oldestPendingSeconds > limit;
    if (late) { row.className = "behind"; behind++; }
    cell(row, line.name ? `${line.name} (${line.lineId})` : line.lineId);
    cell(row, line.answered ? number.format(line.pending) : "?", "num");
    cell(row, line.answered ? (line.pending === 0 ? "–" : line.oldestPendingSeconds > 0 ? `${age(line.oldestPendingSeconds)} overdue` : "not yet due") : "did not answer");
    cell(row, line.answered ? ago(line.lastWriteAt) : "?");
    cell(row, line.lastError ?? "", "reason");
  }
  $("lines-empty").hidden = lines.length > 0;
  text($("lines-summary"), lines.length === 0 ? "" : behind ? `(${behind} of ${lines.length} behind by more than ${age(limit)})` : `(all ${lines.length} up to date)`);
}

// Charts: inline SVG in a 600 × 160 box, 24 hours left to right, ending at the stats' time.
const SVG = "http://www.w3.org/2000/svg";
const CHART = { width: 600, height: 160, left: 48, right: 8, top: 16, bottom: 20 };
function svgEl(name, attrs, content) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (content != null) el.textContent = content;
  return el;
}
function chartFrame(svg, maxY, formatY, now) {
  svg.replaceChildren();
  const { width, height, left, right, top, bottom } = CHART;
  const x = (at) => left + ((at - (now - 86_400_000)) / 86_400_000) * (width - left - right);
  const y = (v) => height - bottom - (maxY > 0 ? (v / maxY) * (height - top - bottom) : 0);
  svg.append(svgEl("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  svg.append(svgEl("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  svg.append(svgEl("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, formatY(maxY)));
  svg.append(svgEl("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, "0"));
  for (const hoursAgo of [24, 18, 12, 6, 0]) {
    svg.append(svgEl("text", { x: x(now - hoursAgo * 3_600_000), y: height - 6, "text-anchor": hoursAgo === 24 ? "start" : hoursAgo === 0 ? "end" : "middle" }, hoursAgo === 0 ? "now" : `−${hoursAgo} h`));
  }
  return { x, y };
}

function renderThroughput(points, bucketSeconds, now) {
  const svg = $("throughput-chart");
  const max = Math.max(0, ...points.map((p) => p.items));
  const { x, y } = chartFrame(svg, max, (v) => number.format(v), now);
  const barWidth = Math.max(2, x(bucketSeconds * 1000) - x(0) - 0.5);
  for (const p of points) {
    const bar = svgEl("rect", { class: "bar", x: x(p.at), y: y(p.items), width: barWidth, height: y(0) - y(p.items) });
    bar.append(svgEl("title", {}, `${new Date(p.at).toLocaleTimeString()}: ${p.items} written`));
    svg.append(bar);
  }
  text($("throughput-total"), `(${number.format(points.reduce((n, p) => n + p.items, 0))} in 24 h)`);
}

const SERIES_COLOURS = ["#0969da", "#8250df", "#bf3989", "#1a7f37", "#9a6700", "#57606a"];
function renderLag(points, bucketSeconds, limit, now) {
  const svg = $("lag-chart");
  const byLine = new Map();
  for (const p of points) byLine.set(p.lineId, [...(byLine.get(p.lineId) ?? []), p]);
  const max = Math.max(limit, ...points.map((p) => p.oldestPendingSeconds));
  const { x, y } = chartFrame(svg, max, shortAge, now);
  svg.append(svgEl("line", { class: "limit", x1: CHART.left, x2: CHART.width - CHART.right, y1: y(limit), y2: y(limit) }));
  svg.append(svgEl("text", { x: CHART.width - CHART.right - 2, y: y(limit) - 3, "text-anchor": "end" }, `alert at ${shortAge(limit)}`));
  const legend = [];
  [...byLine.keys()].sort().forEach((lineId, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    legend.push(lineId);
    // A gap of more than one bucket breaks the line: no sample is not the same as no lag.
    let d = "";
    let previous = null;
    for (const p of byLine.get(lineId)) {
      if (p.oldestPendingSeconds < 0) {
        const mark = svgEl("rect", { class: "silent", x: x(p.at), y: CHART.top, width: 3, height: 6 });
        mark.append(svgEl("title", {}, `${lineId} did not answer at ${new Date(p.at).toLocaleTimeString()}`));
        svg.append(mark);
        previous = null;
        continue;
      }
      d += `${previous !== null && p.at - previous <= bucketSeconds * 1000 ? "L" : "M"}${x(p.at).toFixed(1)},${y(p.oldestPendingSeconds).toFixed(1)} `;
      previous = p.at;
    }
    if (d) {
      const path = svgEl("path", { class: "series", d, stroke: colour });
      path.append(svgEl("title", {}, lineId));
      svg.append(path);
    }
  });
  const key = $("lag-legend");
  key.replaceChildren(...(legend.length ? legend.map((id, i) => {
    const item = text(document.createElement("span"), `■ ${id} `);
    item.style.color = SERIES_COLOURS[i % SERIES_COLOURS.length];
    return item;
  }) : [document.createTextNode("(no samples yet)")]));
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
  table.createTHead().insertRow().append(...["Started", "Status", "Progress", "Written to Notion", "Skipped", "Failed", "Requests"].map((h) => text(document.createElement("th"), h)));
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
    // Written by the lines over handed to them: listing can end before every item has its page.
    cell(row, `${number.format(run.written ?? 0)} of ${number.format(run.handed ?? 0)}`);
    cell(row, number.format(run.skipped ?? 0));
    cell(row, number.format(run.failed ?? 0));
    cell(row, `${number.format(run.requests?.openphone ?? 0)} OpenPhone · ${number.format(run.requests?.notion ?? 0)} Notion`);
  }
  box.append(table);
}

// The frequent sweep: what it found that no webhook announced (texts sent from the app, lost webhooks).
function renderSweep(sweeps) {
  const last = sweeps.find((s) => s.status !== "running") ?? sweeps[0];
  if (!last) return text($("sweep"), "Sweep of recent conversations: not run yet (every SWEEP_MINUTES on the five-minute cron).");
  const found = last.handed ? `found ${number.format(last.handed)} no webhook announced, ${number.format(last.written ?? 0)} written` : "found nothing missing";
  const trouble = last.status === "failed" ? ` · failed: ${last.error}` : "";
  text($("sweep"), `Last sweep of recent conversations ${when(last.startedAt)}: ${found} · ${number.format(last.requests?.openphone ?? 0)} OpenPhone requests${trouble}`);
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

function renderFlags({ flags, changes, lines }) {
  const table = $("flags");
  // Never redraw under an admin who is typing a value.
  if (!table.contains(document.activeElement)) {
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const flag of flags) {
      const row = body.insertRow();
      row.dataset.flag = flag.name;
      cell(row, flag.name, "mono");
      cell(row, flag.value, "mono flag-value");
      cell(row, flag.source + (flag.problem ? ` (${flag.problem})` : ""), "flag-source");
      const change = row.insertCell();
      let input;
      if (flag.kind === "switch") {
        input = document.createElement("select");
        for (const option of ["true", "false"]) input.add(new Option(option === "true" ? "on" : "off", option, false, flag.value === option));
      } else {
        input = document.createElement("input");
        input.value = flag.value;
        if (flag.kind === "lines") input.placeholder = "PN… or numbers, comma-separated";
      }
      input.setAttribute("aria-label", `New value of ${flag.name}`);
      const save = document.createElement("button");
      save.type = "button";
      save.textContent = "Set";
      save.addEventListener("click", () => setFlags({ [flag.name]: input.value }));
      change.append(input, save);
      if (flag.source === "kv") {
        const reset = document.createElement("button");
        reset.type = "button";
        reset.textContent = "Remove override";
        reset.addEventListener("click", () => setFlags({ [flag.name]: null }));
        change.append(reset);
      }
      cell(row, flag.about, "detail");
    }
  }
  const lineBody = $("line-filter").tBodies[0];
  lineBody.replaceChildren();
  for (const line of lines) {
    const row = lineBody.insertRow();
    cell(row, line.name ? `${line.name} (${line.id ?? ""})` : line.id ?? "", "mono");
    cell(row, line.number ?? "", "mono");
    cell(row, line.state, `line-state ${line.state.replace(/ /g, "-")}`);
    cell(row, line.reason ?? "", "detail");
  }
  const changeBody = $("flag-changes").tBodies[0];
  changeBody.replaceChildren();
  for (const change of changes.slice(0, 20)) {
    const row = changeBody.insertRow();
    cell(row, new Date(change.changedAt).toLocaleString());
    cell(row, change.name, "mono");
    cell(row, change.from ?? "(no override)", "mono");
    cell(row, change.to ?? "(no override)", "mono");
    cell(row, change.changedBy);
  }
}

async function setFlags(values) {
  const res = await admin("/flags", { method: "PUT", body: JSON.stringify(values), headers: { "X-Changed-By": "dashboard" } });
  document.activeElement?.blur?.();
  const names = Object.keys(values).join(", ");
  text($("flag-result"), res.ok ? (res.body.changes.length ? `Changed ${res.body.changes.map((c) => `${c.name} to ${c.to ?? "its var or default"}`).join(", ")}.` : `${names}: already so; nothing changed.`) : `Not changed: ${res.body.message ?? res.status}`);
  await refresh();
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
  const [stats, dead, backfill, flags] = await Promise.all([admin("/stats"), admin("/dead-letters?limit=50"), admin("/backfill"), admin("/flags")]);
  if (flags.ok) renderFlags(flags.body);
  if (stats.ok) { $("auth-message").hidden = true; renderStats(stats.body); renderAlerts(stats.body.alerts); }
  if (dead.ok) renderDeadLetters(dead.body);
  if (backfill.ok) {
    renderBackfill(backfill.body.runs ?? []);
    renderSweep(backfill.body.sweeps ?? []);
  }
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
