// relatedParties → graph nodes and edges (pages followed up to a cap, so a super-node stays drawable).

import { ApiError, gql } from "./api";
import type { GEdge, GNode } from "./graph";

const PAGE = 200; // the server's default CREDITLINK_MAX_PAGE
const MAX_NODES = 400;

let available = true;
export function relatedAvailable(): boolean {
  return available;
}

interface Related {
  nodes: GNode[];
  edges: GEdge[];
  truncated: boolean;
}

const QUERY = `
query Related(
  $id: ID!, $depth: Int!, $relations: [RelationType!], $at: DateTime, $first: Int!, $after: String
) {
  relatedParties(
    subjectId: $id, maxDepth: $depth, relations: $relations, at: $at, first: $first, after: $after
  ) {
    truncated
    nodes { id kind name district distance capped degree sanctions { status listType { kind } } }
    links { from to relation role ratio validFrom validTo }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  truncated: boolean;
  nodes: {
    id: string;
    kind: string;
    name: string | null;
    district: string | null;
    distance: number;
    capped: boolean;
    degree: number;
    sanctions: { status: string; listType: { kind: string } }[];
  }[];
  links: {
    from: string;
    to: string;
    relation: string;
    role: string | null;
    ratio: number | null;
    validFrom: string;
    validTo: string | null;
  }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * The neighbourhood of `id` through links of these types (null: all) valid at `at` (null: now),
 * every page up to MAX_NODES nodes.
 */
export async function fetchRelated(
  id: string,
  depth: number,
  at: string | null = null,
  relations: string[] | null = null,
): Promise<Related> {
  const out: Related = { nodes: [], edges: [], truncated: false };
  let after: string | null = null;
  try {
    for (;;) {
      // later pages carry the first page's time in their cursor
      const vars: Record<string, unknown> = { id, depth, relations, first: PAGE, after, at: after ? null : at };
      const data: { relatedParties: Page } = await gql<{ relatedParties: Page }>(QUERY, vars);
      const page = data.relatedParties;
      for (const n of page.nodes) {
        const kinds = new Set(n.sanctions.map((s) => s.listType.kind));
        out.nodes.push({
          id: n.id,
          kind: n.kind,
          name: n.name ?? (n.kind === "HOUSEHOLD" ? `户 ${n.id}` : n.id),
          district: n.district,
          distance: n.distance,
          capped: n.capped,
          degree: n.degree,
          listKind: kinds.has("BLACK") ? "BLACK" : kinds.has("WATCH") ? "WATCH" : kinds.has("RED") ? "RED" : null,
        });
      }
      for (const l of page.links) out.edges.push({ ...l, source: l.from, target: l.to });
      out.truncated ||= page.truncated;
      if (!page.pageInfo.hasNextPage || out.nodes.length >= MAX_NODES) {
        out.truncated ||= page.pageInfo.hasNextPage;
        break;
      }
      after = page.pageInfo.endCursor;
    }
  } catch (err) {
    if (err instanceof ApiError && err.missingField) available = false;
    throw err;
  }
  return out;
}
