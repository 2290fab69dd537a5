import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fromJson, toJson } from '@bufbuild/protobuf';
import {
  RefreshMode,
  ReentryMode,
  RuleSchema,
  SegmentKind,
  SegmentService,
  Visibility,
  upstreamEventsTopic,
} from '@shoal/contracts';
import { createGrpcClient } from '@shoal/platform';
import { ShoalStack, TestScope, eventually, repoRoot } from '@shoal/testing';
import { parse } from 'csv-parse/sync';
import { type Browser, type Locator, type Page, chromium } from 'playwright-core';
import { accessibilityViolations } from './axe';
import { debianChromium } from './chromium';

jest.setTimeout(240_000);

/** How long one step may take to show its effect; generous, the machine is shared. */
const STEP_MS = 60_000;
/** Where the screenshots of the main screens go (the README shows two of them). */
const SCREENSHOTS = process.env.SHOAL_SCREENSHOT_DIR ?? join(repoRoot, '.shoal', 'screenshots');

/** The first product example of docs/rules.md, as the builder must produce it. */
const LOYAL_BUT_LAPSED = {
  condition: {
    all: {
      conditions: [
        { event: { name: 'Order Completed', count: { gt: 1 } } },
        {
          any: {
            conditions: [
              { event: { name: 'Page Viewed', lastSeen: { before: { daysAgo: 40 } } } },
              { event: { name: 'Page Viewed', count: { eq: 0 } } },
            ],
          },
        },
        { event: { name: 'Order Completed', sum: { property: 'total', gt: 800 } } },
        { trait: { path: 'marketing_consent', equals: true } },
      ],
    },
  },
};

/**
 * A marketer's session in a real Chromium against the five built services and the console,
 * started as processes on real Kafka and the store.
 */
describe('the console in a browser', () => {
  const scope = new TestScope();
  const stack = new ShoalStack(scope);
  const receiver: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  let browser: Browser | undefined;
  let page: Page;
  let segmentId = '';
  /** Every WCAG 2 A/AA violation found on the screens visited, asserted empty at the end. */
  const violations: string[] = [];
  const checked: string[] = [];
  const checkAccessibility = async (on: Page, screen: string, within?: string) => {
    checked.push(screen);
    violations.push(...(await accessibilityViolations(on, screen, within)));
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const executablePath = debianChromium();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await stack.start({ console: true });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    page = await signedInPage('ann', 'marketing, profile-readers', 'sign-in.png');
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await stack.close();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await scope.close();
  });

  async function signedInPage(user: string, groups: string, screenshot?: string): Promise<Page> {
    const context = await (browser as Browser).newContext({
      viewport: { width: 1366, height: 768 },
      acceptDownloads: true,
    });
    const opened = await context.newPage();
    await opened.goto(stack.consoleUrl);
    await opened.getByLabel('User name').fill(user);
    await opened.getByLabel('Groups').fill(groups);
    if (screenshot) {
      await opened.screenshot({ path: join(SCREENSHOTS, screenshot) });
      await checkAccessibility(opened, 'sign-in');
    }
    await opened.getByRole('button', { name: 'Sign in' }).click();
    await opened.getByRole('heading', { name: 'Segments' }).waitFor();
    return opened;
  }

  /** Upstream systems' Segment-spec JSON, keyed as they key it. */
  async function send(...events: Record<string, unknown>[]) {
    await scope.produce(
      upstreamEventsTopic,
      events.map((event) => ({
        key: String(event['userId']),
        value: JSON.stringify({ messageId: randomBytes(8).toString('hex'), ...event }),
      })),
    );
  }

  /** A loyal customer who never visited: two orders worth 900 together, consent given. */
  const loyalCustomer = (userId: string) => [
    {
      type: 'identify',
      userId,
      traits: { marketing_consent: true, email: `${userId}@example.com` },
    },
    { type: 'track', userId, event: 'Order Completed', properties: { total: 500 } },
    { type: 'track', userId, event: 'Order Completed', properties: { total: 400 } },
  ];

  const condition = (path: string): Locator => page.locator(`fieldset[data-path="${path}"]`);

  /** Picks an option of a Mantine select, found by its label inside `scope`. */
  async function choose(
    scope: Locator,
    label: string,
    option: string,
    which: 'first' | 'last' = 'first',
  ) {
    const input = scope.getByLabel(label, { exact: true });
    await (which === 'first' ? input.first() : input.last()).click();
    await page.getByRole('option', { name: option, exact: true }).click();
  }

  async function addCondition(group: Locator, kind: string) {
    await choose(group, 'New condition kind', kind, 'last');
    await group.getByRole('button', { name: 'Add condition' }).last().click();
  }

  it('builds the first product example in the rule builder and shows its size estimate', async () => {
    await send(...loyalCustomer('cora'));
    await page.getByRole('link', { name: 'New segment' }).click();
    await page.getByRole('textbox', { name: /^Name/ }).fill('Loyal but lapsed');

    await choose(page.locator('main'), 'New condition kind', 'Group (all / any / none)');
    await page.getByRole('button', { name: 'Add the first condition' }).click();
    const root = condition('condition');

    await addCondition(root, 'Event');
    const orders = condition('condition.all.conditions[0]');
    await orders.getByLabel('Event name').fill('Order Completed');
    await choose(orders, 'Comparison', 'more than');

    await addCondition(root, 'Group (all / any / none)');
    const lapsed = condition('condition.all.conditions[1]');
    await lapsed.getByText('any of', { exact: true }).click();
    await addCondition(condition('condition.all.conditions[1]'), 'Event');
    const lastVisit = condition('condition.all.conditions[1].any.conditions[0]');
    await lastVisit.getByLabel('Event name').fill('Page Viewed');
    await choose(lastVisit, 'Measure', 'last seen');
    await choose(lastVisit, 'When', 'before');
    await lastVisit.getByLabel('Time', { exact: true }).fill('40');
    await addCondition(condition('condition.all.conditions[1]'), 'Event');
    const neverVisited = condition('condition.all.conditions[1].any.conditions[1]');
    await neverVisited.getByLabel('Event name').fill('Page Viewed');
    await choose(neverVisited, 'Comparison', 'exactly');
    await neverVisited.getByLabel('Number', { exact: true }).fill('0');

    await addCondition(root, 'Event');
    const value = condition('condition.all.conditions[2]');
    await value.getByLabel('Event name').fill('Order Completed');
    await choose(value, 'Measure', 'sum of a property');
    await value.getByLabel('Property', { exact: true }).fill('total');
    await value.getByLabel('Number', { exact: true }).fill('800');

    await addCondition(root, 'Trait');
    const consent = condition('condition.all.conditions[3]');
    await consent.getByLabel('Trait path').fill('marketing_consent');
    await consent.getByLabel('Value', { exact: true }).fill('true');

    const json = JSON.parse(await page.getByLabel('Rule JSON').inputValue());
    expect(json).toEqual(LOYAL_BUT_LAPSED);

    await eventually(
      async () => expect(await page.getByTestId('size-estimate').textContent()).toBe('1'),
      STEP_MS,
    );
    await expect(
      page.getByRole('list', { name: 'First members' }).textContent(),
    ).resolves.toContain('user:cora');
    await page.getByRole('heading', { name: 'New segment' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'rule-builder.png') });
    await checkAccessibility(page, 'rule builder');
  });

  it('shows a validation error on the condition it names', async () => {
    const consent = condition('condition.all.conditions[3]');
    await consent.getByLabel('Trait path').fill('');
    await eventually(
      async () => expect(await consent.getAttribute('aria-invalid')).toBe('true'),
      STEP_MS,
    );
    await expect(consent.getByRole('alert').textContent()).resolves.toContain('trait.path');
    expect(await condition('condition.all.conditions[0]').getAttribute('aria-invalid')).toBe(
      'false',
    );
    await consent.getByLabel('Trait path').fill('marketing_consent');
    await eventually(
      async () => expect(await consent.getAttribute('aria-invalid')).toBe('false'),
      STEP_MS,
    );
  });

  it('saves the segment and shows members arrive as events are produced upstream', async () => {
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('heading', { name: 'Loyal but lapsed' }).waitFor();
    segmentId = decodeURIComponent(page.url().split('/segments/')[1] ?? '');
    expect(segmentId).not.toBe('');
    const members = page.getByRole('table', { name: 'Members table' });
    await eventually(
      async () => expect(await members.textContent()).toContain('user:cora'),
      STEP_MS,
    );
    await send(...loyalCustomer('dan'));
    await eventually(
      async () => expect(await members.textContent()).toContain('user:dan'),
      STEP_MS,
    );
  });

  it('explains why a member is in', async () => {
    const explain = page.getByRole('region', { name: 'Explain' });
    await explain.getByLabel('Profile id').fill('user:dan');
    await explain.getByRole('button', { name: 'Explain' }).click();
    const explanation = page.getByTestId('explanation');
    await explanation.waitFor();
    expect(await explanation.textContent()).toContain('A member');
    await page.screenshot({ path: join(SCREENSHOTS, 'segment-page.png'), fullPage: true });
    await checkAccessibility(page, 'segment page');
  });

  it('reverts an edit from the history', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    const value = condition('condition.all.conditions[2]');
    await value.getByLabel('Number', { exact: true }).fill('5000');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('heading', { name: 'Loyal but lapsed' }).waitFor();
    const history = page.getByRole('region', { name: 'History' });
    await eventually(async () => expect(await history.textContent()).toContain('5000'), STEP_MS);
    await history.getByRole('button', { name: 'Revert to version 1' }).click();
    await eventually(
      async () => expect(await history.textContent()).toContain('reverted'),
      STEP_MS,
    );
    const token = await scope.token({ subject: 'ann', groups: ['marketing'] });
    const segments = createGrpcClient(SegmentService, {
      address: stack.address('segments'),
      token: () => token,
    });
    try {
      const { segment } = await segments.getSegment({ id: segmentId });
      expect(segment?.version).toBe(3n);
      expect(toJson(RuleSchema, segment!.rule!)).toEqual({
        ...LOYAL_BUT_LAPSED,
        audience: 'AUDIENCE_PROFILES',
      });
    } finally {
      segments.close();
    }
  });

  it('locks the segment against edits when a destination auto-syncs it', async () => {
    const destinations = page.getByRole('region', { name: 'Destinations' });
    const port = (receiver.address() as AddressInfo).port;
    await destinations.getByLabel('New webhook destination name').fill('CRM');
    await destinations.getByLabel('Webhook URL').fill(`http://127.0.0.1:${port}/hook`);
    await destinations.getByLabel('Signing secret').fill(`whsec-${randomBytes(8).toString('hex')}`);
    await destinations.getByRole('button', { name: 'Create destination' }).click();
    await choose(destinations, 'Link a destination', 'CRM');
    await destinations.getByRole('button', { name: 'Link', exact: true }).click();
    await destinations.getByLabel('Auto-sync to CRM').click();
    await page.getByTestId('locked').waitFor({ timeout: STEP_MS });
    await expect(page.getByRole('button', { name: 'Edit (locked)' }).isDisabled()).resolves.toBe(
      true,
    );
    expect(await page.getByRole('button', { name: 'Revert to version 1' }).isDisabled()).toBe(true);
  });

  it('refreshes now and shows the job’s progress', async () => {
    const jobs = page.getByRole('region', { name: 'Jobs' });
    await jobs.getByRole('button', { name: 'Refresh now' }).click();
    const manual = jobs.getByTestId('job').filter({ hasText: 'manual · ann' }).first();
    await eventually(async () => {
      const text = await manual.textContent();
      expect(text).toContain('succeeded');
      expect(text).toMatch(/\d+ (of \d+ )?profiles · \d+ entered · \d+ exited/);
    }, STEP_MS);
  });

  it('chooses the members table’s columns and downloads them as CSV', async () => {
    const members = page.getByRole('region', { name: 'Members' });
    const columns = members.getByLabel('Columns', { exact: true });
    await columns.fill('trait:marketing_consent');
    await columns.press('Enter');
    const table = members.getByRole('table', { name: 'Members table' });
    await eventually(async () => {
      const text = await table.textContent();
      expect(text).toContain('trait:marketing_consent');
      expect(text).toContain('cora@example.com');
      expect(text).toContain('true');
    }, STEP_MS);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const rows = parse(readFileSync((await download.path()) as string, 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows.map((r) => [r.profile_id, r.email, r.marketing_consent]).sort()).toEqual([
      ['user:cora', 'cora@example.com', 'true'],
      ['user:dan', 'dan@example.com', 'true'],
    ]);
  });

  it('keeps a static list: adds and removes members by id', async () => {
    await page.getByRole('link', { name: 'New list' }).click();
    await page.getByRole('textbox', { name: /^Name/ }).fill('VIP list');
    await page.getByRole('button', { name: 'Create list' }).click();
    await page.getByRole('heading', { name: 'VIP list' }).waitFor();
    const ids = page.getByLabel('Profile ids');
    await ids.fill('user:cora, user:dan\nuser:erin');
    await page.getByRole('button', { name: 'Add to list' }).click();
    const count = page.getByTestId('list-count');
    await eventually(async () => expect(await count.textContent()).toBe('3'), STEP_MS);
    await ids.fill('user:dan');
    await page.getByRole('button', { name: 'Remove from list' }).click();
    await eventually(async () => expect(await count.textContent()).toBe('2'), STEP_MS);
    const members = await page.getByRole('table', { name: 'List members' }).textContent();
    expect(members).toContain('user:cora');
    expect(members).toContain('user:erin');
    expect(members).not.toContain('user:dan');
  });

  it('uploads a CSV of 100,000 ids to the list with progress, reporting the refused row', async () => {
    const csv = join(stack.logs, 'ids.csv');
    const rows = Array.from({ length: 100_000 }, (_, i) => `user:bulk-${i}`);
    rows.splice(1, 0, 'x'.repeat(300), 'user:cora');
    writeFileSync(csv, `id,note\n${rows.join('\n')}\n`);
    const upload = page.getByRole('region', { name: 'Upload ids' });
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      upload.getByRole('button', { name: 'Choose a CSV file' }).click(),
    ]);
    await chooser.setFiles(csv);
    const status = upload.getByTestId('upload-status');
    await eventually(async () => expect(await status.textContent()).toContain('done'), STEP_MS);
    expect(await status.textContent()).toBe(
      'ids.csv: 100,001 ids sent, 100,000 new on the list, 1 row refused — done',
    );
    expect(await upload.getByRole('list', { name: 'Refused rows' }).textContent()).toContain(
      'row 3: the id is 300 characters; at most 256',
    );
    await eventually(
      async () => expect(await page.getByTestId('list-count').textContent()).toBe('100,002'),
      STEP_MS,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'list-upload.png') });
    await checkAccessibility(page, 'static list');
  });

  it('renames a static list, which has no activation to switch', async () => {
    expect(await page.getByRole('button', { name: 'Deactivate', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    const rename = page.getByRole('dialog', { name: 'Rename segment' });
    await rename.getByRole('textbox', { name: /^New name/ }).fill('VIP customers');
    await checkAccessibility(page, 'rename dialog', '[role="dialog"]');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'VIP customers' }).waitFor();
  });

  it('lists segments by member count and shows the system status', async () => {
    await page.getByRole('link', { name: 'Segments' }).click();
    await choose(page.locator('main'), 'Sort by', 'Member count');
    const table = page.getByRole('table', { name: 'Segments' });
    await eventually(
      async () => expect(await table.textContent()).toContain('Loyal but lapsed'),
      STEP_MS,
    );
    const loyal = table.getByRole('row').filter({ hasText: 'Loyal but lapsed' });
    await eventually(
      async () => expect(await loyal.getByTestId('change-30d').textContent()).toBe('—'),
      STEP_MS,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'segments.png') });
    await checkAccessibility(page, 'segments list');

    // searching asks the service once the typing pauses, not once per keystroke
    const listCalls: string[] = [];
    const countList = (request: { url(): string }) => {
      if (request.url().includes('SegmentService/ListSegments')) listCalls.push(request.url());
    };
    page.on('request', countList);
    expect(await table.textContent()).toContain('VIP customers');
    await page.getByLabel('Search').pressSequentially('loyal but', { delay: 30 });
    await eventually(async () => {
      expect(await table.textContent()).toContain('Loyal but lapsed');
      expect(await table.textContent()).not.toContain('VIP customers');
    }, STEP_MS);
    page.off('request', countList);
    expect(listCalls.length).toBeGreaterThanOrEqual(1);
    expect(listCalls.length).toBeLessThanOrEqual(2);
    await page.getByLabel('Search').fill('');
    await eventually(
      async () => expect(await table.textContent()).toContain('VIP customers'),
      STEP_MS,
    );
    await page.getByRole('link', { name: 'System' }).click();
    const services = page.getByRole('region', { name: 'Services' });
    await eventually(async () => expect(await services.textContent()).toContain('ready'), STEP_MS);
    await page.screenshot({ path: join(SCREENSHOTS, 'system.png') });
    await checkAccessibility(page, 'system status');
  });

  it('creates a segment from a template, refusing a bad parameter beside its field', async () => {
    await page.getByRole('link', { name: 'From a template' }).click();
    await page.getByRole('radio', { name: /Readers of a topic/ }).check();
    const form = page.getByRole('region', { name: 'Template parameters' });
    await form.getByRole('textbox', { name: /^Name/ }).fill('Pension readers');
    await form.getByRole('textbox', { name: 'topic', exact: true }).fill('pensions');
    await form.getByRole('textbox', { name: 'min_views', exact: true }).fill('0');
    await form.getByRole('button', { name: 'Create segment' }).click();
    await form.getByText('at least 1').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'template.png') });
    await checkAccessibility(page, 'template form');
    await form.getByRole('textbox', { name: 'min_views', exact: true }).fill('2');
    await form.getByRole('button', { name: 'Create segment' }).click();
    await page.getByRole('heading', { name: 'Pension readers' }).waitFor();
  });

  it('renames, deactivates, duplicates and deletes a segment, each confirmed', async () => {
    const pensionId = decodeURIComponent(page.url().split('/segments/')[1] ?? '');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    const rename = page.getByRole('dialog', { name: 'Rename segment' });
    await rename.getByRole('textbox', { name: /^New name/ }).fill('Pension planners');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'Pension planners' }).waitFor();

    await page.getByRole('button', { name: 'Deactivate', exact: true }).click();
    await page.getByTestId('inactive').waitFor();
    await page.getByRole('button', { name: 'Activate', exact: true }).click();
    await page.getByTestId('inactive').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Deactivate', exact: true }).waitFor();

    await page.getByRole('button', { name: 'Duplicate', exact: true }).click();
    const duplicate = page.getByRole('dialog', { name: 'Duplicate segment' });
    expect(await duplicate.getByRole('textbox', { name: /^Name of the copy/ }).inputValue()).toBe(
      'Pension planners (copy)',
    );
    await checkAccessibility(page, 'duplicate dialog', '[role="dialog"]');
    await duplicate.getByRole('button', { name: 'Duplicate' }).click();
    await page.getByRole('heading', { name: 'Pension planners (copy)' }).waitFor();
    expect(page.url()).not.toContain(encodeURIComponent(pensionId));

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const remove = page.getByRole('dialog', { name: 'Delete segment' });
    await remove.getByRole('button', { name: 'Delete segment' }).click();
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    const table = page.getByRole('table', { name: 'Segments' });
    await eventually(async () => {
      const listed = await table.textContent();
      expect(listed).toContain('Pension planners');
      expect(listed).not.toContain('Pension planners (copy)');
    }, STEP_MS);
  });

  it('warns of what uses a segment before an edit or a delete', async () => {
    const token = await scope.token({ subject: 'ann', groups: ['marketing'] });
    const segments = createGrpcClient(SegmentService, {
      address: stack.address('segments'),
      token: () => token,
    });
    try {
      const { segments: found } = await segments.listSegments({ search: 'Pension planners' });
      await segments.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Pension planners with consent',
          visibility: Visibility.SHARED,
          rule: fromJson(RuleSchema, {
            condition: {
              all: {
                conditions: [
                  { inSegment: found[0]?.id },
                  { trait: { path: 'marketing_consent', equals: true } },
                ],
              },
            },
          }),
        },
      });
    } finally {
      segments.close();
    }
    await page.getByRole('link', { name: 'Pension planners', exact: true }).click();
    await page.getByRole('link', { name: 'Edit' }).click();
    const used = page.getByRole('status', { name: 'Used elsewhere' });
    await eventually(
      async () =>
        expect(await used.textContent()).toContain('segment “Pension planners with consent”'),
      STEP_MS,
    );

    await page.goto(`${stack.consoleUrl}/segments/${encodeURIComponent(segmentId)}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const remove = page.getByRole('dialog', { name: 'Delete segment' });
    const usages = remove.getByRole('list', { name: 'What uses the segment' });
    await eventually(
      async () => expect(await usages.textContent()).toContain('destination “CRM” (auto-syncing'),
      STEP_MS,
    );
    const confirm = remove.getByRole('button', { name: 'Delete segment' });
    expect(await confirm.isDisabled()).toBe(true);
    await remove.getByLabel('Delete it anyway').check();
    expect(await confirm.isDisabled()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'delete-in-use.png') });
    await checkAccessibility(page, 'delete dialog', '[role="dialog"]');
    await remove.getByRole('button', { name: 'Keep it' }).click();
    await expect(page.getByRole('heading', { name: 'Loyal but lapsed' }).isVisible()).resolves.toBe(
      true,
    );
  });

  it('edits a segment’s settings, showing a refused schedule beside its field', async () => {
    await page.getByRole('link', { name: 'Segments', exact: true }).click();
    await page.getByRole('link', { name: 'Pension planners with consent' }).click();
    await page.getByRole('heading', { name: 'Pension planners with consent' }).waitFor();
    const editedId = decodeURIComponent(page.url().split('/segments/')[1] ?? '');
    await page.getByRole('link', { name: 'Edit' }).click();
    const settings = page.getByRole('region', { name: 'Settings' });
    await settings.getByLabel('Hidden from groups', { exact: true }).fill('interns');
    await settings.getByLabel('Hidden from groups', { exact: true }).press('Enter');
    await settings.getByLabel('Editor users', { exact: true }).fill('cora');
    await settings.getByLabel('Editor users', { exact: true }).press('Enter');
    await choose(settings, 'Refresh', 'scheduled');
    await settings.getByLabel('Schedule (cron)').fill('every monday');
    await settings.getByLabel('Time zone', { exact: true }).fill('Europe/Berl');
    await page.getByRole('option', { name: 'Europe/Berlin', exact: true }).click();
    await settings.getByText('after a cool-down').click();
    await settings.getByLabel('Cool-down', { exact: true }).fill('14');
    await settings.getByLabel('Value trait').fill('lifetime_value');
    await page.getByRole('button', { name: 'Save segment' }).click();
    const cron = settings.getByLabel('Schedule (cron)');
    await eventually(
      async () => expect(await cron.getAttribute('aria-invalid')).toBe('true'),
      STEP_MS,
    );
    await settings.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'settings.png') });
    await checkAccessibility(page, 'segment settings');
    await cron.fill('0 6 * * 1');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page
      .getByRole('heading', { name: 'Pension planners with consent', exact: true })
      .waitFor();
    await page.getByText('scheduled 0 6 * * 1 Europe/Berlin').waitFor();

    const token = await scope.token({ subject: 'ann', groups: ['marketing'] });
    const segments = createGrpcClient(SegmentService, {
      address: stack.address('segments'),
      token: () => token,
    });
    try {
      const { segment } = await segments.getSegment({ id: editedId });
      expect(segment?.hiddenFrom?.groups).toEqual(['interns']);
      expect(segment?.editors?.subjects).toEqual(['cora']);
      expect(segment?.refresh).toMatchObject({
        mode: RefreshMode.SCHEDULED,
        cron: '0 6 * * 1',
        timeZone: 'Europe/Berlin',
      });
      expect(segment?.reentry?.mode).toBe(ReentryMode.COOL_DOWN);
      expect(segment?.reentry?.coolDown?.length).toEqual({ case: 'days', value: 14 });
      expect(segment?.valueTrait).toBe('lifetime_value');
    } finally {
      segments.close();
    }
  });

  it('keeps a user’s private segment out of another user’s sight and reach', async () => {
    const token = await scope.token({ subject: 'ann', groups: ['marketing'] });
    const segments = createGrpcClient(SegmentService, {
      address: stack.address('segments'),
      token: () => token,
    });
    let privateId = '';
    try {
      const { segment } = await segments.createSegment({
        kind: SegmentKind.DYNAMIC,
        segment: {
          name: 'Ann’s secret shortlist',
          visibility: Visibility.PRIVATE,
          rule: fromJson(RuleSchema, { condition: { hasTag: 'shortlist' } }),
        },
      });
      privateId = segment?.id ?? '';
    } finally {
      segments.close();
    }
    await page.getByRole('link', { name: 'Segments' }).click();
    await eventually(
      async () =>
        expect(await page.getByRole('table', { name: 'Segments' }).textContent()).toContain(
          'Ann’s secret shortlist',
        ),
      STEP_MS,
    );

    const bob = await signedInPage('bob', 'marketing');
    expect(await bob.getByRole('table', { name: 'Segments' }).textContent()).not.toContain(
      'Ann’s secret shortlist',
    );
    await bob.goto(`${stack.consoleUrl}/segments/${encodeURIComponent(privateId)}`);
    await bob
      .getByRole('alert')
      .or(bob.getByText(/not found/i))
      .first()
      .waitFor();
    expect(await bob.content()).not.toContain('Ann’s secret shortlist');
    const direct = await bob.evaluate(async (id) => {
      const response = await fetch('/api/shoal.v1.SegmentService/GetSegment', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shoal-console': '1' },
        body: JSON.stringify({ id }),
      });
      return { status: response.status, body: (await response.json()) as { code?: string } };
    }, privateId);
    expect(direct.status).toBe(404);
    expect(direct.body.code).toBe('not_found');
    await bob.context().close();
  });

  /**
   * Presses Tab until the focused element is the one named `name`, checking at every stop that
   * the focus is visible (an outline, or an input's border in the focus colour).
   */
  async function tabTo(name: RegExp, presses = 80): Promise<void> {
    for (let i = 0; i < presses; i += 1) {
      await page.keyboard.press('Tab');
      // an input shows focus by fading its border to the focus colour
      await page.waitForFunction(() =>
        (
          globalThis as unknown as { document: { getAnimations(): { playState: string }[] } }
        ).document
          .getAnimations()
          .every((animation) => animation.playState !== 'running'),
      );
      const focused = await page.evaluate(() => {
        interface Focusable {
          getAttribute(name: string): string | null;
          textContent: string | null;
          labels?: { textContent: string | null }[];
        }
        interface Style {
          outlineStyle: string;
          outlineWidth: string;
          borderColor: string;
        }
        const web = globalThis as unknown as {
          document: { activeElement: Focusable | null };
          getComputedStyle(element: Focusable): Style;
        };
        const element = web.document.activeElement;
        if (!element) return { name: '', visible: false };
        const style = web.getComputedStyle(element);
        const name =
          element.getAttribute('aria-label') ??
          element.labels?.[0]?.textContent ??
          element.textContent ??
          '';
        const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        return {
          name: name.trim(),
          visible: outlined || style.borderColor !== 'rgb(206, 212, 218)',
        };
      });
      expect({ [focused.name]: focused.visible }).toEqual({ [focused.name]: true });
      if (name.test(focused.name)) return;
    }
    throw new Error(`${name} was not reached with ${presses} presses of Tab`);
  }

  it('builds and saves a simple rule with the keyboard alone, focus visible at every stop', async () => {
    await page.getByRole('link', { name: 'Segments', exact: true }).click();
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    await page.locator('body').focus();
    await tabTo(/^New segment$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New segment' }).waitFor();
    await tabTo(/^Name/);
    await page.keyboard.type('Consenting by keyboard');
    await tabTo(/^Add the first condition$/);
    await page.keyboard.press('Enter');
    await tabTo(/^Trait path/);
    await page.keyboard.type('marketing_consent');
    await tabTo(/^Value/);
    await page.keyboard.type('true');
    await tabTo(/^Save segment$/);
    await eventually(
      async () =>
        expect(await page.getByRole('button', { name: 'Save segment' }).isEnabled()).toBe(true),
      STEP_MS,
    );
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Consenting by keyboard' }).waitFor();
  });

  it('meets WCAG 2 A and AA on every screen and dialog it visited', () => {
    expect(checked).toHaveLength(11);
    expect(violations.join('\n')).toBe('');
  });
});
