import { newProfileState, type ProfileState } from './profile-state';
import { ProfileTable, packProfile, unpackProfile } from './profile-table';

function profile(id: string, since = 1_764_000_000_000): ProfileState {
  const state = newProfileState(id, `inc-${id}`);
  state.pairs['seg_a'] = { seq: 1, member: true, since, everEntered: true };
  state.state = { ...state.state, segments: { seg_a: since }, traits: { plan: 'pro', n: 1.5 } };
  state.tail.push({ n: 'Order Completed', t: since, p: { total: 12.5, sku: 'é-1' } });
  return state;
}

describe('ProfileTable', () => {
  it('packs a state into a string that unpacks to an equal state', () => {
    const state = profile('user:1');
    const packed = packProfile(state);
    expect(packed.length).toBeLessThan(JSON.stringify(state).length);
    expect(unpackProfile(packed)).toEqual(state);
  });

  it('keeps only the most recently used subjects live, and revives the others with their state', () => {
    const changed = new Set<string>();
    const table = new ProfileTable(2, (id) => changed.has(id));
    for (const id of ['a', 'b', 'c']) table.set(profile(id));
    table.get('a');
    table.trim();
    expect(table.liveCount).toBe(2);
    expect(table.size).toBe(3);
    const b = table.get('b');
    expect(b).toEqual(profile('b'));
    expect(table.liveCount).toBe(3);
  });

  it('packs a revived state again with the changes made to it before the checkpoint', () => {
    const changed = new Set<string>();
    const table = new ProfileTable(0, (id) => changed.has(id));
    table.set(profile('a'));
    table.trim();
    const revived = table.get('a') as ProfileState;
    revived.pairs['seg_a'] = { seq: 2, member: false, everEntered: true, lastExitAt: 5 };
    changed.add('a');
    table.trim();
    expect(table.liveCount).toBe(0);
    expect(table.get('a')?.pairs['seg_a']).toEqual({
      seq: 2,
      member: false,
      everEntered: true,
      lastExitAt: 5,
    });
  });

  it('keeps changes written at a checkpoint when the subject is packed afterwards', () => {
    const changed = new Set<string>();
    const table = new ProfileTable(0, (id) => changed.has(id));
    table.set(profile('a'));
    table.trim();
    const revived = table.get('a') as ProfileState;
    revived.offsets.changes = 41;
    // the checkpoint: what changed is written, and the change set starts again
    table.changedSince(['a']);
    table.trim();
    expect(table.get('a')?.offsets.changes).toBe(41);
  });

  it('tells absorbed profiles apart without reviving them', () => {
    const table = new ProfileTable(0, () => false);
    table.set({ ...profile('ghost'), mergedInto: 'user:2' });
    table.set(profile('alive'));
    table.trim();
    expect(table.liveCount).toBe(0);
    expect(table.isGhost('ghost')).toBe(true);
    expect(table.isGhost('alive')).toBe(false);
    expect(table.liveCount).toBe(0);
  });

  it('visits every subject in installation order, keeping at most the hot limit live', () => {
    const table = new ProfileTable(1, () => false);
    for (const id of ['a', 'b', 'c', 'd']) table.set(profile(id));
    table.trim();
    const seen: string[] = [];
    for (const state of table.values()) {
      seen.push(state.id);
      expect(table.liveCount).toBeLessThanOrEqual(2);
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(table.liveCount).toBe(1);
  });
});
