/* eslint-disable no-console -- the command line is where output belongs */
import { LocalInfraError } from '@shoal/local-infra';
import { GrpcCallError } from '@shoal/platform';
import { describeFailure } from './api/format';
import { EXIT, parseCommandLine } from './command-line';
import { runCommand } from './commands';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(argv, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  if ('exitCode' in parsed) return parsed.exitCode;

  // The servers run in their own process groups, so Ctrl-C reaches only us: stop what this
  // command started, then exit. A second Ctrl-C exits at once.
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    console.error('shoal: interrupted, cleaning up (Ctrl-C again to exit now)');
    interrupt.abort();
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  try {
    return await runCommand(parsed.command, interrupt.signal);
  } catch (error) {
    if (interrupt.signal.aborted) {
      console.error('shoal: interrupted');
      return EXIT.interrupted;
    }
    if (error instanceof LocalInfraError) {
      console.error(`shoal: ${error.summary}`);
      for (const line of error.details) console.error(`  ${line}`);
    } else if (error instanceof GrpcCallError) {
      const { message, exitCode } = describeFailure(error);
      process.stderr.write(message);
      return exitCode;
    } else {
      console.error('shoal:', error);
    }
    return EXIT.failure;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
