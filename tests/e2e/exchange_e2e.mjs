// Drives the console's relayed entries and its Exchange view in Debian's headless Chromium
// (browser.mjs) for tests/e2e/test_console.py.
//
// Its JSON argument adds {key, subject?} to browser.mjs's: with `subject`, that subject's
// file is opened first and its entries read. It prints what was observed on stdout, and
// pytest asserts on it.

import { begin, cfg, collectCspViolations, drive, observed, shot, waitFor } from "./browser.mjs";

let page;

const idle = () => waitFor("the console idle", () => window.__console.idle());

async function useKey() {
  await page.fill("#key-input", cfg.key);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#key-status.good", { timeout: cfg.timeoutMs });
}

async function openSubject(id) {
  await page.fill("#search-q", id);
  await page.click("#search-form button[type=submit]");
  const hit = `#search-results li.hit[data-id="${id}"]`;
  await page.waitForSelector(hit, { timeout: cfg.timeoutMs });
  await page.click(hit);
  await waitFor(`the file of ${id}`, (sid) => window.__console.subject() === sid && window.__console.idle(), id);
}

function entries() {
  return page.$$eval("#file-sanctions li", (lis) =>
    lis.map((li) => ({
      id: li.dataset.sanction,
      origin: li.querySelector(".sanction-origin")?.textContent ?? null,
      city: li.querySelector(".sanction-origin .city")?.textContent ?? null,
      relayedFrom: li.querySelector(".sanction-origin .relayed")?.dataset.source ?? null,
      notRecognized: li.querySelector(".sanction-origin .not-recognized") != null,
    })),
  );
}

function exchangeView() {
  return page.evaluate(() => {
    const text = (el) => el?.textContent?.trim() ?? null;
    const cells = (tr) => Object.fromEntries([...tr.cells].map((td, i) => [td.classList[0] ?? String(i), td.textContent.trim()]));
    return {
      view: window.__console.view(),
      visible: !document.getElementById("exchange-view").hidden && document.querySelector("main.layout").hidden,
      jurisdiction: document.getElementById("exchange-identity")?.dataset.jurisdiction ?? null,
      identity: text(document.getElementById("exchange-identity")),
      publicKey: text(document.getElementById("exchange-public-key")),
      keyId: text(document.getElementById("exchange-key-id")),
      noSources: text(document.getElementById("exchange-no-sources")),
      noneKept: text(document.getElementById("exchange-none-kept")),
      error: text(document.getElementById("exchange-error")),
      sources: [...document.querySelectorAll("#exchange-sources tbody tr")].map((tr) => ({
        source: tr.dataset.source,
        failing: tr.classList.contains("failing"),
        errorHighlighted: tr.querySelector("td.last-error.error") != null,
        ...cells(tr),
      })),
      keptAside: [...document.querySelectorAll("#exchange-kept-aside tbody tr")].map((tr) => ({
        source: tr.dataset.source,
        event: tr.dataset.event,
        cells: [...tr.cells].map((td) => td.textContent.trim()),
      })),
    };
  });
}

async function main(opened) {
  page = opened;

  begin("load");
  await page.goto(`${cfg.url}/console`, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", { timeout: cfg.timeoutMs });
  observed.steps.load = { city: await page.textContent("#local-city") };

  begin("key");
  await useKey();

  if (cfg.subject) {
    // the subject's file: each entry says where it comes from, local ones nothing
    begin("entries");
    await openSubject(cfg.subject);
    observed.steps.entries = {
      entries: await entries(),
      impactOptions: await page.$$eval("#impact-sanction option", (os) => os.map((o) => ({ id: o.value, text: o.textContent }))),
    };
    await shot("01-relayed-entries");
  }

  // the Exchange tab: this instance's key, its sources and the events kept aside
  begin("exchange");
  await page.click("#tab-exchange");
  await page.waitForSelector("#exchange-identity, #exchange-error", { timeout: cfg.timeoutMs });
  await idle();
  observed.steps.exchange = { ...(await exchangeView()), hash: await page.evaluate(() => location.hash) };
  await shot(cfg.subject ? "02-exchange" : "01-exchange-empty");

  begin("copy");
  await page.click("#exchange-copy-key");
  await waitFor("the key copied", () => document.querySelector("#exchange-identity .copied")?.textContent !== "");
  observed.steps.copy = {
    said: await page.textContent("#exchange-identity .copied"),
    clipboard: await page.evaluate(() => navigator.clipboard.readText()),
  };

  // back to the subjects: the file open before is still there, the graph drawn
  begin("back");
  await page.click("#tab-subjects");
  await waitFor("the subjects' view", () => window.__console.view() === "subjects");
  observed.steps.back = await page.evaluate(() => ({
    visible: !document.querySelector("main.layout").hidden && document.getElementById("exchange-view").hidden,
    subject: window.__console.subject(),
    hash: location.hash,
    graphWidth: document.getElementById("graph").getBoundingClientRect().width,
  }));

  await collectCspViolations();
}

await drive({ locale: "zh-CN", timezoneId: "Asia/Shanghai", permissions: ["clipboard-read", "clipboard-write"] }, main);
