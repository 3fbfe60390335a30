// Sums a `node --cpu-prof` profile's self time per package and per function, and the inclusive
// time per function: where a server under load spends its time (bench/RESULTS.md, API read).
// Usage: node bench/cpu-profile-summary.mjs file.cpuprofile [functions=40] [inclusive=0]
//   LAST_MS=10000 keeps only the profile's last 10 s (the load, not the start-up).
import { readFileSync } from 'node:fs';

const [file, functionRows = '40', inclusiveRows = '0'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/cpu-profile-summary.mjs file.cpuprofile [functions] [inclusive]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

let elapsed = 0;
const sampleEnds = profile.timeDeltas.map((delta) => (elapsed += delta));
const from = process.env.LAST_MS ? elapsed - Number(process.env.LAST_MS) * 1000 : Number.NEGATIVE_INFINITY;
const selfTime = new Map();
profile.samples.forEach((id, i) => {
  if (sampleEnds[i] >= from) selfTime.set(id, (selfTime.get(id) ?? 0) + profile.timeDeltas[i]);
});
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

const packageOf = (url) => {
  if (!url) return '(native/vm)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.includes('/dist/')) return `app:${url.split('/dist/')[1]}`;
  return url.startsWith('node:') ? 'node:internal' : url;
};
const label = (id) => {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  return `${functionName || '(anonymous)'} ${packageOf(url)}:${lineNumber}`;
};
const add = (map, key, time) => map.set(key, (map.get(key) ?? 0) + time);

const byPackage = new Map();
const byFunction = new Map();
const inclusive = new Map();
for (const [id, time] of selfTime) {
  add(byPackage, packageOf(nodes.get(id).callFrame.url).replace(/^app:.*/, '(this app)'), time);
  add(byFunction, label(id), time);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parentOf.get(at)) {
    const key = label(at);
    if (!seen.has(key)) add(inclusive, key, time);
    seen.add(key);
  }
}

const show = (title, map, rows) => {
  if (rows <= 0) return;
  console.log(`--- ${title}`);
  for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${(time / 1000).toFixed(0).padStart(7)} ms ${((100 * time) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
};
console.log(`profiled: ${(total / 1000).toFixed(0)} ms`);
show('self time by package', byPackage, 30);
show('self time by function', byFunction, Number(functionRows));
show('inclusive time by function', inclusive, Number(inclusiveRows));
