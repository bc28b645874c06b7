// The related-party graph: cytoscape.js, nodes by kind, sanctioned ones red, paths highlighted.

import cytoscape from "cytoscape";
import type { PathStep } from "./api";
import { edgeLabel } from "./labels";

export interface GNode {
  id: string;
  kind: string; // a SubjectKind, or HOUSEHOLD
  name: string;
  district?: string | null;
  /** BLACK / WATCH / RED when an entry applies now, else null */
  listKind?: string | null;
  distance?: number | null;
  /** a super-node the server listed but did not expand */
  capped?: boolean;
  degree?: number;
}

export interface GEdge {
  source: string;
  target: string;
  relation: string;
  role?: string | null;
  ratio?: number | null;
  validFrom: string;
  validTo?: string | null;
}

/** One id per stored link as a path names it: from, relation, to and start date. */
export function edgeKey(e: { source?: string; from?: string; target?: string; to?: string; relation: string; validFrom: string }): string {
  return `${e.source ?? e.from}|${e.relation}|${e.target ?? e.to}|${e.validFrom}`;
}

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-size": 11,
      "font-family": "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
      color: "#1f2933",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "text-wrap": "ellipsis",
      "text-max-width": "140px",
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.8,
      "text-background-padding": "1px",
      width: 30,
      height: 30,
      "background-color": "#6b7a8f",
      "border-width": 2,
      "border-color": "#ffffff",
    },
  },
  { selector: 'node[kind = "ENTERPRISE"]', style: { shape: "round-rectangle", "background-color": "#2f6fb3" } },
  { selector: 'node[kind = "PUBLIC_INSTITUTION"]', style: { shape: "hexagon", "background-color": "#0f8b8d" } },
  { selector: 'node[kind = "INDIVIDUAL_BUSINESS"]', style: { shape: "round-tag", "background-color": "#b7791f" } },
  { selector: 'node[kind = "PERSON"]', style: { shape: "ellipse", "background-color": "#7b8794" } },
  {
    selector: 'node[kind = "HOUSEHOLD"]',
    style: { shape: "diamond", "background-color": "#9f7aea", width: 22, height: 22 },
  },
  {
    selector: 'node[listKind = "BLACK"]',
    style: { "background-color": "#d93025", "border-color": "#7f1d1d", "border-width": 3 },
  },
  {
    selector: 'node[listKind = "WATCH"]',
    style: { "border-color": "#d93025", "border-width": 4, "border-style": "dashed" },
  },
  { selector: 'node[listKind = "RED"]', style: { "border-color": "#2f9e44", "border-width": 4 } },
  { selector: "node[capped = 1]", style: { "border-style": "double", "border-width": 5, "border-color": "#52606d" } },
  {
    selector: "node.focus",
    style: { width: 44, height: 44, "font-size": 13, "font-weight": "bold" },
  },
  { selector: "node:selected", style: { "overlay-color": "#2f6fb3", "overlay-opacity": 0.18 } },
  {
    selector: "edge",
    style: {
      width: 1.6,
      "curve-style": "bezier",
      "line-color": "#a0aab5",
      "target-arrow-color": "#a0aab5",
      "target-arrow-shape": "triangle",
      "arrow-scale": 0.9,
      label: "data(label)",
      "font-size": 9,
      color: "#52606d",
      "text-wrap": "wrap",
      "text-rotation": "autorotate",
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.85,
      "text-background-padding": "1px",
    },
  },
  { selector: "edge.ended", style: { "line-style": "dashed" } },
  { selector: ".dim", style: { opacity: 0.22 } },
  {
    selector: "node.path",
    style: {
      "border-color": "#f59f00",
      "border-width": 6,
      "z-index": 10,
    },
  },
  {
    selector: "edge.path",
    style: {
      width: 5,
      "line-color": "#f59f00",
      "target-arrow-color": "#f59f00",
      color: "#7a4d00",
      "font-weight": "bold",
      "z-index": 10,
    },
  },
];

export interface GraphState {
  focus: string | null;
  nodes: { id: string; kind: string; name: string; listKind: string | null; highlighted: boolean }[];
  edges: { id: string; source: string; target: string; relation: string; highlighted: boolean }[];
  highlightedNodes: string[];
  highlightedEdges: string[];
}

export class RelatedGraph {
  readonly cy: cytoscape.Core;
  private focusId: string | null = null;
  private readonly container: HTMLElement;

  constructor(container: HTMLElement, onTap: (id: string) => void, onDoubleTap: (id: string) => void) {
    this.container = container;
    this.cy = cytoscape({
      container,
      style: STYLE,
      minZoom: 0.2,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      boxSelectionEnabled: false,
    });
    this.cy.on("tap", "node", (evt) => onTap(evt.target.id() as string));
    this.cy.on("dbltap", "node", (evt) => onDoubleTap(evt.target.id() as string));
    this.cy.on("tap", (evt) => {
      if (evt.target === this.cy) this.cy.elements().unselect();
    });
    this.sync();
  }

  reset(focus: string): void {
    this.cy.elements().remove();
    this.focusId = focus;
  }

  get focus(): string | null {
    return this.focusId;
  }

  has(id: string): boolean {
    return this.cy.getElementById(id).nonempty();
  }

  node(id: string): GNode | null {
    const n = this.cy.getElementById(id);
    return n.nonempty() ? (n.data("node") as GNode) : null;
  }

  /** Add nodes and edges (idempotent); returns the ids of nodes that were new. */
  merge(nodes: GNode[], edges: GEdge[]): string[] {
    const added: string[] = [];
    this.cy.batch(() => {
      for (const n of nodes) {
        const existing = this.cy.getElementById(n.id);
        const old = existing.nonempty() ? (existing.data("node") as GNode) : null;
        // keep what we knew when the new row knows less (a path node first seen by id only)
        const node: GNode = old ? { ...old, ...n, name: n.name || old.name, kind: n.kind || old.kind } : n;
        const data = {
          id: node.id,
          kind: node.kind,
          label: nodeLabel(node),
          listKind: node.listKind ?? null,
          capped: node.capped ? 1 : 0,
          node,
        };
        if (existing.nonempty()) {
          existing.data(data);
        } else {
          this.cy.add({ group: "nodes", data });
          added.push(n.id);
        }
      }
      for (const e of edges) {
        const id = edgeKey(e);
        if (this.cy.getElementById(id).nonempty()) continue;
        if (this.cy.getElementById(e.source).empty() || this.cy.getElementById(e.target).empty()) continue;
        const ended = e.validTo != null && e.validTo <= today();
        this.cy.add({
          group: "edges",
          data: { id, source: e.source, target: e.target, relation: e.relation, label: edgeLabel(e), edge: e },
          classes: ended ? "ended" : "",
        });
      }
      this.cy.nodes().removeClass("focus");
      if (this.focusId) this.cy.getElementById(this.focusId).addClass("focus");
    });
    this.sync();
    return added;
  }

  /** Concentric rings by distance from the focus subject (recomputed over what is shown). */
  layout(animate = false): Promise<void> {
    const focus = this.focusId ? this.cy.getElementById(this.focusId) : this.cy.collection();
    const dist = new Map<string, number>();
    if (focus.nonempty()) {
      const bfs = this.cy.elements().bfs({
        roots: focus,
        directed: false,
        visit: (v, _e, _u, _i, depth) => {
          dist.set(v.id(), depth);
        },
      });
      void bfs;
    }
    const maxDepth = Math.max(0, ...dist.values()) + 1;
    return new Promise((resolve) => {
      const layout = this.cy.layout({
        name: "concentric",
        concentric: (n: cytoscape.NodeSingular) => maxDepth - (dist.get(n.id()) ?? maxDepth),
        levelWidth: () => 1,
        minNodeSpacing: 46,
        spacingFactor: 1.05,
        avoidOverlap: true,
        animate,
        animationDuration: 300,
        fit: false,
      } as cytoscape.LayoutOptions);
      layout.one("layoutstop", () => {
        this.fit();
        this.sync();
        resolve();
      });
      layout.run();
    });
  }

  /** Everything in view, but a small graph is not blown up past a readable size. */
  fit(): void {
    this.cy.fit(undefined, 40);
    if (this.cy.zoom() > 1.3) {
      this.cy.zoom(1.3);
      this.cy.center();
    }
  }

  /** Highlight paths (and extra nodes, e.g. the sanctioned subject); everything else fades. */
  highlight(paths: PathStep[][], extraNodes: string[] = []): void {
    this.cy.batch(() => {
      this.cy.elements().removeClass("path dim");
      const nodes = new Set<string>(extraNodes);
      const edges = new Set<string>();
      for (const path of paths) {
        for (const step of path) {
          nodes.add(step.from);
          nodes.add(step.to);
          edges.add(edgeKey(step));
        }
      }
      if (nodes.size === 0) {
        this.sync();
        return;
      }
      this.cy.elements().addClass("dim");
      for (const id of nodes) this.cy.getElementById(id).removeClass("dim").addClass("path");
      for (const id of edges) this.cy.getElementById(id).removeClass("dim").addClass("path");
    });
    this.sync();
  }

  clearHighlight(): void {
    this.cy.elements().removeClass("path dim");
    this.sync();
  }

  state(): GraphState {
    const nodes = this.cy.nodes().map((n) => ({
      id: n.id(),
      kind: n.data("kind") as string,
      name: n.data("label") as string,
      listKind: (n.data("listKind") as string | null) ?? null,
      highlighted: n.hasClass("path"),
    }));
    const edges = this.cy.edges().map((e) => ({
      id: e.id(),
      source: e.source().id(),
      target: e.target().id(),
      relation: e.data("relation") as string,
      highlighted: e.hasClass("path"),
    }));
    return {
      focus: this.focusId,
      nodes,
      edges,
      highlightedNodes: nodes.filter((n) => n.highlighted).map((n) => n.id),
      highlightedEdges: edges.filter((e) => e.highlighted).map((e) => e.id),
    };
  }

  /** Where a node is drawn, in page coordinates (for tests that click the canvas). */
  pagePosition(id: string): { x: number; y: number } | null {
    const n = this.cy.getElementById(id);
    if (n.empty()) return null;
    const box = this.container.getBoundingClientRect();
    const p = n.renderedPosition();
    return { x: box.left + p.x, y: box.top + p.y };
  }

  /** Mirror the state on the container as data attributes, for anyone inspecting the DOM. */
  private sync(): void {
    const s = this.state();
    this.container.dataset.nodes = String(s.nodes.length);
    this.container.dataset.edges = String(s.edges.length);
    this.container.dataset.focus = s.focus ?? "";
    this.container.dataset.highlightedNodes = s.highlightedNodes.join(" ");
    this.container.dataset.highlightedEdges = s.highlightedEdges.join(" ");
  }
}

function nodeLabel(n: GNode): string {
  const name = n.name || n.id;
  return n.capped && n.degree ? `${name} (${n.degree})` : name;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}
