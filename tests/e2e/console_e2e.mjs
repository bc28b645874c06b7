// Drives the console in Debian's headless Chromium (browser.mjs) for tests/e2e/test_console.py.
//
// Its JSON argument adds {key, weakKey, ids: {...}} to browser.mjs's; it prints what was
// observed at each step on stdout, and pytest asserts on it.

import { begin, cfg, collectCspViolations, drive, fail, observed, shot, waitFor } from "./browser.mjs";

let page;

/** The console's own view of itself (window.__console), for assertions. */
function snapshot() {
  return page.evaluate(() => {
    const c = window.__console;
    const check = c.check();
    return {
      subject: c.subject(),
      graph: c.graph(),
      decision: check ? check.decision : null,
      measures: check
        ? check.measures.map((m) => ({
            id: m.measure.id,
            role: m.role,
            suppressed: m.suppressed,
            legalBasis: m.measure.legalBasis,
            path: m.path,
          }))
        : [],
      impact: (c.impact() ?? []).map((r) => ({ id: r.subject.id, role: r.role, areas: r.areas })),
      dataset: { ...document.getElementById("graph").dataset },
      grade: document.querySelector("#rating")?.dataset.grade ?? null,
      band: document.querySelector("#integrity")?.dataset.band ?? null,
      evaluation: [...document.querySelectorAll("#evaluation > *")].map((e) => e.id || e.textContent),
    };
  });
}

const hasNode = (id) =>
  waitFor(`node ${id} on the graph`, (nid) => window.__console.idle() && window.__console.graph().nodes.some((n) => n.id === nid), id);

async function openFromSearch(query, id) {
  await page.fill("#search-q", query);
  await page.click("#search-form button[type=submit]");
  const hit = `#search-results li.hit[data-id="${id}"]`;
  await page.waitForSelector(hit, { timeout: cfg.timeoutMs });
  observed.steps[`search:${query}`] = await page.$$eval("#search-results li.hit", (lis) => lis.map((li) => li.dataset.id));
  await page.click(hit);
  await waitFor(`the file of ${id}`, (sid) => window.__console.subject() === sid && window.__console.idle(), id);
}

async function clickNode(id, double = false) {
  const pos = await page.evaluate((nid) => window.__console.nodePosition(nid), id);
  if (!pos) fail(`node ${id} is not drawn`);
  if (double) await page.mouse.dblclick(pos.x, pos.y);
  else await page.mouse.click(pos.x, pos.y);
}

async function main(opened) {
  const { ids } = cfg;
  page = opened;

  begin("load");
  const response = await page.goto(`${cfg.url}/console`, { waitUntil: "load" });
  observed.steps.load = { status: response.status(), csp: response.headers()["content-security-policy"] ?? null };
  await page.waitForSelector("body[data-ready=true]", { timeout: cfg.timeoutMs });

  begin("key");
  // a key of a role below REGULATOR is told so; then the regulator's key
  await page.fill("#key-input", cfg.weakKey);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#key-status.bad", { timeout: cfg.timeoutMs });
  const weak = await page.textContent("#key-status");
  await page.fill("#key-input", cfg.key);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#key-status.good", { timeout: cfg.timeoutMs });
  observed.steps.key = await page.evaluate(() => ({
    stored: sessionStorage.getItem("creditlink.console.key"),
    listTypes: document.querySelectorAll("#preview-list option").length,
  }));
  observed.steps.key.weak = weak;

  // 1. search by Chinese name → open the company → its legal representative is on the graph
  begin("company");
  await page.selectOption("#depth", "1");
  await openFromSearch("瓯江鞋业", ids.company);
  await hasNode(ids.laterRep);
  observed.steps.company = {
    ...(await snapshot()),
    fileName: await page.textContent("#file-name"),
    sanctions: await page.$$eval("#file-sanctions li", (lis) => lis.map((li) => ({ id: li.dataset.sanction, status: li.dataset.status }))),
  };
  await shot("01-company-graph");

  // 2. click a node on the canvas → it is expanded with its own related parties
  begin("expand");
  await clickNode(ids.chair);
  await hasNode(ids.otherCompany);
  observed.steps.expand = { ...(await snapshot()), card: await page.getAttribute("#node-card", "data-id") };
  await shot("02-expanded");

  // 3. search by code → open the child → check → the explanation path is highlighted
  begin("check");
  await page.click("#node-card .close");
  await openFromSearch(ids.child, ids.child);
  await hasNode(ids.household);
  await page.selectOption("#check-area", "CONVENIENCE_SERVICES");
  await page.click("#check-run");
  await page.waitForSelector("#decision[data-decision]", { timeout: cfg.timeoutMs });
  await waitFor("the path highlighted", () => window.__console.idle() && window.__console.graph().highlightedEdges.length > 0);
  observed.steps.check = {
    ...(await snapshot()),
    decisionText: await page.textContent("#decision"),
    measureItems: await page.$$eval("#check-measures li", (lis) => lis.map((li) => li.dataset.measure)),
    legalText: await page.$$eval("#check-measures .legal", (els) => els.map((e) => e.textContent)),
  };
  await shot("03-check-path");

  // 4. double-click the sanctioned company on the graph → its file → impact and a what-if preview
  begin("impact");
  await clickNode(ids.company, true);
  await waitFor("the company's file", (sid) => window.__console.subject() === sid && window.__console.idle(), ids.company);
  await page.waitForSelector("#impact-run:not([disabled])", { timeout: cfg.timeoutMs });
  await page.click("#impact-run");
  await page.waitForSelector("#impact-table tbody tr", { timeout: cfg.timeoutMs });
  observed.steps.impact = {
    ...(await snapshot()),
    rows: await page.$$eval("#impact-table tbody tr", (trs) => trs.map((tr) => ({ id: tr.dataset.subject, role: tr.dataset.role }))),
    areas: await page.$$eval("#impact-areas .chip", (els) => els.map((e) => e.textContent)),
  };
  await shot("04-impact");

  begin("preview");
  await page.selectOption("#preview-list", "SAMR_SERIOUS_ILLEGAL");
  await page.click("#preview-run");
  await waitFor("the preview", () => document.querySelector(".impact-title")?.textContent.includes("假如"));
  observed.steps.preview = {
    rows: await page.$$eval("#impact-table tbody tr", (trs) => trs.map((tr) => ({ id: tr.dataset.subject, role: tr.dataset.role }))),
  };
  await page.click("#impact-result button.link");
  await waitFor("impact on the graph", () => window.__console.idle() && window.__console.graph().highlightedNodes.length > 1);
  observed.steps.previewGraph = await snapshot();
  await shot("05-preview");

  await collectCspViolations();
}

await drive({ locale: "zh-CN", timezoneId: "Asia/Shanghai" }, main);
