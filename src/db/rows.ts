// Turning one batch query's rows into the per-key maps a loader's fetch returns.

export function byId<V>(rows: readonly V[], idOf: (row: V) => string | number): Map<string, V> {
  return new Map(rows.map((row) => [String(idOf(row)), row]));
}

export function groupBy<V>(rows: readonly V[], keyOf: (row: V) => string | number): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    const key = String(keyOf(row));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}
