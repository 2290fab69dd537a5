import { LocalInfraError, SHOAL_SERVICES, tailOf } from '@shoal/local-infra';
import { runDemo } from './demo';
import { LocalStack } from './local-stack';

const USAGE = `usage: ./shoal <command>

  up [--no-demo]       start Kafka, the store and the five services, then run the demo
  down                 stop the services and the infrastructure
  status               what is running and ready
  demo                 send demo events and read the profiles back over gRPC
  token [--subject S] [--groups a,b] [--ttl SECONDS]
                       print a development user token for gRPC calls
                       (group profile-readers may read profiles)
  token --service NAME print a development service token (5 minutes), as service NAME
  logs <service|kafka|mongo> [--lines N]
  infra <provision|up|down|status|logs|env>
                       the infrastructure alone
  test                 lint, typecheck, contract drift, unit and integration tests`;

/* eslint-disable no-console -- this is the command line */
const out = (line: string) => console.log(line);
const log = (line: string) => console.error(`  ${line}`);

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  const stack = new LocalStack(log);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  switch (command) {
    case 'up': {
      out('starting infrastructure (first run downloads Kafka and the store from Maven Central)…');
      await stack.infra.up({ signal: abort.signal });
      out('starting services…');
      await stack.services.up(await stack.serviceEnv(), abort.signal);
      await printStatus(stack);
      if (!rest.includes('--no-demo')) {
        out('\ndemo:');
        await runDemo(stack, (line) => out(`  ${line}`));
      }
      out(`\nnext: TOKEN=$(./shoal token --subject you --groups marketing)`);
      out('      grpcurl -plaintext -H "authorization: Bearer $TOKEN" 127.0.0.1:50051 list');
      out('      ./shoal down');
      return 0;
    }
    case 'down':
      await stack.services.down();
      await stack.infra.down();
      return 0;
    case 'status':
      await printStatus(stack);
      return 0;
    case 'demo':
      await runDemo(stack, out);
      return 0;
    case 'token': {
      const service = option(rest, '--service');
      if (service) {
        out(await stack.serviceToken(service));
        return 0;
      }
      const groups = (option(rest, '--groups') ?? '').split(',').filter(Boolean);
      const ttl = Number(option(rest, '--ttl') ?? 3600);
      out(await stack.token(option(rest, '--subject') ?? 'developer', groups, ttl));
      return 0;
    }
    case 'logs': {
      const name = rest[0];
      const lines = Number(option(rest, '--lines') ?? 50);
      if (name === 'kafka' || name === 'mongo')
        tailOf(stack.infra.logFile(name), lines).forEach((l) => out(l));
      else if ((SHOAL_SERVICES as readonly string[]).includes(name ?? '')) {
        tailOf(stack.services.logFile(name as (typeof SHOAL_SERVICES)[number]), lines).forEach(
          (l) => out(l),
        );
      } else {
        console.error(`logs of what? one of: ${[...SHOAL_SERVICES, 'kafka', 'mongo'].join(', ')}`);
        return 2;
      }
      return 0;
    }
    default:
      console.error(USAGE);
      return command && command !== 'help' ? 2 : 0;
  }
}

async function printStatus(stack: LocalStack): Promise<void> {
  for (const s of await stack.infra.status()) {
    out(
      `  ${s.component.padEnd(11)} ${(s.ready ? 'ready' : s.running ? 'not ready' : 'stopped').padEnd(10)} ${s.endpoint}`,
    );
  }
  for (const s of await stack.services.status()) {
    const state = s.ready ? 'ready' : s.running ? 'not ready' : 'stopped';
    out(`  ${s.name.padEnd(11)} ${state.padEnd(10)} gRPC ${s.grpc}  ${s.http}/readyz`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof LocalInfraError ? `shoal: ${error.message}` : error);
    process.exit(1);
  },
);
