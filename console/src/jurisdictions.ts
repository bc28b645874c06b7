// The catalogue's jurisdictions (cities), to name where an entry comes from: `jurisdictions`
// is public, so the names are there before a key is given.

import { gql } from "./api";

export interface Jurisdiction {
  id: string;
  name: string;
  local: boolean;
}

let known = new Map<string, Jurisdiction>();

/** Reads the jurisdictions unless they were read: whether this call read them. Until they
 * are, the ids are shown as they are. */
export async function loadJurisdictions(): Promise<boolean> {
  if (known.size > 0) return false;
  const data = await gql<{ jurisdictions: Jurisdiction[] }>(`{ jurisdictions { id name local } }`);
  known = new Map(data.jurisdictions.map((j) => [j.id, j]));
  return true;
}

/** This instance's own jurisdiction, once loaded. */
export function localJurisdiction(): Jurisdiction | null {
  for (const j of known.values()) if (j.local) return j;
  return null;
}

/** The city's name (嘉兴 for jiaxing), or the id when it is not known. */
export function cityName(id: string): string {
  return known.get(id)?.name ?? id;
}

/** Whether `id` is another city's: unknown until loaded, so nothing is marked foreign then. */
export function isForeign(id: string): boolean {
  const local = localJurisdiction();
  return local !== null && id !== local.id;
}
