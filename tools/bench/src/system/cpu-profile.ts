import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

/** Where a frame's code lives: a package, a Shoal library or service, Node itself, or V8. */
function ownerOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const shoal = /\/(libs|services|deploy)\/([^/]+)\//.exec(url);
  if (shoal) return `${shoal[1]}/${shoal[2]}`;
  if (url.startsWith('node:')) return 'node';
  return url.slice(url.lastIndexOf('/') + 1);
}

export interface HotPath {
  readonly file: string;
  readonly sampledSeconds: number;
  /** Self time by owner (package, library, "(garbage collector)"), largest first. */
  readonly byOwner: readonly { name: string; seconds: number; share: number }[];
  /** Self time by function, largest first. */
  readonly byFunction: readonly { name: string; seconds: number; share: number }[];
}

/** Self time of a `node --cpu-prof` profile, by owner and by function (top `top` of each). */
export function summariseProfile(file: string, top = 12): HotPath {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = (profile.endTime - profile.startTime) / 1e6;
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const samples = profile.samples?.length ?? 0;
  const perSample = samples > 0 ? total / samples : 0;
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? node.hitCount ?? 0;
    if (count === 0 || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const owner = ownerOf(url, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + count);
    const name = `${functionName || '(anonymous)'} ${owner}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + count);
  }
  const busy = [...owners.values()].reduce((a, b) => a + b, 0);
  const ranked = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => ({
        name,
        seconds: Math.round(count * perSample * 100) / 100,
        share: Math.round((count / Math.max(1, busy)) * 1000) / 10,
      }));
  return {
    file,
    sampledSeconds: Math.round(busy * perSample * 10) / 10,
    byOwner: ranked(owners),
    byFunction: ranked(functions),
  };
}

/** The profiles a `--cpu-prof-dir` holds. */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
