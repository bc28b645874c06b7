// The console's only way to the data: POST /graphql with the pasted key, as any front-end would.

const KEY_STORAGE = "creditlink.console.key";

export interface GraphQLErrorItem {
  message: string;
  extensions?: { code?: string };
}

export class ApiError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
  /** The server's schema has no such field (yet): the feature is hidden, not broken. */
  get missingField(): boolean {
    return this.code === "GRAPHQL_VALIDATION_FAILED" || /Cannot query field/.test(this.message);
  }
}

export function getKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? "";
}

export function setKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

let inflight = 0;
const listeners = new Set<(busy: number) => void>();
export function onBusy(fn: (busy: number) => void): void {
  listeners.add(fn);
}
function setInflight(delta: number): void {
  inflight += delta;
  for (const fn of listeners) fn(inflight);
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const key = getKey();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  setInflight(1);
  try {
    let response: Response;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new ApiError(`网络错误 network error: ${String(err)}`, "NETWORK");
    }
    let body: { data?: T | null; errors?: GraphQLErrorItem[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new ApiError(`HTTP ${response.status}: the answer is not JSON`, "HTTP");
    }
    if (body.errors?.length) {
      const first = body.errors[0]!;
      const code =
        first.extensions?.code ??
        (/Cannot query field|Unknown argument|Unknown type/.test(first.message)
          ? "GRAPHQL_VALIDATION_FAILED"
          : "ERROR");
      throw new ApiError(first.message, code);
    }
    if (!body.data) throw new ApiError(`HTTP ${response.status}: no data`, "HTTP");
    return body.data;
  } finally {
    setInflight(-1);
  }
}

// ---- shapes the console reads ---------------------------------------------------------

export interface Department {
  id: string;
  name: string;
}
export interface ListTypeRef {
  id: string;
  name: string;
  kind: string;
}
export interface SanctionRow {
  id: string;
  status: string;
  decidedOn: string;
  validFrom: string;
  validTo: string | null;
  liftedAt: string | null;
  documentNo: string;
  reason: string;
  recognized: boolean;
  jurisdiction: string;
  /** Where a relayed entry came from; null for an entry issued here. */
  source: SanctionSource | null;
  listType: ListTypeRef;
  issuer: Department;
}
export interface SanctionSource {
  jurisdiction: string;
  sourceId: string;
  receivedAt: string;
}
export interface SubjectRow {
  id: string;
  kind: string;
  name: string;
  district: string | null;
  industry?: string | null;
  status?: string | null;
  registeredCapital?: number | null;
  establishedOn?: string | null;
  birthDate?: string | null;
  sanctions?: SanctionRow[];
}
export interface PathStep {
  from: string;
  relation: string;
  to: string;
  validFrom: string;
  validTo: string | null;
}
export interface MeasureRow {
  id: string;
  name: string;
  area: string;
  effect: string;
  legalBasis: string;
  description: string;
  implementers: Department[];
}
export interface AppliedMeasure {
  measure: MeasureRow;
  role: string;
  suppressed: boolean;
  sanction: {
    id: string;
    status: string;
    documentNo: string;
    decidedOn: string;
    listType: ListTypeRef;
    issuer: Department;
    subject: { id: string; name: string; kind: string };
  };
  path: PathStep[];
}
export interface CheckResult {
  checkId: string;
  subjectId: string;
  subjectKnown: boolean;
  area: string;
  at: string;
  decision: string;
  measures: AppliedMeasure[];
}
export interface ImpactedSubject {
  subject: { id: string; name: string; kind: string; district: string | null };
  role: string;
  areas: string[];
  path: PathStep[];
}

const SANCTION_FIELDS = `
  id status decidedOn validFrom validTo liftedAt documentNo reason recognized jurisdiction
  source { jurisdiction sourceId receivedAt }
  listType { id name kind } issuer { id name }`;

const SUBJECT_FIELDS = `
  id kind name district
  ... on Enterprise { industry status registeredCapital establishedOn }
  ... on PublicInstitution { industry status }
  ... on IndividualBusiness { industry status establishedOn }
  ... on Person { birthDate }`;

export async function fetchSubject(id: string): Promise<SubjectRow | null> {
  const data = await gql<{ subject: SubjectRow | null }>(
    `query Subject($id: ID!) { subject(id: $id) { ${SUBJECT_FIELDS} sanctions { ${SANCTION_FIELDS} } } }`,
    { id },
  );
  return data.subject;
}

/** Names and kinds of several subjects at once (for nodes a path brings onto the graph). */
export async function fetchSubjects(ids: string[]): Promise<Map<string, SubjectRow>> {
  const out = new Map<string, SubjectRow>();
  for (let i = 0; i < ids.length; i += 20) {
    const chunk = ids.slice(i, i + 20);
    const vars: Record<string, string> = {};
    const decl = chunk.map((_, j) => `$i${j}: ID!`).join(", ");
    const body = chunk
      .map((id, j) => {
        vars[`i${j}`] = id;
        return `s${j}: subject(id: $i${j}) { id kind name district sanctions(activeAt: $now) { id listType { kind } } }`;
      })
      .join("\n");
    const data = await gql<Record<string, SubjectRow | null>>(
      `query Names(${decl}, $now: DateTime) { ${body} }`,
      { ...vars, now: new Date().toISOString() },
    );
    for (const row of Object.values(data)) if (row) out.set(row.id, row);
  }
  return out;
}

export interface SearchHit {
  id: string;
  kind: string;
  name: string;
  district: string | null;
  sanctions: { id: string; listType: { kind: string } }[];
}

export async function searchSubjects(
  query: string,
  kind: string | null,
  after: string | null,
): Promise<{ hits: SearchHit[]; endCursor: string | null; hasNextPage: boolean }> {
  const data = await gql<{
    searchSubjects: {
      edges: { node: SearchHit }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  }>(
    `query Search($q: String!, $kind: SubjectKind, $after: String, $now: DateTime) {
      searchSubjects(query: $q, kind: $kind, first: 20, after: $after) {
        edges { node { id kind name district sanctions(activeAt: $now) { id listType { kind } } } }
        pageInfo { hasNextPage endCursor }
      }
    }`,
    { q: query, kind, after, now: new Date().toISOString() },
  );
  return {
    hits: data.searchSubjects.edges.map((e) => e.node),
    endCursor: data.searchSubjects.pageInfo.endCursor,
    hasNextPage: data.searchSubjects.pageInfo.hasNextPage,
  };
}

const CHECK = `
query Check($id: ID!, $area: ApplicationArea!, $at: DateTime) {
  jointSanctionCheck(subjectId: $id, area: $area, at: $at) {
    checkId subjectId subjectKnown area at decision
    measures {
      role suppressed
      measure { id name area effect legalBasis description implementers { id name } }
      sanction {
        id status documentNo decidedOn listType { id name kind } issuer { id name }
        subject { id name kind }
      }
      path { from relation to validFrom validTo }
    }
  }
}`;

export async function runCheck(id: string, area: string, at: string | null): Promise<CheckResult> {
  const data = await gql<{ jointSanctionCheck: CheckResult }>(CHECK, { id, area, at });
  return data.jointSanctionCheck;
}

const IMPACT_FIELDS = `subject { id name kind district } role areas path { from relation to validFrom validTo }`;

export async function sanctionImpact(sanctionId: string): Promise<ImpactedSubject[]> {
  const data = await gql<{ sanctionImpact: ImpactedSubject[] }>(
    `query Impact($id: ID!) { sanctionImpact(sanctionId: $id) { ${IMPACT_FIELDS} } }`,
    { id: sanctionId },
  );
  return data.sanctionImpact;
}

export async function sanctionImpactPreview(
  subjectId: string,
  listType: string,
  decidedOn: string | null,
): Promise<ImpactedSubject[]> {
  const data = await gql<{ sanctionImpactPreview: ImpactedSubject[] }>(
    `query Preview($input: SanctionPreviewInput!) {
      sanctionImpactPreview(input: $input) { ${IMPACT_FIELDS} }
    }`,
    { input: { subjectId, listType, decidedOn } },
  );
  return data.sanctionImpactPreview;
}

export async function listTypes(): Promise<ListTypeRef[]> {
  const data = await gql<{ listTypes: ListTypeRef[] }>(`{ listTypes { id name kind } }`);
  return data.listTypes;
}
