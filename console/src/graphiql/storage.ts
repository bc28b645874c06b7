// What GraphiQL keeps between visits. Its tabs and its history hold the request headers
// (the history plugin stores them whatever `shouldPersistHeaders` says), that is API keys,
// and queries about persons: on a shared office PC none of that may outlive the tab.
// Only the layout and the theme go to localStorage; everything else lives in memory.

// GraphiQL prefixes its keys with `graphiql:` (@graphiql/toolkit StorageAPI).
const DURABLE = new Set(
  ["theme", "visiblePlugin", "editorFlex", "secondaryEditorFlex", "docExplorerFlex"].map((k) => `graphiql:${k}`),
);

/** GraphiQL's `storage` prop: localStorage for the keys in DURABLE, memory for the rest. */
export class TabOnlyStorage {
  private readonly memory = new Map<string, string>();
  private readonly durable: Storage | null;

  constructor(durable: Storage | null) {
    this.durable = durable;
  }

  getItem(key: string): string | null {
    if (DURABLE.has(key)) return this.durable?.getItem(key) ?? null;
    return this.memory.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    if (DURABLE.has(key)) this.durable?.setItem(key, value);
    else this.memory.set(key, value);
  }

  removeItem(key: string): void {
    this.memory.delete(key);
    if (DURABLE.has(key)) this.durable?.removeItem(key);
  }

  clear(): void {
    for (const key of this.keys()) this.removeItem(key);
  }

  get length(): number {
    return this.keys().length;
  }

  /** The names (never the values) of what is held in memory only. */
  memoryKeys(): string[] {
    return [...this.memory.keys()];
  }

  private keys(): string[] {
    const durable = this.durable ? Object.keys(this.durable).filter((k) => DURABLE.has(k)) : [];
    return [...this.memory.keys(), ...durable];
  }
}

export function browserLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage switched off by policy: the layout is simply not remembered
  }
}
