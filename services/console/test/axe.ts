import { readFileSync } from 'node:fs';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';

/**
 * axe-core's own build from node_modules: nothing comes from the internet. It is evaluated
 * rather than added as a script tag because the console's Content-Security-Policy (script-src
 * 'self') rightly refuses inline scripts, and the tests keep that policy on.
 */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.0 and 2.1 success criteria at levels A and AA. */
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * The WCAG 2 A/AA violations axe-core finds on what `page` shows now inside `within` (a
 * dialog is checked alone: the page behind its overlay is not what users read then), one readable line per
 * offending element: the screen, the rule, its impact, the element and axe's summary of the fix.
 */
export async function accessibilityViolations(
  page: Page,
  screen: string,
  within = 'body',
): Promise<string[]> {
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  // colours measured half-way through a dialog's fade-in are not the ones users read
  await page.waitForFunction(() =>
    (globalThis as unknown as { document: { getAnimations(): { playState: string }[] } }).document
      .getAnimations()
      .every((animation) => animation.playState !== 'running'),
  );
  const results = await page.evaluate(
    ([tags, context]) =>
      (
        globalThis as unknown as { axe: { run: (c: string, o: object) => Promise<AxeResults> } }
      ).axe.run(context, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
      }),
    [WCAG_AA, within] as const,
  );
  return results.violations.flatMap((violation: Result) =>
    violation.nodes.map(
      (node) =>
        `${screen}: ${violation.id} (${violation.impact ?? 'unknown'}) at ${node.target.join(' ')}\n` +
        `    ${node.html.slice(0, 160)}\n` +
        `    ${node.failureSummary?.replace(/\n/g, '\n    ') ?? violation.help}`,
    ),
  );
}
