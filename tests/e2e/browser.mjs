// What the browser drivers share: Debian's headless Chromium under playwright-core (from
// console/node_modules), a record of every request to another host, of console and page
// errors and of CSP violations, and the run that prints one JSON object for pytest.
//
// A driver is called with one JSON argument holding at least
//   {url, artifacts, chromium, consoleDir, userDataDir, timeoutMs}
// and prints {steps, timings, foreignRequests, consoleErrors, pageErrors, cspViolations,
// seconds, failed}. A step that never reaches its condition fails, with a screenshot.

import { createRequire } from "node:module";
import path from "node:path";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

export const cfg = JSON.parse(process.argv[2]);
const require = createRequire(path.join(cfg.consoleDir, "package.json"));
const { chromium } = require("playwright-core");

export const observed = { steps: {}, timings: {}, foreignRequests: [], consoleErrors: [], pageErrors: [], cspViolations: [] };
const started = Date.now();
let page;
let context;
let step = "launch";
let stepStarted = started;

export function begin(name) {
  observed.timings[step] = (Date.now() - stepStarted) / 1000;
  step = name;
  stepStarted = Date.now();
}

export function shot(name) {
  return page.screenshot({ path: path.join(cfg.artifacts, `${name}.png`) });
}

export async function waitFor(description, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: cfg.timeoutMs, polling: 100 });
  } catch (err) {
    throw new Error(`step ${step}: timed out waiting for ${description}: ${err.message.split("\n")[0]}`);
  }
}

export function fail(message) {
  throw new Error(`step ${step}: ${message}`);
}

/** The browser's one page, watched. `offline`: requests to any other origin are refused. */
async function open({ offline = false, ...options }) {
  context = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: cfg.chromium,
    headless: true,
    args: ARGS,
    viewport: { width: 1600, height: 960 },
    ...options,
  });
  const origin = new URL(cfg.url).origin;
  const foreign = (u) => !u.startsWith(origin) && !u.startsWith("data:");
  if (offline) {
    // a network with no way out, as a government LAN without a CDN
    await context.route("**/*", (route) => (foreign(route.request().url()) ? route.abort("blockedbyclient") : route.continue()));
  }
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (req) => {
    if (foreign(req.url())) observed.foreignRequests.push(req.url());
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") observed.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => observed.pageErrors.push(String(err)));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return page;
}

/** The CSP violations the current document has seen (read before navigating away). */
export async function collectCspViolations() {
  observed.cspViolations.push(...(await page.evaluate(() => window.__csp ?? [])));
}

/** Opens the browser, runs `main(page)`, prints what was observed and exits. */
export async function drive(options, main) {
  let failed = null;
  try {
    await main(await open(options));
  } catch (err) {
    failed = String(err && err.stack ? err.stack : err);
    if (page) await shot(`failed-${step}`).catch(() => {});
  } finally {
    begin("done");
    observed.seconds = (Date.now() - started) / 1000;
    if (context) await context.close().catch(() => {});
  }
  observed.failed = failed;
  process.stdout.write(JSON.stringify(observed));
  process.exit(failed ? 1 : 0);
}
