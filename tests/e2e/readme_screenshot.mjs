// The README's picture of the console (docs/console.png), taken from a running `make run`.
//
//   KEY=<a REGULATOR or ADMIN key from .data/demo-api-keys.txt> node tests/e2e/readme_screenshot.mjs
//
// Optional: URL (default http://127.0.0.1:8000), SUBJECT (default: the demo world's
// showcase child, whose check reaches the dishonest shoe company through the household and
// its parent; see seeds.demo.DEMO_SHOWCASE), SEARCH (typed into the search box; default
// the subject's id), AREA (the check's area), DEPTH, OUT (default docs/console.png),
// CHROMIUM (default /usr/bin/chromium).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "console", "package.json"));
const { chromium } = require("playwright-core");

const env = process.env;
const url = env.URL ?? "http://127.0.0.1:8000";
const key = env.KEY;
const subject = env.SUBJECT ?? "330302201212100035"; // DEMO_SHOWCASE["child_id"]
const search = env.SEARCH ?? subject;
const area = env.AREA ?? "CONVENIENCE_SERVICES";
const depth = env.DEPTH ?? "3";
const out = path.resolve(env.OUT ?? path.join(root, "docs", "console.png"));
if (!key) {
  console.error("KEY=<a REGULATOR or ADMIN key> is required");
  process.exit(2);
}

const profile = mkdtempSync(path.join(tmpdir(), "creditlink-shot-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  viewport: { width: 1600, height: 960 },
  deviceScaleFactor: 1,
  locale: "zh-CN",
  timezoneId: "Asia/Shanghai",
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const idle = () =>
    page.waitForFunction(() => window.__console.idle(), null, { polling: 100 }).then(() => page.waitForTimeout(400));
  await page.goto(`${url}/console`);
  await page.waitForSelector("body[data-ready=true]");
  await page.fill("#key-input", key);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#key-status.good");
  await page.selectOption("#depth", depth);
  await page.fill("#search-q", search);
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector(`#search-results li.hit[data-id="${subject}"]`);
  await page.click(`#search-results li.hit[data-id="${subject}"]`);
  await page.waitForFunction((id) => window.__console.subject() === id, subject);
  await idle();
  await page.selectOption("#check-area", area);
  await page.click("#check-run");
  await page.waitForSelector("#decision");
  await idle();
  if (await page.isEnabled("#impact-run")) {
    await page.click("#impact-run");
    await page.waitForSelector("#impact-table");
    await idle();
  }
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
