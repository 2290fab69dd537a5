import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { type CreateDestinationRequest, CreateDestinationResponseSchema } from '@shoal/contracts';
import { EXIT, parseCommandLine } from '../command-line';
import type { ApiCommand } from './api-command-line';
import type { ShoalClients } from './connection';
import { runApiCommand } from './run-api-command';

function parse(...argv: string[]) {
  let stderr = '';
  const parsed = parseCommandLine(['destinations', 'create', '--name', 'crm', ...argv], {
    out: () => {},
    err: (text) => (stderr += text),
  });
  return { parsed, stderr };
}

function commandOf(...argv: string[]): ApiCommand {
  const { parsed, stderr } = parse(...argv);
  if (!('command' in parsed) || parsed.command.name !== 'api') {
    throw new Error(`not a service command: ${stderr}`);
  }
  return parsed.command.api;
}

/** Runs a create against an exporter that records the request and answers with its name. */
async function created(
  command: ApiCommand,
): Promise<{ code: number; request: CreateDestinationRequest }> {
  const requests: CreateDestinationRequest[] = [];
  const exporter = {
    createDestination: async (request: CreateDestinationRequest) => {
      requests.push(request);
      return create(CreateDestinationResponseSchema, {
        destination: { id: 'dst_1', name: request.name },
      });
    },
  };
  const code = await runApiCommand(command, true, {
    clients: { exporter } as unknown as ShoalClients,
    out: () => {},
    progress: { update: () => {}, done: () => {} },
    kafkaBrokers: [],
    topicPrefix: '',
    signal: new AbortController().signal,
  });
  return { code, request: requests[0] };
}

const secretFile = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'shoal-cli-')), 'secret');
  writeFileSync(file, text);
  return file;
};

describe('./shoal destinations create', () => {
  it('signs a webhook with the secret read from its file, not the command line', async () => {
    const file = secretFile('a-signing-secret-of-32-characters\n');
    const { code, request } = await created(
      commandOf('--webhook', 'https://crm.example/hook', '--signing-secret-file', file),
    );
    expect(code).toBe(EXIT.ok);
    expect(request.config?.kind).toEqual({
      case: 'webhook',
      value: expect.objectContaining({
        url: 'https://crm.example/hook',
        signingSecret: 'a-signing-secret-of-32-characters',
      }),
    });
  });

  it('refuses a webhook without a signing secret file, and a secret file without a webhook', () => {
    expect(parse('--webhook', 'https://crm.example/hook').stderr).toMatch(
      /a webhook needs --signing-secret-file/,
    );
    expect(parse('--directory', '/tmp/x', '--signing-secret-file', 's').stderr).toMatch(
      /--signing-secret-file goes with --webhook/,
    );
  });

  it('connects a Kafka destination over TLS with SASL, the password read from its file', async () => {
    const file = secretFile('p4ss\n');
    const { request } = await created(
      commandOf(
        '--kafka-topic',
        'crm.members',
        '--brokers',
        'kafka.example:9093',
        '--tls',
        '--sasl',
        'scram-sha-512',
        '--sasl-username',
        'shoal',
        '--sasl-password-file',
        file,
      ),
    );
    expect(request.config?.kind).toEqual({
      case: 'kafkaTopic',
      value: expect.objectContaining({
        topic: 'crm.members',
        brokers: ['kafka.example:9093'],
        tls: true,
        saslMechanism: 'scram-sha-512',
        saslUsername: 'shoal',
        saslPassword: 'p4ss',
      }),
    });
  });

  it('needs a user name and a password file with --sasl, and --sasl for them', () => {
    const topic = ['--kafka-topic', 't', '--brokers', 'k:9092'];
    expect(parse(...topic, '--sasl', 'plain').stderr).toMatch(
      /--sasl needs --sasl-username and --sasl-password-file/,
    );
    expect(parse(...topic, '--sasl-username', 'u').stderr).toMatch(/go with --sasl <mechanism>/);
    expect(parse(...topic, '--sasl', 'md5').stderr).toMatch(/Allowed choices are plain/);
    expect(parse('--directory', '/tmp/x', '--tls').stderr).toMatch(/go with --kafka-topic/);
  });

  it('refuses, naming the file, a secret it cannot read, and sends nothing', async () => {
    const command = commandOf(
      '--webhook',
      'https://crm.example/hook',
      '--signing-secret-file',
      '/nonexistent/secret',
    );
    await expect(created(command)).rejects.toThrow(
      /cannot read the secret from \/nonexistent\/secret/,
    );
  });
});
