// Drives GraphiQL (GET /graphql in a browser) in Debian's headless Chromium (browser.mjs)
// for tests/e2e/test_console.py, on a network that reaches the app's origin and nothing else.
//
// Its JSON argument adds {key, query, prefill: {q, variables, headers}} to browser.mjs's; it
// prints what was observed at each step on stdout, and pytest asserts on it.

import { begin, cfg, collectCspViolations, drive, fail, observed, shot, waitFor } from "./browser.mjs";

let page;
const posts = []; // every POST /graphql the page sent: {query, authorization, headers}

function sentQuery(request) {
  try {
    return JSON.parse(request.postData() ?? "{}").query ?? "";
  } catch {
    return "";
  }
}

async function editorText(selector) {
  return page.$eval(selector, (el) => el.querySelector(".view-lines")?.textContent ?? "");
}

/** Opens the IDE at `url` and waits until it has asked the server for the schema. */
async function openIde(url) {
  const introspected = page.waitForResponse(
    (r) => r.request().method() === "POST" && sentQuery(r.request()).includes("IntrospectionQuery"),
    { timeout: cfg.timeoutMs },
  );
  introspected.catch(() => {}); // awaited below: a step that fails first is the one reported
  const response = await page.goto(url, { waitUntil: "load" });
  try {
    await page.waitForSelector(".graphiql-query-editor .monaco-editor", { timeout: cfg.timeoutMs });
    await introspected;
  } catch (err) {
    fail(`the IDE did not start: ${err.message.split("\n")[0]}`);
  }
  return response;
}

/** Types into a Monaco editor as one paste (typing key by key meets its auto-closing brackets). */
async function fill(editor, text) {
  await page.click(editor);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
  await page.keyboard.press("Escape"); // closes a completion list, if one opened
}

async function main(opened) {
  page = opened;
  page.on("request", (req) => {
    if (req.method() !== "POST" || !req.url().endsWith("/graphql")) return;
    posts.push({ query: sentQuery(req), headers: req.headers() });
  });

  begin("load");
  const response = await openIde(`${cfg.url}/graphql`);
  const headers = response.headers();
  observed.steps.load = {
    status: response.status(),
    contentType: headers["content-type"] ?? null,
    csp: headers["content-security-policy"] ?? null,
    title: await page.title(),
  };
  await shot("01-graphiql");

  // a person pastes a key into the Headers tab and runs a query that needs it
  begin("run");
  await page.click(".graphiql-editor-tools button[data-name=headers]");
  const headerEditor = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
  await fill(headerEditor, JSON.stringify({ Authorization: `Bearer ${cfg.key}` }));
  await fill(".graphiql-query-editor .graphiql-editor", cfg.query);
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && sentQuery(r.request()) === cfg.query, {
    timeout: cfg.timeoutMs,
  });
  answered.catch(() => {});
  await page.click(".graphiql-execute-button");
  const answer = await answered;
  await waitFor("the response shown", () => document.querySelector(".graphiql-response .view-lines")?.textContent.includes("data"));
  observed.steps.run = {
    sent: posts.filter((p) => p.query === cfg.query).map((p) => p.headers.authorization ?? null),
    status: answer.status(),
    body: await answer.json(),
    headerEditor: await editorText(headerEditor),
  };
  await shot("02-query-run");

  // GraphiQL has filed the run in its history (which carries the headers): only then does
  // the absence of the key from the browser's storage mean anything
  begin("storage");
  await waitFor("the run in GraphiQL's history", () => window.__graphiql.memoryKeys().includes("graphiql:queries"));
  observed.steps.storage = await page.evaluate(() => ({
    memoryKeys: window.__graphiql.memoryKeys(),
    local: Object.entries(localStorage),
    session: Object.entries(sessionStorage),
  }));

  // a reload starts with an empty header editor: the key went nowhere
  begin("reload");
  await collectCspViolations();
  await openIde(`${cfg.url}/graphql`);
  await page.click(".graphiql-editor-tools button[data-name=headers]");
  observed.steps.reload = { headerEditor: await editorText(headerEditor), local: await page.evaluate(() => Object.keys(localStorage)) };

  // a link that tries to prefill the IDE: nothing of it is shown, sent or run
  begin("prefill");
  await collectCspViolations();
  posts.length = 0;
  const params = new URLSearchParams(cfg.prefill);
  await openIde(`${cfg.url}/graphql?${params}`);
  observed.steps.prefill = {
    posts: posts.map((p) => ({ query: p.query, headers: p.headers })),
    queryEditor: await editorText(".graphiql-query-editor .graphiql-editor"),
    url: page.url(),
  };
  await shot("03-prefill-ignored");
  await collectCspViolations();

  // `?query=` is the GraphQL-over-HTTP GET transport, not the IDE: answered as JSON, no POST
  begin("query-param");
  posts.length = 0;
  const direct = await page.goto(`${cfg.url}/graphql?query=${encodeURIComponent(cfg.prefill.q)}`, { waitUntil: "load" });
  observed.steps.queryParam = {
    status: direct.status(),
    contentType: direct.headers()["content-type"] ?? null,
    posts: posts.length,
    ide: (await page.$(".graphiql-container")) !== null,
  };
  if (observed.steps.queryParam.ide) fail("the IDE opened for ?query=");
}

await drive({ offline: true, locale: "en-US" }, main);
