import { create } from '@bufbuild/protobuf';
import {
  type RedeliverDeadLettersRequest,
  RedeliverDeadLettersResponseSchema,
} from '@shoal/contracts';
import { EXIT, parseCommandLine } from '../command-line';
import type { ApiCommand } from './api-command-line';
import type { ShoalClients } from './connection';
import { runApiCommand } from './run-api-command';

function parse(...argv: string[]) {
  let stderr = '';
  const parsed = parseCommandLine(argv, { out: () => {}, err: (text) => (stderr += text) });
  return { parsed, stderr };
}

/**
 * An exporter holding `letters` redeliverable dead letters (one record each) of dst_1, plus
 * `unreadable` ones it skips; it sends again at most 100 per call, as the real one does.
 */
function exporterWith(letters: string[], unreadable: string[] = []) {
  const calls: RedeliverDeadLettersRequest[] = [];
  const left = [...letters];
  const exporter = {
    redeliverDeadLetters: async (request: RedeliverDeadLettersRequest) => {
      calls.push(request);
      const named = request.deadLetterIds;
      const chosen =
        named.length > 0 ? named.filter((id) => left.includes(id)) : left.slice(0, 100);
      for (const id of chosen) left.splice(left.indexOf(id), 1);
      return create(RedeliverDeadLettersResponseSchema, {
        redelivered: chosen.length,
        records: BigInt(chosen.length),
        skipped: (named.length > 0 ? named : unreadable)
          .filter((id) => unreadable.includes(id))
          .map((deadLetterId) => ({ deadLetterId, reason: 'its payload is unreadable' })),
        notFoundIds: named.filter((id) => !letters.includes(id) && !unreadable.includes(id)),
        remaining: BigInt(left.length),
      });
    },
  };
  return { exporter, calls };
}

async function run(command: ApiCommand, exporter: object, json = false) {
  let stdout = '';
  const code = await runApiCommand(command, json, {
    clients: { exporter } as unknown as ShoalClients,
    out: (text) => (stdout += text),
    progress: { update: () => {}, done: () => {} },
    kafkaBrokers: [],
    topicPrefix: '',
    signal: new AbortController().signal,
  });
  return { code, stdout };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `run_${i}/1`);

describe('./shoal destinations redeliver', () => {
  it('takes dead letter ids or --all, not both and not neither', () => {
    expect(parse('destinations', 'redeliver', 'dst_1', 'a/1', 'b/1').parsed).toMatchObject({
      command: {
        api: {
          name: 'destinations redeliver',
          id: 'dst_1',
          deadLetterIds: ['a/1', 'b/1'],
          all: false,
        },
      },
    });
    expect(parse('destinations', 'redeliver', 'dst_1', '--all').parsed).toMatchObject({
      command: { api: { deadLetterIds: [], all: true } },
    });
    for (const argv of [['dst_1'], ['dst_1', 'a/1', '--all']]) {
      const { parsed, stderr } = parse('destinations', 'redeliver', ...argv);
      expect(parsed).toMatchObject({ exitCode: EXIT.usage });
      expect(stderr).toContain('give dead letter ids or --all');
    }
  });

  it('lists dead letters with a limit', () => {
    expect(parse('destinations', 'dead-letters', 'dst_1', '--limit', '5').parsed).toMatchObject({
      command: { api: { name: 'destinations dead-letters', id: 'dst_1', limit: 5 } },
    });
  });

  it('with --all, calls again until none is left, and sums the answers', async () => {
    const { exporter, calls } = exporterWith(ids(250));
    const { code, stdout } = await run(
      { name: 'destinations redeliver', id: 'dst_1', deadLetterIds: [], all: true },
      exporter,
      true,
    );
    expect(code).toBe(EXIT.ok);
    expect(calls).toHaveLength(3);
    expect(JSON.parse(stdout)).toMatchObject({ redelivered: 250, records: '250' });
  });

  it('with --all, stops when a call queues nothing, and exits 4 naming what it skipped', async () => {
    const { exporter, calls } = exporterWith([], ['bad/1']);
    const { code, stdout } = await run(
      { name: 'destinations redeliver', id: 'dst_1', deadLetterIds: [], all: true },
      exporter,
    );
    expect(calls).toHaveLength(1);
    expect(code).toBe(EXIT.refused);
    expect(stdout).toContain('skipped bad/1: its payload is unreadable');
  });

  it('exits 3 when a named id is not a dead letter of the destination, after sending the others', async () => {
    const { exporter } = exporterWith(['a/1']);
    const { code, stdout } = await run(
      { name: 'destinations redeliver', id: 'dst_1', deadLetterIds: ['a/1', 'gone/1'], all: false },
      exporter,
    );
    expect(code).toBe(EXIT.notFound);
    expect(stdout).toMatch(/^queued again: 1 dead letter, 1 record$/m);
    expect(stdout).toContain('gone/1');
  });
});
