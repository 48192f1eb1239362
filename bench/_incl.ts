import fs from 'node:fs';
const p = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map<string, number>(); let total = 0;
const self = new Map<number, number>();
p.samples.forEach((id: number, i: number) => { const dt = p.timeDeltas[i + 1] ?? 0; self.set(id, (self.get(id) ?? 0) + dt); total += dt; });
for (const [id, us] of self) {
  const seen = new Set<string>(); let x: number | undefined = id;
  while (x !== undefined) { const cf = byId.get(x).callFrame; const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/main\//, '')}:${cf.lineNumber + 1}`; if (!seen.has(key)) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + us); } x = parent.get(x); }
}
const filter = process.argv[3] ? new RegExp(process.argv[3]) : /./;
[...incl.entries()].filter(([k]) => filter.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[4] ?? 40)).forEach(([k, us]) => console.log((100 * us / total).toFixed(1).padStart(5), k));
