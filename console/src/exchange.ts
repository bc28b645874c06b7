// The Exchange view: this instance's jurisdiction and feed key, each source it takes entries
// from (partners pulled, list files imported) and the events it could not apply.

import { ApiError, gql } from "./api";
import { bi, h } from "./dom";
import { cityName } from "./jurisdictions";
import { cityTime } from "./labels";

export interface ExchangeSource {
  jurisdiction: string;
  url: string | null;
  lastPullAt: string | null;
  lastSuccessAt: string | null;
  lastAppliedAt: string | null;
  lastError: string | null;
  applied: number;
  keptAside: number;
  entries: number;
}
export interface KeptAsideEvent {
  source: string;
  eventId: string;
  kind: string;
  sanctionId: string;
  reason: string;
  at: string;
  keptAt: string;
}
export interface ExchangeStatus {
  jurisdiction: string;
  publicKey: string;
  keyId: string;
  sources: ExchangeSource[];
  keptAside: KeptAsideEvent[];
}

export const KEPT_ASIDE_SHOWN = 50;

const QUERY = `
query Exchange($first: Int!) {
  exchangeStatus(keptAsideFirst: $first) {
    jurisdiction publicKey keyId
    sources {
      jurisdiction url lastPullAt lastSuccessAt lastAppliedAt lastError applied keptAside entries
    }
    keptAside { source eventId kind sanctionId reason at keptAt }
  }
}`;

export async function fetchExchange(): Promise<ExchangeStatus> {
  const data = await gql<{ exchangeStatus: ExchangeStatus }>(QUERY, { first: KEPT_ASIDE_SHOWN });
  return data.exchangeStatus;
}

/** Why the status could not be shown, said in place (the view has nothing else to show). */
export function exchangeFailure(err: unknown): HTMLElement {
  let text: string;
  if (err instanceof ApiError && err.code === "FORBIDDEN") {
    text = "当前密钥无权查看 — the exchange status needs a REGULATOR or ADMIN key";
  } else if (err instanceof ApiError && err.code === "UNAUTHENTICATED") {
    text = "需要有效的 API 密钥 — save a REGULATOR or ADMIN key above";
  } else if (err instanceof ApiError && err.missingField) {
    text = "该服务端没有 exchangeStatus — this server does not offer the exchange status";
  } else {
    text = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
  }
  return h("p", { class: "hint failed", id: "exchange-error" }, text);
}

export function renderExchange(s: ExchangeStatus): HTMLElement[] {
  return [identity(s), sourcesPart(s.sources), keptAsidePart(s)];
}

function identity(s: ExchangeStatus): HTMLElement {
  const copied = h("span", { class: "copied", "aria-live": "polite" });
  const key = h("code", { id: "exchange-public-key", class: "public-key" }, s.publicKey);
  const copy = async (): Promise<void> => {
    copied.textContent = (await copyText(key)) ? "已复制 copied" : "请手动复制 select and copy";
  };
  return h(
    "section",
    { class: "panel", id: "exchange-identity", "data-jurisdiction": s.jurisdiction },
    h("h2", { class: "bi" }, "本平台", h("small", null, "this instance")),
    h(
      "dl",
      { class: "facts" },
      h("dt", null, bi("辖区", "jurisdiction")),
      h("dd", null, `${cityName(s.jurisdiction)} `, h("code", null, s.jurisdiction)),
      h("dt", null, bi("公钥", "public key")),
      h(
        "dd",
        null,
        key,
        " ",
        h("button", { type: "button", id: "exchange-copy-key", onclick: () => void copy() }, "复制 ", h("small", null, "Copy")),
        " ",
        copied,
        h("div", { class: "hint" }, "伙伴用此公钥验证本平台的推送 ", h("small", null, "partners verify this instance's feed with it")),
      ),
      h("dt", null, bi("密钥编号", "key id")),
      h("dd", null, h("code", { id: "exchange-key-id" }, s.keyId)),
    ),
  );
}

/** The clipboard where the page may use it (a secure context), else the old copy command. */
async function copyText(el: HTMLElement): Promise<boolean> {
  const text = el.textContent ?? "";
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    return document.execCommand("copy");
  }
}

const PULL_HINT = "creditlink exchange pull --jurisdiction <id>";
const IMPORT_HINT = "creditlink exchange import <file> --source <id>";

function sourcesPart(sources: ExchangeSource[]): HTMLElement {
  const body =
    sources.length === 0
      ? h(
          "p",
          { class: "hint empty", id: "exchange-no-sources" },
          "尚未从任何伙伴拉取 no partner pulled yet: ",
          h("code", null, PULL_HINT),
          " (url, key and public key from CREDITLINK_PARTNERS_FILE), or import a partner's list file: ",
          h("code", null, IMPORT_HINT),
        )
      : h(
          "table",
          { class: "exchange", id: "exchange-sources" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", null, bi("来源", "source")),
              h("th", null, bi("地址", "url")),
              h("th", null, bi("最近拉取", "last pull")),
              h("th", null, bi("最近成功", "last success")),
              h("th", null, bi("最近应用", "last applied")),
              h("th", null, bi("最近错误", "last error")),
              h("th", { class: "num" }, bi("已应用", "applied")),
              h("th", { class: "num" }, bi("已搁置", "kept aside")),
              h("th", { class: "num" }, bi("本地条目", "entries here")),
            ),
          ),
          h("tbody", null, sources.map(sourceRow)),
        );
  return h("section", { class: "panel" }, h("h2", { class: "bi" }, `数据来源 (${sources.length})`, h("small", null, "sources")), body);
}

function sourceRow(x: ExchangeSource): HTMLTableRowElement {
  return h(
    "tr",
    { "data-source": x.jurisdiction, class: x.lastError ? "failing" : null },
    h("td", { class: "city" }, h("strong", null, cityName(x.jurisdiction)), " ", h("code", null, x.jurisdiction)),
    h("td", { class: "url" }, x.url ? h("code", null, x.url) : h("span", { class: "hint" }, "名单文件 ", h("small", null, "list files only"))),
    h("td", { class: "last-pull" }, cityTime(x.lastPullAt)),
    h("td", { class: "last-success" }, cityTime(x.lastSuccessAt)),
    h("td", { class: "last-applied" }, cityTime(x.lastAppliedAt)),
    h("td", { class: x.lastError ? "last-error error" : "last-error" }, x.lastError ?? "—"),
    h("td", { class: "applied num" }, x.applied),
    h("td", { class: x.keptAside > 0 ? "kept-aside num warn" : "kept-aside num" }, x.keptAside),
    h("td", { class: "entries num" }, x.entries),
  );
}

function keptAsidePart(s: ExchangeStatus): HTMLElement {
  const total = s.sources.reduce((n, x) => n + x.keptAside, 0);
  const rows = s.keptAside;
  const body =
    rows.length === 0
      ? h(
          "p",
          { class: "hint empty", id: "exchange-none-kept" },
          "无搁置事件 nothing kept aside: every event received was applied",
        )
      : [
          h(
            "p",
            { class: "hint" },
            "这些事件未在本地生效，原因见下；需由来源方更正或更新本地目录。 ",
            h("small", null, "Not applied here: the reason names what the source or this catalogue must change."),
            total > rows.length
              ? h("small", null, ` Showing the newest ${rows.length} of ${total}: creditlink exchange status --limit ${total}`)
              : null,
          ),
          h(
            "table",
            { class: "exchange", id: "exchange-kept-aside" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                h("th", null, bi("来源", "source")),
                h("th", null, bi("事件", "event id")),
                h("th", null, bi("类型", "kind")),
                h("th", null, bi("条目", "entry id there")),
                h("th", null, bi("原因", "reason")),
                h("th", null, bi("生效", "at")),
                h("th", null, bi("搁置于", "kept aside")),
              ),
            ),
            h(
              "tbody",
              null,
              rows.map((k) =>
                h(
                  "tr",
                  { "data-source": k.source, "data-event": k.eventId },
                  h("td", null, cityName(k.source), " ", h("code", null, k.source)),
                  h("td", null, h("code", null, k.eventId)),
                  h("td", null, k.kind),
                  h("td", null, h("code", null, k.sanctionId)),
                  h("td", { class: "reason" }, k.reason),
                  h("td", null, cityTime(k.at)),
                  h("td", null, cityTime(k.keptAt)),
                ),
              ),
            ),
          ),
        ];
  return h(
    "section",
    { class: "panel" },
    h("h2", { class: "bi" }, `搁置事件 (${total})`, h("small", null, "events kept aside, newest first")),
    body,
  );
}
