// The regulator's console: search → credit file → related-party graph → check → impact;
// and, as a second view, the exchange with partner cities.

import "./style.css";
import {
  ApiError,
  fetchSubject,
  fetchSubjects,
  getKey,
  gql,
  listTypes,
  onBusy,
  runCheck,
  sanctionImpact,
  sanctionImpactPreview,
  searchSubjects,
  setKey,
  type CheckResult,
  type ImpactedSubject,
  type ListTypeRef,
  type PathStep,
  type SanctionRow,
  type SubjectRow,
} from "./api";
import { $, bi, chip, clear, h } from "./dom";
import { RelatedGraph, type GEdge, type GNode } from "./graph";
import {
  AREA,
  AREAS,
  DECISION,
  EFFECT,
  INDUSTRY,
  KIND,
  LIST_KIND,
  RELATION,
  ROLE,
  STATUS,
  cityTime,
  district,
  en,
  zh,
} from "./labels";
import { fetchEvaluation } from "./evaluation";
import { exchangeFailure, fetchExchange, renderExchange, type ExchangeStatus } from "./exchange";
import { cityName, isForeign, loadJurisdictions, localJurisdiction } from "./jurisdictions";
import { fetchRelated, relatedAvailable } from "./related";

interface ConsoleState {
  subject: SubjectRow | null;
  depth: number;
  check: CheckResult | null;
  impact: ImpactedSubject[] | null;
  expanded: Set<string>;
  listTypes: ListTypeRef[];
  searchAfter: string | null;
  layouts: number;
  view: "subjects" | "exchange";
  exchange: ExchangeStatus | null;
}

const state: ConsoleState = {
  subject: null,
  depth: 2,
  check: null,
  impact: null,
  expanded: new Set(),
  listTypes: [],
  searchAfter: null,
  layouts: 0,
  view: "subjects",
  exchange: null,
};

let busy = 0;
onBusy((n) => {
  busy = n;
  document.body.dataset.busy = String(n + state.layouts);
  $("#busy").textContent = n > 0 ? "加载中… loading" : "";
});

const graph = new RelatedGraph($("#graph"), (id) => void onNodeTap(id), (id) => void openSubject(id));

// ---- feedback ------------------------------------------------------------------------

let toastTimer: number | undefined;
function toast(message: string, kind: "error" | "info" = "error"): void {
  const el = $("#toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (el.hidden = true), 6000);
}

function explain(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "UNAUTHENTICATED") return `需要有效的 API 密钥 — ${err.message}`;
    if (err.code === "FORBIDDEN") return `当前密钥无权访问 (需 REGULATOR 或 ADMIN) — ${err.message}`;
    return `${err.code}: ${err.message}`;
  }
  return String(err);
}

async function guarded<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    console.error(err);
    toast(explain(err));
    return undefined;
  }
}

// ---- the key ---------------------------------------------------------------------------

function initKey(): void {
  const input = $("#key-input") as HTMLInputElement;
  input.value = getKey();
  showKeyStatus();
  $("#key-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    setKey(input.value.trim());
    void verifyKey();
  });
}

function showKeyStatus(text?: string, ok?: boolean): void {
  const el = $("#key-status");
  el.textContent = text ?? (getKey() ? "已保存 saved" : "未设置 not set");
  el.className = `key-status ${ok === false ? "bad" : ok ? "good" : ""}`;
}

async function verifyKey(): Promise<void> {
  if (!getKey()) {
    showKeyStatus("未设置 not set", false);
    return;
  }
  try {
    // unknown keys are refused even for public fields; a PUBLIC-only call proves the key exists
    await gql<unknown>("{ jurisdictions { id } }");
    try {
      // the console's own work (search, graph, impact) is for REGULATOR and ADMIN keys
      await gql<unknown>(`{ searchSubjects(query: "温州", first: 1) { edges { cursor } } }`);
    } catch (err) {
      if (err instanceof ApiError && err.code === "FORBIDDEN") {
        showKeyStatus("权限不足 needs REGULATOR / ADMIN", false);
        return;
      }
      if (!(err instanceof ApiError && err.missingField)) throw err;
    }
    showKeyStatus("已保存 saved ✓", true);
    if (state.listTypes.length === 0) await loadListTypes();
    await loadCities();
    if (state.view === "exchange") void loadExchange();
  } catch (err) {
    showKeyStatus("无效 invalid", false);
    toast(explain(err));
  }
}

// ---- search --------------------------------------------------------------------------

const ID_LIKE = /^[0-9A-HJ-NP-RTUWXY]{18}$/i;

function initSearch(): void {
  $("#search-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    state.searchAfter = null;
    void runSearch(false);
  });
  $("#search-more").addEventListener("click", () => void runSearch(true));
}

async function runSearch(more: boolean): Promise<void> {
  const q = ($("#search-q") as HTMLInputElement).value.trim();
  const kind = ($("#search-kind") as HTMLSelectElement).value || null;
  const list = $("#search-results");
  if (!q) return;
  if (!more) clear(list);
  try {
    const page = await searchSubjects(q, kind, more ? state.searchAfter : null);
    state.searchAfter = page.endCursor;
    ($("#search-more") as HTMLButtonElement).hidden = !page.hasNextPage;
    for (const hit of page.hits) list.appendChild(searchItem(hit));
    if (!more && page.hits.length === 0) {
      list.appendChild(h("li", { class: "empty" }, "无结果 ", h("small", null, "no match")));
    }
  } catch (err) {
    if (err instanceof ApiError && err.missingField && ID_LIKE.test(q)) {
      // a server without searchSubjects: open an exact id directly
      const row = await guarded(() => fetchSubject(q.toUpperCase()));
      if (row) list.appendChild(searchItem({ ...row, sanctions: [] }));
      return;
    }
    toast(explain(err));
  }
}

function searchItem(hit: {
  id: string;
  kind: string;
  name: string;
  district: string | null;
  sanctions?: { listType: { kind: string } }[];
}): HTMLLIElement {
  const kinds = new Set((hit.sanctions ?? []).map((s) => s.listType.kind));
  const li = h(
    "li",
    { class: "hit", "data-id": hit.id, tabindex: 0 },
    h("div", { class: "hit-name" }, hit.name, kinds.has("BLACK") ? chip("失信", "black") : null,
      kinds.has("WATCH") ? chip("关注", "watch") : null, kinds.has("RED") ? chip("红名单", "red") : null),
    h("div", { class: "hit-meta" }, zh(KIND, hit.kind), " · ", district(hit.district), " · ", h("code", null, hit.id)),
  );
  const open = (): void => void openSubject(hit.id);
  li.addEventListener("click", open);
  li.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") open();
  });
  return li;
}

// ---- a subject -----------------------------------------------------------------------

async function openSubject(id: string): Promise<void> {
  const row = await guarded(() => fetchSubject(id));
  if (row === undefined) return;
  if (row === null) {
    toast(`未登记的主体 not registered: ${id}`, "info");
    return;
  }
  state.subject = row;
  state.check = null;
  state.impact = null;
  state.expanded = new Set();
  for (const li of document.querySelectorAll<HTMLElement>("#search-results li.hit")) {
    li.classList.toggle("active", li.dataset.id === id);
  }
  if (location.hash !== `#/subject/${id}`) history.replaceState(null, "", `#/subject/${id}`);
  renderFile(row);
  clear($("#check-result"));
  clear($("#impact-result"));
  ($("#check-run") as HTMLButtonElement).disabled = false;
  ($("#preview-run") as HTMLButtonElement).disabled = state.listTypes.length === 0;
  fillSanctionSelect(row.sanctions ?? []);
  hideNodeCard();
  await Promise.all([loadGraph(row), loadEvaluation(row)]);
}

function renderFile(s: SubjectRow): void {
  const sanctions = s.sanctions ?? [];
  const facts: [string, string, string | null | undefined][] = [
    ["类型", "kind", `${zh(KIND, s.kind)} ${en(KIND, s.kind)}`],
    [s.kind === "PERSON" ? "身份证号" : "统一社会信用代码", s.kind === "PERSON" ? "resident ID" : "USCC", s.id],
    ["所在区县", "district", district(s.district)],
  ];
  if (s.industry !== undefined) facts.push(["行业", "industry", s.industry ? `${INDUSTRY[s.industry] ?? ""} ${s.industry}` : null]);
  if (s.status !== undefined) facts.push(["登记状态", "status", s.status]);
  if (s.establishedOn !== undefined) facts.push(["成立日期", "established", s.establishedOn]);
  if (s.registeredCapital != null) facts.push(["注册资本", "capital", `${s.registeredCapital} 万元`]);
  if (s.birthDate !== undefined) facts.push(["出生日期", "born", s.birthDate]);
  clear(
    $("#file"),
    h("div", { class: "file-head" }, h("h3", { id: "file-name" }, s.name), kindBadge(s.kind)),
    h("dl", { class: "facts" }, facts.map(([z, e, v]) => [h("dt", null, bi(z, e)), h("dd", null, v ?? "—")])),
    h("h4", { class: "bi" }, `惩戒与激励记录 (${sanctions.length})`, h("small", null, "list entries")),
    sanctions.length === 0
      ? h("p", { class: "hint" }, "无记录 ", h("small", null, "none"))
      : h("ul", { class: "sanctions", id: "file-sanctions" }, sanctions.map(sanctionItem)),
    h("h4", { class: "bi" }, "信用评价", h("small", null, "evaluation")),
    h("div", { id: "evaluation", class: "evaluation" }, h("p", { class: "hint" }, "…")),
  );
}

function kindBadge(kind: string): HTMLSpanElement {
  return chip(zh(KIND, kind), `kind ${kind.toLowerCase()}`, en(KIND, kind));
}

function sanctionItem(s: SanctionRow): HTMLLIElement {
  return h(
    "li",
    { class: `sanction ${s.listType.kind.toLowerCase()}`, "data-sanction": s.id, "data-status": s.status },
    h(
      "div",
      { class: "sanction-head" },
      chip(zh(LIST_KIND, s.listType.kind), s.listType.kind.toLowerCase(), en(LIST_KIND, s.listType.kind)),
      h("strong", null, s.listType.name),
      chip(zh(STATUS, s.status), `status ${s.status.toLowerCase()}`, en(STATUS, s.status)),
      s.recognized ? null : chip("未互认", "status revoked", "not recognised here"),
    ),
    h(
      "div",
      { class: "sanction-meta" },
      h("span", null, "决定 ", h("small", null, "decided "), s.decidedOn),
      h("span", null, "有效期 ", h("small", null, "valid "), `${s.validFrom} – ${s.validTo ?? "长期"}`),
      s.liftedAt ? h("span", null, "移出 ", h("small", null, "lifted "), s.liftedAt.slice(0, 10)) : null,
    ),
    h("div", { class: "sanction-meta" }, s.issuer.name, " · ", s.documentNo),
    origin(s),
    h("div", { class: "sanction-reason" }, s.reason),
  );
}

/** Where an entry comes from, when not from here: the city, the platform it was relayed
 * from (with its id there), and whether it applies here at all. Nothing for a local entry. */
function origin(s: SanctionRow): HTMLElement | null {
  const foreign = isForeign(s.jurisdiction);
  if (!foreign && !s.source && s.recognized) return null;
  return h(
    "div",
    { class: "sanction-origin", "data-jurisdiction": s.jurisdiction },
    foreign ? h("span", { class: "city" }, "来自 ", h("small", null, "from "), cityName(s.jurisdiction)) : null,
    s.source
      ? h(
          "span",
          { class: "relayed", "data-source": s.source.jurisdiction },
          "转自 ",
          h("small", null, "relayed from "),
          cityName(s.source.jurisdiction),
          ` (id there: ${s.source.sourceId}, received ${cityTime(s.source.receivedAt)})`,
        )
      : null,
    s.recognized ? null : h("span", { class: "not-recognized" }, "本地不适用 ", h("small", null, "not recognised here")),
  );
}

async function loadEvaluation(s: SubjectRow): Promise<void> {
  const box = document.getElementById("evaluation");
  if (!box) return;
  const parts = await fetchEvaluation(s.id, s.kind, (id) => void openSubject(id));
  if (state.subject?.id !== s.id) return;
  clear(box, parts);
}

// ---- the graph -----------------------------------------------------------------------

/** The relation types ticked in the toolbar; null when all are (the server's default). */
function relations(): string[] | null {
  const boxes = [...document.querySelectorAll<HTMLInputElement>("#relations input[type=checkbox]")];
  const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
  return ticked.length === boxes.length ? null : ticked;
}

/** The toolbar's day as the end of that day in the city (UTC+8), or null for now. */
function asOf(): string | null {
  const day = ($("#as-of") as HTMLInputElement).value;
  return day ? `${day}T23:59:59+08:00` : null;
}

function subjectNode(s: {
  id: string;
  kind: string;
  name: string;
  district?: string | null;
  sanctions?: { listType: { kind: string }; status?: string }[];
}): GNode {
  const applying = (s.sanctions ?? []).filter((x) => !x.status || x.status === "ACTIVE" || x.status === "UNDER_OBJECTION");
  const kinds = new Set(applying.map((x) => x.listType.kind));
  const listKind = kinds.has("BLACK") ? "BLACK" : kinds.has("WATCH") ? "WATCH" : kinds.has("RED") ? "RED" : null;
  return { id: s.id, kind: s.kind, name: s.name, district: s.district ?? null, listKind };
}

async function withLayout(animate: boolean): Promise<void> {
  state.layouts += 1;
  document.body.dataset.busy = String(busy + state.layouts);
  try {
    await graph.layout(animate);
  } finally {
    state.layouts -= 1;
    document.body.dataset.busy = String(busy + state.layouts);
  }
}

function showCounts(extra = ""): void {
  const g = graph.state();
  $("#graph-note").textContent =
    `${g.nodes.length} 个节点 nodes · ${g.edges.length} 条关系 links` + (extra ? ` · ${extra}` : "");
}

async function loadGraph(s: SubjectRow): Promise<void> {
  graph.reset(s.id);
  graph.merge([subjectNode(s)], []);
  const note = $("#graph-note");
  note.textContent = "";
  try {
    const related = await fetchRelated(s.id, state.depth, asOf(), relations());
    if (state.subject?.id !== s.id) return;
    graph.merge(related.nodes, related.edges);
    state.expanded.add(s.id);
    showCounts(related.truncated ? "已截断 truncated" : "");
  } catch (err) {
    if (err instanceof ApiError && err.missingField) {
      note.textContent = "服务端暂无 relatedParties — only check paths are drawn";
    } else {
      toast(explain(err));
    }
  }
  await withLayout(false);
  graph.fit();
}

async function expand(id: string): Promise<void> {
  if (state.expanded.has(id) || !relatedAvailable() || graph.node(id)?.kind === "HOUSEHOLD") return;
  state.expanded.add(id);
  try {
    const related = await fetchRelated(id, 1, asOf(), relations());
    const added = graph.merge(related.nodes, related.edges);
    if (added.length > 0) await withLayout(true);
    showCounts(`展开 expanded ${graph.node(id)?.name ?? id} +${added.length}`);
  } catch (err) {
    state.expanded.delete(id);
    toast(explain(err));
  }
}

async function onNodeTap(id: string): Promise<void> {
  showNodeCard(id);
  await expand(id);
  showNodeCard(id);
}

function showNodeCard(id: string): void {
  const n = graph.node(id);
  const card = $("#node-card");
  if (!n) return;
  const isHousehold = n.kind === "HOUSEHOLD";
  clear(
    card,
    h("button", { class: "close", type: "button", title: "close", onclick: hideNodeCard }, "×"),
    h("div", { class: "node-name" }, n.name, " ", kindBadge(n.kind)),
    h("div", { class: "hit-meta" }, h("code", null, n.id), n.district ? ` · ${district(n.district)}` : ""),
    n.listKind ? h("div", null, chip(zh(LIST_KIND, n.listKind), n.listKind.toLowerCase())) : null,
    isHousehold
      ? null
      : h("button", { type: "button", class: "open", onclick: () => void openSubject(id) }, "打开档案 ", h("small", null, "open file")),
  );
  card.dataset.id = id;
  card.hidden = false;
}

function hideNodeCard(): void {
  $("#node-card").hidden = true;
}

/** Put the nodes and links of these paths on the graph (fetching names of unknown ids). */
async function ensureOnGraph(paths: PathStep[][], extra: GNode[] = []): Promise<void> {
  const households = new Set<string>();
  const ids = new Set<string>();
  for (const path of paths) {
    for (const step of path) {
      ids.add(step.from);
      ids.add(step.to);
      if (step.relation === "MEMBER_OF") households.add(step.to);
    }
  }
  const nodes: GNode[] = [...extra.filter((n) => !graph.has(n.id))];
  const unknown = [...ids].filter((id) => !graph.has(id) && !households.has(id) && !extra.some((n) => n.id === id));
  if (unknown.length > 0) {
    const rows = await fetchSubjects(unknown);
    for (const id of unknown) {
      const row = rows.get(id);
      nodes.push(row ? subjectNode(row) : { id, kind: "PERSON", name: id });
    }
  }
  for (const id of households) if (!graph.has(id)) nodes.push({ id, kind: "HOUSEHOLD", name: `户 ${id}` });
  const edges: GEdge[] = paths.flat().map((step) => ({
    source: step.from,
    target: step.to,
    relation: step.relation,
    validFrom: step.validFrom,
    validTo: step.validTo,
  }));
  const before = graph.state();
  const added = graph.merge(nodes, edges);
  const after = graph.state();
  if (added.length > 0 || after.edges.length !== before.edges.length) {
    showCounts(`路径补充 from paths +${added.length}`);
    await withLayout(true);
  }
}

// ---- the check -----------------------------------------------------------------------

function initCheck(): void {
  const select = $("#check-area") as HTMLSelectElement;
  for (const [id, z, e] of AREAS) select.appendChild(h("option", { value: id }, `${z} ${e}`));
  select.value = "CONVENIENCE_SERVICES";
  $("#check-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    void doCheck();
  });
}

async function doCheck(): Promise<void> {
  const subject = state.subject;
  if (!subject) return;
  const area = ($("#check-area") as HTMLSelectElement).value;
  const result = await guarded(() => runCheck(subject.id, area, asOf()));
  if (!result || state.subject?.id !== subject.id) return;
  state.check = result;
  // the path's nodes first, so that the explanation can name them
  await guarded(() => ensureOnGraph(result.measures.map((m) => m.path), sanctionedNodes(result.measures)));
  if (state.check !== result) return;
  renderCheck(result);
  await highlightCheck(result, null);
}

function sanctionedNodes(measures: CheckResult["measures"]): GNode[] {
  return measures.map((m) => subjectNode({ ...m.sanction.subject, sanctions: [m.sanction] }));
}

function effective(result: CheckResult): CheckResult["measures"] {
  return result.measures.filter((m) => !m.suppressed);
}

async function highlightCheck(result: CheckResult, index: number | null): Promise<void> {
  const measures = index == null ? effective(result) : [result.measures[index]!];
  const paths = measures.map((m) => m.path);
  const sanctioned = sanctionedNodes(measures);
  await guarded(() => ensureOnGraph(paths, sanctioned));
  const extra = [result.subjectId, ...sanctioned.map((n) => n.id)];
  graph.highlight(paths, measures.length ? extra : []);
  for (const li of document.querySelectorAll<HTMLElement>("#check-result li.measure")) {
    li.classList.toggle("active", index != null && li.dataset.index === String(index));
  }
}

function renderCheck(r: CheckResult): void {
  const box = $("#check-result");
  const items = r.measures.map((m, i) =>
    h(
      "li",
      {
        class: `measure ${m.suppressed ? "suppressed" : ""} effect-${m.measure.effect.toLowerCase()}`,
        "data-index": i,
        "data-measure": m.measure.id,
        title: "点击在图中只显示此路径 click: highlight this path",
        onclick: () => void highlightCheck(r, i),
      },
      h(
        "div",
        { class: "measure-head" },
        chip(zh(EFFECT, m.measure.effect), `effect ${m.measure.effect.toLowerCase()}`, en(EFFECT, m.measure.effect)),
        h("strong", null, m.measure.name),
        m.suppressed ? chip("被惩戒覆盖", "status revoked", "suppressed by a punitive measure") : null,
      ),
      h(
        "div",
        { class: "measure-meta" },
        bi(`角色：${zh(ROLE, m.role)}`, en(ROLE, m.role)),
        " · ",
        `${m.sanction.listType.name}（${m.sanction.subject.name}，${m.sanction.documentNo}）`,
      ),
      h("div", { class: "legal" }, h("span", { class: "bi" }, "法律依据", h("small", null, "legal basis")), " ", m.measure.legalBasis),
      m.measure.implementers.length
        ? h("div", { class: "measure-meta" }, "实施部门 ", h("small", null, "implementers "), m.measure.implementers.map((d) => d.name).join("、"))
        : null,
      h("div", { class: "path-text" }, pathText(m.path, r.subjectId)),
    ),
  );
  clear(
    box,
    h(
      "div",
      { class: `decision decision-${r.decision.toLowerCase()}`, id: "decision", "data-decision": r.decision },
      h("span", { class: "decision-zh" }, zh(DECISION, r.decision)),
      h("small", null, `${en(DECISION, r.decision)} · ${zh(AREA, r.area)} · ${r.at.slice(0, 16).replace("T", " ")}`),
      r.subjectKnown ? null : h("small", null, " · 未登记主体 unknown subject"),
    ),
    r.measures.length
      ? h(
          "div",
          { class: "measures-head" },
          `适用措施 ${r.measures.length} 项 `,
          h("small", null, "measures"),
          h("button", { type: "button", class: "link", onclick: () => void highlightCheck(r, null) }, "全部路径 ", h("small", null, "all paths")),
        )
      : null,
    h("ul", { class: "measures", id: "check-measures" }, items),
    h("div", { class: "check-id" }, "核查编号 check id ", h("code", null, r.checkId)),
  );
}

function nameOf(id: string): string {
  return graph.node(id)?.name ?? id;
}

function pathText(path: PathStep[], start: string): HTMLElement {
  if (path.length === 0) return h("span", { class: "hint" }, "本主体即被惩戒主体 ", h("small", null, "the sanctioned subject itself, or named as responsible"));
  const parts: (HTMLElement | string)[] = [h("b", null, nameOf(start))];
  let at = start;
  for (const step of path) {
    const forward = step.from === at;
    const next = forward ? step.to : step.from;
    const rel = zh(RELATION, step.relation);
    parts.push(h("span", { class: "arrow" }, forward ? ` —${rel}→ ` : ` ←${rel}— `));
    parts.push(h("b", null, nameOf(next)));
    at = next;
  }
  return h("span", null, parts);
}

// ---- impact ------------------------------------------------------------------------

async function loadListTypes(): Promise<void> {
  const types = await guarded(listTypes);
  if (!types) return;
  state.listTypes = types;
  const select = $("#preview-list") as HTMLSelectElement;
  clear(select);
  for (const kind of ["BLACK", "WATCH", "RED"]) {
    const group = h("optgroup", { label: `${zh(LIST_KIND, kind)} ${en(LIST_KIND, kind)}` });
    for (const t of types.filter((x) => x.kind === kind)) group.appendChild(h("option", { value: t.id }, t.name));
    select.appendChild(group);
  }
  ($("#preview-run") as HTMLButtonElement).disabled = state.subject == null;
}

function fillSanctionSelect(sanctions: SanctionRow[]): void {
  const select = $("#impact-sanction") as HTMLSelectElement;
  clear(select);
  for (const s of sanctions) {
    const city = isForeign(s.jurisdiction) ? ` · ${cityName(s.jurisdiction)}` : "";
    select.appendChild(h("option", { value: s.id }, `${s.listType.name}${city} · ${zh(STATUS, s.status)} · ${s.decidedOn}`));
  }
  if (sanctions.length === 0) select.appendChild(h("option", { value: "" }, "无记录 none"));
  select.disabled = sanctions.length === 0;
  ($("#impact-run") as HTMLButtonElement).disabled = sanctions.length === 0;
}

function initImpact(): void {
  $("#impact-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    const id = ($("#impact-sanction") as HTMLSelectElement).value;
    if (!id || !state.subject) return;
    const subject = state.subject;
    void guarded(async () => {
      const rows = await sanctionImpact(id);
      const s = subject.sanctions?.find((x) => x.id === id);
      renderImpact(rows, `${s?.listType.name ?? id}`, subject.id);
    });
  });
  $("#preview-form").addEventListener("submit", (evt) => {
    evt.preventDefault();
    const listType = ($("#preview-list") as HTMLSelectElement).value;
    const date = ($("#preview-date") as HTMLInputElement).value || null;
    if (!listType || !state.subject) return;
    const subject = state.subject;
    void guarded(async () => {
      const rows = await sanctionImpactPreview(subject.id, listType, date);
      const name = state.listTypes.find((t) => t.id === listType)?.name ?? listType;
      renderImpact(rows, `假如 what if: ${name}`, subject.id);
    });
  });
}

function renderImpact(rows: ImpactedSubject[], title: string, sanctionedId: string): void {
  state.impact = rows;
  const byArea = new Map<string, Set<string>>();
  const byRole = new Map<string, ImpactedSubject[]>();
  for (const r of rows) {
    for (const a of r.areas) {
      if (!byArea.has(a)) byArea.set(a, new Set());
      byArea.get(a)!.add(r.subject.id);
    }
    if (!byRole.has(r.role)) byRole.set(r.role, []);
    byRole.get(r.role)!.push(r);
  }
  const subjects = new Set(rows.map((r) => r.subject.id));
  clear(
    $("#impact-result"),
    h("div", { class: "impact-title" }, h("strong", null, title), ` → ${subjects.size} 个主体 `, h("small", null, "subjects reached")),
    h(
      "div",
      { class: "area-chips", id: "impact-areas" },
      AREAS.filter(([id]) => byArea.has(id)).map(([id, z, e]) => chip(`${z} ${byArea.get(id)!.size}`, "area", e)),
    ),
    h(
      "table",
      { class: "impact", id: "impact-table" },
      h("thead", null, h("tr", null, h("th", null, bi("角色", "role")), h("th", null, bi("主体", "subject")), h("th", null, bi("领域", "areas")))),
      h(
        "tbody",
        null,
        [...byRole.entries()].flatMap(([role, list]) =>
          list.map((r, i) =>
            h(
              "tr",
              { "data-subject": r.subject.id, "data-role": r.role },
              i === 0 ? h("td", { rowspan: list.length, class: "role" }, bi(zh(ROLE, role), en(ROLE, role))) : null,
              h(
                "td",
                null,
                h("a", { href: `#/subject/${r.subject.id}`, class: "subject-link" }, r.subject.name),
                h("div", { class: "hit-meta" }, zh(KIND, r.subject.kind)),
              ),
              h("td", { class: "areas" }, r.areas.map((a) => chip(zh(AREA, a), "area small", en(AREA, a)))),
            ),
          ),
        ),
      ),
    ),
    rows.length
      ? h(
          "button",
          {
            type: "button",
            class: "link",
            onclick: () =>
              void guarded(async () => {
                await ensureOnGraph(
                  rows.map((r) => r.path),
                  rows.map((r) => subjectNode(r.subject)),
                );
                graph.highlight(rows.map((r) => r.path), [sanctionedId, ...subjects]);
              }),
          },
          "在图谱中显示 ",
          h("small", null, "show on graph"),
        )
      : h("p", { class: "hint" }, "不波及任何主体 ", h("small", null, "reaches no one")),
  );
}

// ---- wiring ----------------------------------------------------------------------------

function initToolbar(): void {
  const depth = $("#depth") as HTMLSelectElement;
  depth.value = String(state.depth);
  const menu = $("#relations");
  const summary = $("#relations-count");
  for (const [rel, [z, e]] of Object.entries(RELATION)) {
    const box = h("input", { type: "checkbox", value: rel, checked: true });
    box.addEventListener("change", () => {
      const ticked = relations();
      if (ticked && ticked.length === 0) {
        box.checked = true; // at least one type: the server refuses none
        return;
      }
      summary.textContent = ticked ? `${ticked.length}/7` : "全部 all";
      reload();
    });
    menu.appendChild(h("label", null, box, ` ${z} `, h("small", null, e)));
  }
  const reload = (): void => {
    if (state.subject) {
      state.expanded = new Set();
      void loadGraph(state.subject).then(() => {
        if (state.check) void highlightCheck(state.check, null);
      });
    }
  };
  depth.addEventListener("change", () => {
    state.depth = Number(depth.value);
    reload();
  });
  $("#as-of").addEventListener("change", () => {
    // a check answers for one moment: a new day asks for a new check
    state.check = null;
    clear($("#check-result"));
    reload();
  });
  $("#fit").addEventListener("click", () => graph.fit());
  $("#clear-highlight").addEventListener("click", () => {
    graph.clearHighlight();
    for (const li of document.querySelectorAll("#check-result li.measure.active")) li.classList.remove("active");
  });
}

// ---- views and the exchange ------------------------------------------------------------

function showView(view: ConsoleState["view"]): void {
  const changed = state.view !== view;
  state.view = view;
  $("main.layout").hidden = view !== "subjects";
  $("#exchange-view").hidden = view !== "exchange";
  $("#tab-subjects").classList.toggle("active", view === "subjects");
  $("#tab-exchange").classList.toggle("active", view === "exchange");
  // the way back leads to the subject open before
  $("#tab-subjects").setAttribute("href", state.subject ? `#/subject/${state.subject.id}` : "#/");
  if (changed && view === "subjects") graph.cy.resize(); // drawn while hidden: size unknown
}

async function loadExchange(): Promise<void> {
  const box = $("#exchange");
  try {
    const status = await fetchExchange();
    state.exchange = status;
    clear(box, renderExchange(status));
  } catch (err) {
    state.exchange = null;
    console.warn(err);
    clear(box, exchangeFailure(err));
  }
}

async function loadCities(): Promise<void> {
  try {
    if (!(await loadJurisdictions())) return;
  } catch (err) {
    console.warn(err); // the ids are shown instead of the cities' names
    return;
  }
  const local = localJurisdiction();
  if (local) $("#local-city").textContent = `${local.name} ${local.id}`;
  if (state.subject) {
    renderFile(state.subject); // the origin lines name the cities now
    fillSanctionSelect(state.subject.sanctions ?? []);
    void loadEvaluation(state.subject);
  }
}

function route(): void {
  if (/^#\/exchange/.test(location.hash)) {
    showView("exchange");
    void loadExchange();
    return;
  }
  showView("subjects");
  const m = /^#\/subject\/([0-9A-Za-z]+)/.exec(location.hash);
  if (m && m[1] !== state.subject?.id) void openSubject(m[1]!);
}

declare global {
  interface Window {
    __console: unknown;
  }
}

window.__console = {
  cy: graph.cy,
  graph: () => graph.state(),
  idle: () => busy === 0 && state.layouts === 0,
  subject: () => state.subject?.id ?? null,
  check: () => state.check,
  impact: () => state.impact,
  nodePosition: (id: string) => graph.pagePosition(id),
  open: (id: string) => openSubject(id),
  view: () => state.view,
  exchange: () => state.exchange,
};

initKey();
initSearch();
initCheck();
initImpact();
initToolbar();
$("#exchange-refresh").addEventListener("click", () => void loadExchange());
window.addEventListener("hashchange", route);
document.body.dataset.ready = "true";
void (async () => {
  await Promise.all([loadListTypes(), loadCities()]);
  route();
})();
