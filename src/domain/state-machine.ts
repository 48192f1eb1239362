/** A transition table: for each status, the statuses that may directly follow it. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** `to` follows `from` through one or more transitions of `table` (a snapshot may skip states it implies). */
export function reachable<S extends string>(table: TransitionTable<S>, from: S, to: S): boolean {
  const seen = new Set<S>();
  const stack = [...table[from]];
  while (stack.length) {
    const next = stack.pop()!;
    if (next === to) return true;
    if (!seen.has(next)) {
      seen.add(next);
      stack.push(...table[next]);
    }
  }
  return false;
}
