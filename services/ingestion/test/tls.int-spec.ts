import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ProfileService } from '@shoal/contracts';
import { GrpcCallError, ServiceClients, createGrpcClient } from '@shoal/platform';
import { TestScope } from '@shoal/testing';
import { ingestionService } from '../src/service';

/** A throwaway CA and two certificates it signed for 127.0.0.1 (server and client). */
function certificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...key,
    '-days',
    '1',
    '-subj',
    '/CN=Shoal test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'client']) {
    openssl('req', ...key, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.pem`,
      '-extfile',
      'san.cnf',
    );
  }
  const file = (name: string) => join(dir, name);
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

describe('gRPC over TLS', () => {
  const scope = new TestScope();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-tls-'));
  const certs = certificates(dir);
  afterAll(async () => {
    await scope.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves over TLS, refuses plaintext, and requires client certificates with mTLS', async () => {
    const service = await scope.start(ingestionService, {
      GRPC_TLS_CERT_FILE: certs.serverCert,
      GRPC_TLS_KEY_FILE: certs.serverKey,
      GRPC_TLS_CLIENT_CA_FILE: certs.ca,
      GRPC_CLIENT_TLS_CA_FILE: certs.ca,
      GRPC_CLIENT_TLS_CERT_FILE: certs.clientCert,
      GRPC_CLIENT_TLS_KEY_FILE: certs.clientKey,
    });
    const address = `127.0.0.1:${service.grpcPort}`;
    const token = await scope.token({ subject: 'ann' });

    // another service's client: TLS with a client certificate and a service token
    const fromService = service.app.get(ServiceClients).connect(ProfileService, address);
    const missing = await fromService
      .getProfile({ profileId: 'user:nobody' })
      .catch((e: unknown) => e);
    expect((missing as GrpcCallError).code).toBe(grpc.status.NOT_FOUND);

    const tlsWithoutClientCert = createGrpcClient(ProfileService, {
      address,
      credentials: grpc.credentials.createSsl(readFileSync(certs.ca)),
      token: () => token,
      deadlineMs: 3_000,
    });
    const plaintext = createGrpcClient(ProfileService, {
      address,
      token: () => token,
      deadlineMs: 3_000,
    });
    try {
      for (const client of [tlsWithoutClientCert, plaintext]) {
        const refused = await client
          .getProfile({ profileId: 'user:nobody' })
          .catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(GrpcCallError);
        expect((refused as GrpcCallError).code).toBe(grpc.status.UNAVAILABLE);
      }
    } finally {
      tlsWithoutClientCert.close();
      plaintext.close();
    }
  });
});
