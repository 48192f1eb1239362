import fs from 'node:fs';
import { summarizeProfile } from './lib/profile';
const r = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const k = process.argv[3];
const w = r.profile[k].window;
const s = summarizeProfile(r.profile.file, w.fromUs, w.toUs, 40);
for (const f of s.topSelf) console.log(f.pct.toFixed(1).padStart(5), f.fn.padEnd(40), f.where);
console.log(s.byArea.map((a) => `${a.area} ${a.pct}%`).join(', '));
