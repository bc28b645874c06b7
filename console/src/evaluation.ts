// The evaluation part of a credit file: rating (units) or integrity score (persons), the
// related-party risk score, and an enterprise's ultimate beneficial owners. Each is its own
// request, so a server without one of these fields still shows the others.

import { ApiError, gql } from "./api";
import { h } from "./dom";
import { KIND, formatShare, zh } from "./labels";

interface Factor {
  code: string;
  weight: number;
  detail: string;
}
interface Rating {
  grade: string;
  score: number;
  factors: Factor[];
}
interface Dimension {
  name: string;
  label: string;
  score: number;
  max: number;
}
interface Integrity {
  score: number;
  band: string;
  bandLabel: string;
  dimensions: Dimension[];
}

const GRADE_TEXT: Record<string, string> = { A: "诚信", B: "基本诚信", C: "失信风险", D: "严重失信" };

interface Owner {
  owner: { id: string; name: string; kind: string };
  share: number;
  paths: number;
}

/** Every evaluation this server offers for the subject, in display order. */
export async function fetchEvaluation(
  id: string,
  kind: string,
  open: (id: string) => void,
): Promise<HTMLElement[]> {
  const parts: Promise<HTMLElement | null>[] = [
    tolerant(grade(id, kind)),
    tolerant(risk(id)),
    kind === "ENTERPRISE" ? tolerant(owners(id, open)) : Promise.resolve(null),
  ];
  const done = await Promise.all(parts);
  const failures = done.filter((x): x is HTMLElement => x instanceof HTMLElement && x.classList.contains("failed"));
  const shown = done.filter((x): x is HTMLElement => x != null && !failures.includes(x));
  return [...shown, ...failures];
}

/** A field the server does not have yet hides its section; other errors say so in place. */
async function tolerant(work: Promise<HTMLElement | null>): Promise<HTMLElement | null> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ApiError && err.missingField) return null;
    const text = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
    return h("p", { class: "hint failed" }, `评价不可用 unavailable — ${text}`);
  }
}

async function risk(id: string): Promise<HTMLElement> {
  const data = await gql<{ riskProfile: { score: number; factors: Factor[] } }>(
    `query Risk($id: ID!) { riskProfile(subjectId: $id) { score factors { code weight detail } } }`,
    { id },
  );
  const r = data.riskProfile;
  const level = r.score >= 60 ? "high" : r.score >= 30 ? "medium" : "low";
  const factors = [...r.factors].filter((f) => f.weight !== 0).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight));
  return h(
    "div",
    { class: "rating", id: "risk", "data-score": r.score },
    h(
      "div",
      { class: "score-line" },
      h("span", { class: `grade risk-${level}` }, String(Math.round(r.score))),
      h("span", { class: "bi" }, "关联风险评分", h("small", null, "related-party risk, 0–100")),
    ),
    factors.length
      ? h(
          "ul",
          { class: "factors" },
          factors.slice(0, 4).map((f) => h("li", null, h("span", { class: f.weight > 0 ? "neg" : "pos" }, `${f.weight > 0 ? "+" : ""}${f.weight}`), " ", f.detail)),
        )
      : null,
  );
}

async function owners(id: string, open: (id: string) => void): Promise<HTMLElement> {
  const data = await gql<{ ultimateBeneficialOwners: Owner[] }>(
    `query Owners($id: ID!) {
      ultimateBeneficialOwners(enterpriseId: $id, threshold: 0.1) { share paths owner { id name kind } }
    }`,
    { id },
  );
  const list = data.ultimateBeneficialOwners;
  return h(
    "div",
    { class: "rating", id: "owners" },
    h("div", { class: "bi owners-title" }, "最终受益人", h("small", null, "ultimate beneficial owners ≥ 10%")),
    list.length === 0
      ? h("p", { class: "hint" }, "无 ", h("small", null, "none above 10%"))
      : h(
          "ul",
          { class: "factors" },
          list.map((o) =>
            h(
              "li",
              null,
              h("span", { class: "pos" }, formatShare(o.share)),
              " ",
              h("a", { href: `#/subject/${o.owner.id}`, class: "subject-link", onclick: () => open(o.owner.id) }, o.owner.name),
              ` ${zh(KIND, o.owner.kind)}`,
              o.paths > 1 ? h("small", null, ` · ${o.paths} 条持股链 chains`) : null,
            ),
          ),
        ),
  );
}

async function grade(id: string, kind: string): Promise<HTMLElement> {
  if (kind === "PERSON") {
    const data = await gql<{ integrityScore: Integrity }>(
      `query Integrity($id: ID!) {
        integrityScore(personId: $id) { score band bandLabel dimensions { name label score max } }
      }`,
      { id },
    );
    return integrityView(data.integrityScore);
  }
  const data = await gql<{ creditRating: Rating }>(
    `query Rating($id: ID!) { creditRating(subjectId: $id) { grade score factors { code weight detail } } }`,
    { id },
  );
  return ratingView(data.creditRating);
}

function ratingView(r: Rating): HTMLElement {
  const factors = r.factors.filter((f) => f.code !== "BASE" && f.weight !== 0);
  return h(
    "div",
    { class: "rating", id: "rating", "data-grade": r.grade },
    h(
      "div",
      { class: "score-line" },
      h("span", { class: `grade grade-${r.grade.toLowerCase()}` }, r.grade),
      h("span", { class: "bi" }, `公共信用评价 ${GRADE_TEXT[r.grade] ?? ""}`, h("small", null, `public credit rating · score ${r.score}`)),
    ),
    factors.length
      ? h(
          "ul",
          { class: "factors" },
          factors.map((f) => h("li", null, h("span", { class: f.weight < 0 ? "neg" : "pos" }, f.weight > 0 ? `+${f.weight}` : String(f.weight)), " ", f.detail)),
        )
      : null,
  );
}

function integrityView(s: Integrity): HTMLElement {
  return h(
    "div",
    { class: "rating", id: "integrity", "data-band": s.band },
    h(
      "div",
      { class: "score-line" },
      h("span", { class: `grade band-${s.band.toLowerCase()}` }, String(s.score)),
      h("span", { class: "bi" }, `个人信用积分 · ${s.bandLabel}`, h("small", null, `integrity score (of 1000) · ${s.band}`)),
    ),
    h(
      "ul",
      { class: "dimensions" },
      s.dimensions.map((d) =>
        h(
          "li",
          null,
          h("span", { class: "dim-label" }, d.label),
          h("span", { class: "bar" }, h("i", { style: `width:${Math.round((100 * d.score) / Math.max(1, d.max))}%` })),
          h("span", { class: "dim-score" }, `${d.score}/${d.max}`),
        ),
      ),
    ),
  );
}
