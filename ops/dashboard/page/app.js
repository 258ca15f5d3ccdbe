// The dashboard's page: polls /api/overview, draws the processors' table and two charts (uPlot, a global from
// /uPlot.js), browses a DLQ and replays it, a dry run first. Text goes in with textContent only.
/* global uPlot */

const POLL_MS = 3_000;
const state = { processors: [], samples: [], dlqWaiting: {}, chartGroup: "", dryRunFilter: undefined };
const $ = (id) => document.getElementById(id);

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

const fixed = (n, digits = 1) => (n === null || n === undefined ? "–" : Number(n).toFixed(digits));

async function getJson(url, init) {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

async function refresh() {
  try {
    const since = state.samples.at(-1)?.at ?? 0;
    const overview = await getJson(`/api/overview?since=${since}`);
    state.processors = overview.processors;
    state.dlqWaiting = overview.dlqWaiting;
    state.samples.push(...overview.samples);
    state.samples = state.samples.slice(-1200);
    const latest = state.samples.at(-1);
    $("status").textContent = latest
      ? `${state.processors.length} processors and sinks · sampled ${new Date(latest.at).toLocaleTimeString()}`
      : "waiting for the first sample…";
    drawProcessors(latest);
    fillGroupSelects();
    drawCharts();
  } catch (error) {
    $("status").textContent = `cannot read the overview: ${error.message}`;
  }
}

function drawProcessors(latest) {
  const body = $("processors").tBodies[0];
  body.replaceChildren();
  for (const p of state.processors) {
    const g = latest?.groups.find((x) => x.group === p.group);
    const row = body.insertRow();
    row.className = `selectable${p.group === state.chartGroup ? " selected" : ""}`;
    row.dataset.group = p.group;
    cell(row, p.name);
    cell(row, p.group);
    cell(row, p.delivery);
    cell(row, p.input);
    cell(row, g ? String(g.lagRecords) : "–", `num lag-records${g?.lagRecords ? " behind" : ""}`);
    cell(row, g ? fixed(g.lagSeconds) : "–", "num lag-seconds");
    cell(row, g ? String(g.tierRecords) : "–", "num");
    cell(row, g ? fixed(g.tierSeconds) : "–", "num");
    const waiting = state.dlqWaiting[p.group] ?? 0;
    cell(row, String(waiting), `num dlq-waiting${waiting ? " behind" : ""}`);
    cell(row, g ? fixed(g.throughput) : "–", "num");
    row.addEventListener("click", () => {
      state.chartGroup = p.group;
      $("chart-group").value = p.group;
      $("dlq-group").value = p.group;
      drawProcessors(latest);
      drawCharts();
    });
  }
}

function fillGroupSelects() {
  const groups = [...new Set(state.processors.map((p) => p.group))];
  for (const [id, first] of [
    ["chart-group", "all groups"],
    ["dlq-group", "all"],
  ]) {
    const select = $(id);
    if (select.options.length === groups.length + 1) continue;
    const value = select.value;
    select.replaceChildren(new Option(first, ""), ...groups.map((g) => new Option(g, g)));
    select.value = value;
  }
}

let charts = [];

/** Throughput (records a second) and lag (seconds) of the chosen group, or of all: summed and the worst. */
function drawCharts() {
  const group = state.chartGroup;
  const pick = (sample) => (group ? sample.groups.filter((g) => g.group === group) : sample.groups);
  const times = state.samples.map((s) => s.at / 1000);
  const throughput = state.samples.map((s) => {
    const values = pick(s).map((g) => g.throughput);
    return values.some((v) => v !== null) ? values.reduce((a, v) => a + (v ?? 0), 0) : null;
  });
  const lag = state.samples.map((s) => Math.max(0, ...pick(s).map((g) => g.lagSeconds)));
  const tierLag = state.samples.map((s) => Math.max(0, ...pick(s).map((g) => g.tierSeconds)));
  for (const chart of charts) chart.destroy();
  const width = Math.max(360, Math.floor((document.body.clientWidth - 90) / 2));
  const options = (title, series) => ({
    title,
    width,
    height: 220,
    series: [{}, ...series],
    axes: [{}, { size: 60 }],
  });
  charts = [
    new uPlot(
      options("throughput (records/s)", [{ label: "records/s", stroke: "#2b6cb0", width: 2 }]),
      [times, throughput],
      $("chart-throughput"),
    ),
    new uPlot(
      options("lag (seconds)", [
        { label: "input", stroke: "#b3261e", width: 2 },
        { label: "retry tiers", stroke: "#d69e2e", width: 2 },
      ]),
      [times, lag, tierLag],
      $("chart-lag"),
    ),
  ];
}

function dlqFilter() {
  const form = new FormData($("dlq-filter"));
  return Object.fromEntries([...form].filter(([, v]) => v !== ""));
}

async function showDlq() {
  const filter = dlqFilter();
  const found = await getJson(`/api/dlq?${new URLSearchParams(filter)}`);
  $("dlq-total").textContent =
    found.total === 0
      ? "no records waiting in the dead-letter queues this filter picks"
      : `${found.total} records waiting${found.total > found.records.length ? `, the newest ${found.records.length} shown` : ""}`;
  const body = $("dlq").tBodies[0];
  body.replaceChildren();
  $("dlq-detail").replaceChildren();
  for (const r of found.records) {
    const row = body.insertRow();
    row.className = "selectable";
    cell(row, r.timestamp);
    cell(row, r.group);
    cell(row, r.key);
    cell(row, r.errorClass, "error-class");
    cell(row, r.headers["replay-count"] ?? "0", "num");
    cell(row, `${r.partition}/${r.offset}`);
    row.addEventListener("click", () => {
      const detail = $("dlq-detail");
      const headers = document.createElement("pre");
      headers.textContent = JSON.stringify(r.headers, null, 2);
      const value = document.createElement("pre");
      value.textContent = JSON.stringify(r.value, null, 2);
      detail.replaceChildren("headers", headers, "value", value);
    });
  }
}

async function replay(dryRun) {
  const filter = dryRun ? dlqFilter() : state.dryRunFilter;
  const result = $("replay-result");
  result.className = "message";
  try {
    const body = await getJson("/api/dlq/replay", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filter, dryRun, rate: Number($("replay-rate").value) }),
    });
    const c = body.counts;
    const rest = `${c.invalid} still do not fit their schema`;
    if (dryRun) {
      result.textContent = `dry run: ${c.matched} matched; would replay ${c.replayed} and park ${c.parked}; ${rest}`;
      state.dryRunFilter = filter;
      const confirm = $("replay-confirm");
      confirm.hidden = c.replayed + c.parked === 0;
      confirm.textContent = `Replay ${c.replayed + c.parked} records`;
    } else {
      $("replay-confirm").hidden = true;
      state.dryRunFilter = undefined;
      await showDlq();
      result.textContent = `replayed ${c.replayed} into their group, parked ${c.parked}; ${rest}`;
    }
  } catch (error) {
    result.className = "message error";
    result.textContent = `replay failed: ${error.message}`;
  }
}

$("chart-group").addEventListener("change", (event) => {
  state.chartGroup = event.target.value;
  drawCharts();
});
$("dlq-filter").addEventListener("submit", (event) => {
  event.preventDefault();
  $("replay-confirm").hidden = true; // a confirmation is for the filter its dry run counted
  showDlq().catch((error) => {
    $("dlq-total").textContent = `cannot read the DLQ: ${error.message}`;
  });
});
$("replay-dry").addEventListener("click", () => replay(true));
$("replay-confirm").addEventListener("click", () => replay(false));

await refresh();
setInterval(refresh, POLL_MS);
showDlq().catch(() => {});
