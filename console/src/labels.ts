// Chinese labels (with the English term in small print) for the enums of the public schema.

export type Label = readonly [zh: string, en: string];

export const KIND: Record<string, Label> = {
  ENTERPRISE: ["企业", "Enterprise"],
  PUBLIC_INSTITUTION: ["机关事业单位", "Public institution"],
  INDIVIDUAL_BUSINESS: ["个体工商户", "Individual business"],
  PERSON: ["自然人", "Person"],
  HOUSEHOLD: ["户", "Household"],
};

export const AREAS: ReadonlyArray<readonly [string, string, string]> = [
  ["ADMINISTRATIVE_APPROVAL", "行政审批", "Administrative approval"],
  ["LAW_ENFORCEMENT_SUPERVISION", "执法监管", "Law enforcement"],
  ["CONVENIENCE_SERVICES", "便民服务", "Convenience services"],
  ["PUBLIC_RESOURCE_TRANSACTIONS", "公共资源交易", "Public resource transactions"],
  ["FINANCING_SERVICES", "融资服务", "Financing services"],
  ["RISK_PREVENTION_CONTROL", "风险防控", "Risk prevention"],
  ["INDUSTRY_SUPERVISION", "行业监管", "Industry supervision"],
  ["SOCIAL_GOVERNANCE", "社会治理", "Social governance"],
  ["OTHER_GOVERNMENT_AFFAIRS", "其他政务", "Other government affairs"],
  ["GOVERNMENT_SELF_CONSTRUCTION", "政府自身建设", "Government self-construction"],
];
export const AREA: Record<string, Label> = Object.fromEntries(
  AREAS.map(([id, zh, en]) => [id, [zh, en] as const]),
);

export const RELATION: Record<string, Label> = {
  LEGAL_REPRESENTATIVE_OF: ["法定代表人", "legal representative of"],
  SHAREHOLDER_OF: ["股东", "shareholder of"],
  EXECUTIVE_OF: ["高管", "executive of"],
  OPERATOR_OF: ["经营者", "operator of"],
  MEMBER_OF: ["户成员", "member of"],
  BRANCH_OF: ["分支机构", "branch of"],
  ACTUAL_CONTROLLER_OF: ["实际控制人", "actual controller of"],
};

export const LINK_ROLE: Record<string, string> = {
  CHAIR: "董事长",
  DIRECTOR: "董事",
  SUPERVISOR: "监事",
  GENERAL_MANAGER: "总经理",
  PRINCIPAL: "主要负责人",
  OTHER: "其他",
  HEAD: "户主",
  SPOUSE: "配偶",
  CHILD: "子女",
  PARENT: "父母",
};

export const ROLE: Record<string, Label> = {
  SELF: ["失信主体本身", "the sanctioned subject"],
  LEGAL_REPRESENTATIVE: ["法定代表人", "legal representative"],
  PRINCIPAL_RESPONSIBLE_PERSON: ["主要负责人", "principal responsible person"],
  DIRECTLY_RESPONSIBLE_PERSON: ["直接责任人员", "directly responsible person"],
  ACTUAL_CONTROLLER: ["实际控制人", "actual controller"],
  DIRECTOR_SUPERVISOR_MANAGER: ["董监高", "director, supervisor, manager"],
  OPERATOR: ["经营者", "operator"],
  LED_UNIT: ["其任法定代表人/实控人的单位", "unit led by the sanctioned person"],
  HOUSEHOLD_CHILD: ["子女", "household child"],
};

export const DECISION: Record<string, Label> = {
  PROHIBITED: ["禁止", "Prohibited"],
  RESTRICTED: ["限制", "Restricted"],
  STRICT_REVIEW: ["从严审核", "Strict review"],
  ALERT: ["提示关注", "Alert"],
  INCENTIVE: ["激励", "Incentive"],
  CLEAR: ["无联合奖惩", "Clear"],
};

export const EFFECT: Record<string, Label> = {
  PROHIBIT: ["禁止", "prohibit"],
  RESTRICT: ["限制", "restrict"],
  STRICT_REVIEW: ["从严审核", "strict review"],
  ALERT: ["提示", "alert"],
  INCENTIVE: ["激励", "incentive"],
};

export const STATUS: Record<string, Label> = {
  ACTIVE: ["有效", "active"],
  UNDER_OBJECTION: ["异议中", "under objection"],
  REPAIRED: ["已修复", "repaired"],
  REVOKED: ["已撤销", "revoked"],
  EXPIRED: ["已到期", "expired"],
};

export const LIST_KIND: Record<string, Label> = {
  BLACK: ["黑名单", "black list"],
  RED: ["红名单", "red list"],
  WATCH: ["重点关注", "watch list"],
};

export const DISTRICT: Record<string, string> = {
  "330302": "鹿城区",
  "330303": "龙湾区",
  "330304": "瓯海区",
  "330305": "洞头区",
  "330324": "永嘉县",
  "330326": "平阳县",
  "330327": "苍南县",
  "330328": "文成县",
  "330329": "泰顺县",
  "330381": "瑞安市",
  "330382": "乐清市",
  "330383": "龙港市",
};

export const INDUSTRY: Record<string, string> = {
  FOOTWEAR: "鞋业",
  CLOTHING: "服装",
  LIGHTERS: "打火机",
  EYEGLASSES: "眼镜",
  ELECTRICAL_EQUIPMENT: "电气",
  VALVES_PUMPS: "泵阀",
  AUTO_PARTS: "汽摩配",
  PRINTING_PACKAGING: "印刷包装",
  LOCKS: "锁具",
  SYNTHETIC_LEATHER: "合成革",
  TRADE: "商贸",
  CATERING: "餐饮",
  CONSTRUCTION: "建筑",
  TECHNOLOGY: "科技",
  LOGISTICS: "物流",
  SERVICES: "服务",
  AGRICULTURE: "农业",
};

export function zh(table: Record<string, Label>, key: string | null | undefined): string {
  if (!key) return "—";
  return table[key]?.[0] ?? key;
}

export function en(table: Record<string, Label>, key: string | null | undefined): string {
  if (!key) return "";
  return table[key]?.[1] ?? key;
}

export function district(code: string | null | undefined): string {
  if (!code) return "—";
  return DISTRICT[code] ? `${DISTRICT[code]} ${code}` : code;
}

/** A relation as an edge label: 法定代表人 · 2018-03-01–2025-06-01 (with a role or share). */
export function edgeLabel(e: {
  relation: string;
  role?: string | null;
  ratio?: number | null;
  validFrom?: string | null;
  validTo?: string | null;
}): string {
  // an executive's or household member's role says more than the relation (董事长, 子女)
  let name = e.role ? (LINK_ROLE[e.role] ?? e.role) : zh(RELATION, e.relation);
  if (e.ratio != null) name += ` ${formatShare(e.ratio)}`;
  const dates = e.validFrom ? `${e.validFrom}–${e.validTo ?? ""}` : "";
  return dates ? `${name}\n${dates}` : name;
}

export function formatShare(ratio: number): string {
  const pct = ratio * 100;
  return `${pct >= 10 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** An instant as the city's wall-clock time (UTC+8, as the toolbar's day): 2025-03-02 10:05. */
export function cityTime(instant: string | null | undefined): string {
  if (!instant) return "—";
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 16).replace("T", " ");
}
