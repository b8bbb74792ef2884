// Drives headless Chromium (Debian's, never a downloaded one) through the ops dashboard.
// Usage: node dashboard.mjs <base-url> <out-dir>; credentials in ADMIN_USER/ADMIN_PASSWORD and
// VIEWER_USER/VIEWER_PASSWORD. Prints one JSON line of findings; exits 1 on the first failed check.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(process.env.PLAYWRIGHT_CORE || import.meta.url);
const { chromium } = require("playwright-core");
const [base, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const findings = { checks: [], console: [] };
const check = (ok, what, detail) => {
  findings.checks.push({ ok, what, detail });
  if (!ok) throw new Error(`${what}: ${JSON.stringify(detail)}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // The machine has no network beyond loopback: without these Chromium hangs on its own connections.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  // No --user-data-dir here: playwright refuses it in launch() and gives each launch a new empty one.
});

async function session(user, password) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") findings.console.push(`${user}: ${m.text()} ${m.location().url || ""}`); });
  page.on("pageerror", (e) => findings.console.push(`${user}: ${e.message}`));
  await page.goto(`${base}/`);
  check(page.url().endsWith("/login"), "anonymous visitors are sent to the login page", page.url());
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  return { context, page };
}

const chartPoints = (page) => page.evaluate(() => Object.fromEntries(
  ["funnel-chart", "speed-chart", "reps-chart"].map((id) => {
    const chart = window.Chart && Chart.getChart(document.getElementById(id));
    return [id, chart ? chart.data.datasets[0].data.reduce((a, b) => a + (+b || 0), 0) : -1];
  })));

try {
  // Admin: the board goes live without a reload, every chart draws data, emails unmasked.
  const admin = await session(process.env.ADMIN_USER, process.env.ADMIN_PASSWORD);
  const page = admin.page;
  await page.evaluate(() => { window.__noReload = "still-here"; });
  const first = await page.evaluate(() => ({ version: +document.body.dataset.boardVersion,
    kpis: document.getElementById("kpis").innerText, board: document.getElementById("board").innerText }));
  await page.waitForFunction((before) => {
    const kpis = document.getElementById("kpis").innerText, board = document.getElementById("board").innerText;
    return +document.body.dataset.boardVersion > before.version + 1 && (kpis !== before.kpis || board !== before.board);
  }, first, { timeout: 60000 });
  check(await page.evaluate(() => window.__noReload) === "still-here", "the SLA board updated without a reload", first);
  await page.waitForFunction(() => ["funnel-chart", "speed-chart", "reps-chart"].every((id) => {
    const chart = window.Chart && Chart.getChart(document.getElementById(id));
    return chart && chart.data.datasets[0].data.some((v) => +v > 0);
  }), null, { timeout: 60000 });
  const points = await chartPoints(page);
  check(Object.values(points).every((v) => v > 0), "every chart renders with data", points);
  await page.waitForFunction(() => document.querySelectorAll("#timeline li").length > 0, null, { timeout: 30000 });
  const rows = await page.locator("#board tr[data-lead]").count();
  check(rows > 0, "the SLA board lists running clocks", rows);
  const adminText = await page.locator("#board").innerText();
  check(/[a-z0-9.]+@[a-z0-9.-]+\.example/.test(adminText) && !adminText.includes("•••@"), "an admin sees emails", adminText.slice(0, 200));
  await page.screenshot({ path: join(out, "dashboard-admin.png"), fullPage: true });

  // Viewer: the same page, emails masked (board, lead picker, timeline header).
  const viewer = await session(process.env.VIEWER_USER, process.env.VIEWER_PASSWORD);
  const vpage = viewer.page;
  check(await vpage.locator("#role").innerText() === "viewer", "the viewer's role is shown", null);
  await vpage.waitForFunction(() => document.querySelectorAll("#timeline li").length > 0, null, { timeout: 30000 });
  const seen = await vpage.evaluate(() => [document.getElementById("board").innerText,
    document.getElementById("lead-pick").innerText, document.getElementById("lead-head").innerText].join("\n"));
  check(seen.includes("•••@") && !/[a-z0-9]{2,}[a-z0-9.]*@[a-z0-9.-]+\.example/.test(seen), "a viewer sees masked emails", seen.slice(0, 300));
  await vpage.screenshot({ path: join(out, "dashboard-viewer.png"), fullPage: true });
  await vpage.setViewportSize({ width: 1366, height: 768 });
  await vpage.screenshot({ path: join(out, "dashboard-laptop-1366.png") });
  check(findings.console.length === 0, "the console shows no errors", findings.console);
  await browser.close();
  console.log(JSON.stringify(findings));
} catch (error) {
  findings.error = String(error && error.stack || error);
  try { await browser.close(); } catch { /* already gone */ }
  console.log(JSON.stringify(findings));
  process.exit(1);
}
