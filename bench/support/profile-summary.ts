/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the time went, by
 * package or project file (self time) and by function (self and inclusive
 * time), so a benchmark's hot spots can be read without a browser.
 *
 *   npx tsx bench/support/profile-summary.ts <file.cpuprofile> [--top 30] [--last 30] [--skip-last 3]
 *
 * --last N keeps only the samples of the profile's last N seconds: a benchmark
 * child is profiled from its start, and its set-up (10,000 connections) would
 * otherwise drown the steady state the benchmark measures. --skip-last N also
 * leaves out the final N seconds (a child's shutdown: closing 10,000 streams).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, last: { type: 'string' }, 'skip-last': { type: 'string' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
const top = Number(values.top);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const elapsed: number[] = [];
let clock = 0;
for (const delta of profile.timeDeltas) elapsed.push((clock += delta));
const from = values.last === undefined ? 0 : clock - Number(values.last) * 1e6;
const to = clock - Number(values['skip-last'] ?? 0) * 1e6;

const selfMicros = new Map<number, number>();
profile.samples.forEach((id, index) => {
  const at = elapsed[index] ?? 0;
  if (at < from || at > to) return;
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);

function bucket(url: string): string {
  if (url === '') return '(native/vm)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  return bench >= 0 ? url.slice(bench + 1) : url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${bucket(url)}:${lineNumber + 1}`;
}

const selfByBucket = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const inclusiveByFunction = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const node = byId.get(id);
  if (!node) continue;
  const b = bucket(node.callFrame.url);
  selfByBucket.set(b, (selfByBucket.get(b) ?? 0) + micros);
  selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + micros);
  // Inclusive: credit every distinct function on the stack once.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at);
    if (!frame) break;
    const name = label(frame);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusiveByFunction.set(name, (inclusiveByFunction.get(name) ?? 0) + micros);
  }
}

const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(micros)}  ${name}`);
  }
};
const busy = [...selfMicros].reduce((sum, [id, micros]) => {
  const name = byId.get(id)?.callFrame.functionName;
  return name === '(idle)' || name === '(program)' ? sum : sum + micros;
}, 0);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (not idle/program)`);
show('self time by package / file', selfByBucket);
show('self time by function', selfByFunction);
show('inclusive time by function', inclusiveByFunction);
