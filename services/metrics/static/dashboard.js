// LeadRelay ops dashboard: keeps the server-rendered page live by polling the metrics API
// (the board every 2 s, the charts every 5 s). Text goes in with textContent, never innerHTML.
"use strict";
(() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const BAND_COLORS = ["#16a34a", "#84cc16", "#d97706", "#dc2626"];
  let boardVersion = 0;

  const el = (tag, text, cls) => {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + " %");
  const duration = (s) => {
    if (s === null || s === undefined) return "–";
    const sign = s < 0 ? "-" : "", abs = Math.abs(s), h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60);
    return h ? `${sign}${h}h ${String(m).padStart(2, "0")}m` : `${sign}${m}m`;
  };
  const time = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "–");

  function scopeParams() {
    const params = new URLSearchParams();
    params.set("period", $("period").value);
    if ($("source").value) params.set("source", $("source").value);
    return params;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 401) { window.location.assign("/login"); throw new Error("signed out"); }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  // --- SLA board ----------------------------------------------------------------------------
  function renderBoard(board) {
    for (const node of document.querySelectorAll("[data-kpi]")) node.textContent = board.counts[node.dataset.kpi] ?? 0;
    const rows = board.clocks.map((c) => {
      const state = c.status === "breached" ? "breached" : c.due_soon ? "due" : c.status;
      const tr = el("tr"); tr.className = `st-${state}`; tr.dataset.lead = c.lead_id;
      const who = el("td", c.name || ""); who.appendChild(el("br")); who.appendChild(el("span", c.email || "", "muted"));
      const owner = el("td", c.rep_id || "–"); owner.appendChild(el("br")); owner.appendChild(el("span", c.team, "muted"));
      const pill = el("td"); pill.appendChild(el("span", state, `pill ${state}`));
      tr.append(who, owner, el("td", c.policy), el("td", duration(c.business_seconds_left), "num"), pill,
        el("td", c.escalations || "", "num"));
      return tr;
    });
    if (!rows.length) { const tr = el("tr"); const td = el("td", "No running SLA clocks.", "muted"); td.colSpan = 6; tr.appendChild(td); rows.push(tr); }
    $("board").replaceChildren(...rows);
    $("by-rep").replaceChildren(...board.by_rep.map((r) => {
      const tr = el("tr");
      tr.append(el("td", r.rep_id || `${r.team} queue`), el("td", r.open, "num"), el("td", r.breached, "num"),
        el("td", time(r.next_due), "num"));
      return tr;
    }));
    boardVersion += 1;
    document.body.dataset.boardVersion = String(boardVersion);
    document.body.dataset.boardAsOf = board.as_of;
    $("updated").textContent = "updated " + new Date(board.as_of).toLocaleTimeString();
  }

  async function refreshBoard() {
    try {
      renderBoard(await getJson("/v1/dashboard/board"));
      $("live").classList.remove("stale");
    } catch (error) {
      $("live").classList.add("stale");
      $("updated").textContent = "reconnecting…";
    }
  }

  // --- charts -------------------------------------------------------------------------------
  function upsertChart(id, config) {
    if (charts[id]) {
      charts[id].data.labels = config.data.labels;
      config.data.datasets.forEach((ds, i) => {
        if (charts[id].data.datasets[i]) Object.assign(charts[id].data.datasets[i], ds);
        else charts[id].data.datasets.push(ds);
      });
      charts[id].update("none");
      return;
    }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    charts[id] = new Chart($(id), config);
  }

  function drawFunnel(f) {
    const steps = f.steps.filter((s) => s.stage !== "captured" || s.reached > 0);
    upsertChart("funnel-chart", {
      type: "bar",
      data: {
        labels: steps.map((s) => `${s.label} · ${s.conversion_from_previous === null ? "" : pct(s.conversion_from_previous)}`),
        datasets: [{ label: "leads reached", data: steps.map((s) => s.reached), backgroundColor: "#3b82f6" }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false },
        tooltip: { callbacks: { afterLabel: (ctx) => "step conversion " + pct(steps[ctx.dataIndex].conversion_from_previous) } } } },
    });
    $("funnel-note").textContent = `${f.total} leads · ${f.scope.cohort}`;
  }

  function drawSpeed(r) {
    const bands = Object.keys(r.bands);
    upsertChart("speed-chart", {
      type: "bar",
      data: {
        labels: bands.map((b) => `${b} min`),
        datasets: [{ label: "first touches", data: bands.map((b) => r.bands[b]), backgroundColor: BAND_COLORS }],
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const s = r.speed_to_lead;
    const fmt = (v) => (v === null ? "–" : v.toFixed(1));
    $("speed-note").textContent = `P50 ${fmt(s.p50)} · P90 ${fmt(s.p90)} · P99 ${fmt(s.p99)} min · SLA met ${pct(r.sla_compliance)}`;
  }

  function drawReps(body) {
    const reps = body.reps.filter((r) => r.active || r.assigned > 0);
    upsertChart("reps-chart", {
      type: "bar",
      data: {
        labels: reps.map((r) => `${r.name} (${r.team})`),
        datasets: [
          { label: "share of assigned", data: reps.map((r) => +(100 * r.share).toFixed(1)), backgroundColor: "#3b82f6" },
          { label: "share by weight", data: reps.map((r) => +(100 * r.expected_share).toFixed(1)), backgroundColor: "#cbd5e1" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: (v) => v + " %" } } },
        plugins: { tooltip: { callbacks: { afterLabel: (ctx) => `${reps[ctx.dataIndex].assigned} leads assigned` } } } },
    });
  }

  async function refreshCharts() {
    const params = scopeParams();
    for (const [id, path] of [["funnel-csv", "/v1/funnel"], ["speed-csv", "/v1/response-times"], ["reps-csv", "/v1/dashboard/reps"]]) {
      $(id).href = `${path}?${params}&format=csv`;
    }
    try {
      const [funnel, speed, reps] = await Promise.all([
        getJson(`/v1/funnel?${params}`), getJson(`/v1/response-times?${params}`), getJson(`/v1/dashboard/reps?${params}`),
      ]);
      drawFunnel(funnel); drawSpeed(speed); drawReps(reps);
      document.body.dataset.chartsVersion = String(Number(document.body.dataset.chartsVersion || 0) + 1);
    } catch (error) {
      $("live").classList.add("stale");
    }
  }

  async function loadSources() {
    try {
      const funnel = await getJson("/v1/funnel?by=source");
      const keep = $("source").value;
      const options = [el("option", "All sources")];
      options[0].value = "";
      for (const g of funnel.groups || []) {
        if (g.key === null) continue;
        const option = el("option", `${g.key} (${g.total})`); option.value = g.key; options.push(option);
      }
      $("source").replaceChildren(...options);
      $("source").value = keep;
    } catch (error) { /* the filter keeps "All sources" */ }
  }

  // --- lead timeline ------------------------------------------------------------------------
  async function showLead(leadId) {
    if (!leadId) return;
    try {
      const body = await getJson(`/v1/dashboard/leads/${encodeURIComponent(leadId)}`);
      const c = body.contact, t = body.timeline;
      $("lead-head").textContent = `${c.name || ""} ${c.email || ""} · ${t.source || "?"} · owner ${t.rep_id || "–"} (${t.team || "no team"})`;
      $("timeline").replaceChildren(...t.entries.map((e) => {
        const li = el("li", null, e.category);
        li.appendChild(el("b", e.type));
        li.appendChild(el("span", ` ${time(e.at)}${e.rep_id ? " → " + e.rep_id : ""}${e.reason ? " · " + e.reason : ""}`, "muted"));
        if (e.reasons.length) {
          const ul = el("ul", null, "reasons");
          for (const r of e.reasons) ul.appendChild(el("li", r.message));
          li.appendChild(ul);
        }
        return li;
      }));
    } catch (error) {
      $("lead-head").textContent = "No timeline for this lead yet.";
    }
  }

  async function loadLeads() {
    try {
      const leads = await getJson("/v1/dashboard/leads?limit=25");
      const pick = $("lead-pick"), keep = pick.value;
      const options = [el("option", "pick a recent lead…")];
      options[0].value = "";
      for (const l of leads) { const o = el("option", `${l.email || l.lead_id} · ${l.source}`); o.value = l.lead_id; options.push(o); }
      pick.replaceChildren(...options);
      pick.value = keep;
      if (!keep && leads.length) { pick.value = leads[0].lead_id; showLead(leads[0].lead_id); }
    } catch (error) { /* retried on the next tick */ }
  }

  $("lead-pick").addEventListener("change", (e) => showLead(e.target.value));
  $("board").addEventListener("click", (e) => { const tr = e.target.closest("tr[data-lead]"); if (tr) showLead(tr.dataset.lead); });
  $("period").addEventListener("change", refreshCharts);
  $("source").addEventListener("change", refreshCharts);

  renderBoard(boot.board);
  loadSources(); refreshCharts(); loadLeads();
  setInterval(refreshBoard, 2000);
  setInterval(refreshCharts, 5000);
  setInterval(loadLeads, 15000);
})();
