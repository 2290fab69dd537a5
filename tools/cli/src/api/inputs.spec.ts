import {
  InputError,
  parseEventsFile,
  parseIdsCsv,
  parseRuleFile,
  parseUpstreamEvent,
} from './inputs';

describe('input files', () => {
  it('reads a Segment-spec track message into an UpstreamEvent', () => {
    const event = parseUpstreamEvent(
      JSON.stringify({
        type: 'track',
        messageId: 'm1',
        userId: 'ann',
        event: 'Order Completed',
        properties: { total: 420 },
        timestamp: '2026-11-30T10:00:00Z',
      }),
      'events.ndjson:1',
    );
    expect(event).toMatchObject({
      messageId: 'm1',
      userId: 'ann',
      payload: { case: 'track', value: { event: 'Order Completed' } },
    });
    expect(event.payload.case === 'track' && event.payload.value.properties).toEqual({
      total: 420,
    });
  });

  it('reads identify traits and the protobuf JSON form alike', () => {
    expect(
      parseUpstreamEvent('{"type":"identify","userId":"ann","traits":{"plan":"pro"}}', 'x:1')
        .payload,
    ).toMatchObject({ case: 'identify', value: { traits: { plan: 'pro' } } });
    expect(
      parseUpstreamEvent('{"userId":"ann","alias":{"previousId":"anon-1"}}', 'x:2').payload,
    ).toMatchObject({ case: 'alias', value: { previousId: 'anon-1' } });
  });

  it('names the line of an event it cannot read', () => {
    expect(() => parseUpstreamEvent('{"type":"tarck"}', 'events.ndjson:7')).toThrow(
      /events.ndjson:7: type "tarck" is not one of track, identify/,
    );
    expect(() => parseUpstreamEvent('{"type":', 'events.ndjson:8')).toThrow(InputError);
  });

  it('reads an events file with the line of each event, blank lines skipped', () => {
    const { events, lines } = parseEventsFile(
      '{"type":"track","userId":"ann","event":"A"}\n\n  \n{"type":"identify","userId":"bo"}\n',
      'e.ndjson',
    );
    expect(events.map((e) => e.userId)).toEqual(['ann', 'bo']);
    expect(lines).toEqual([1, 4]);
  });

  it('gives an event without a messageId one from its line, the same each time the file is read', () => {
    const a = '{"type":"track","userId":"ann","event":"A"}';
    const b = '{"type":"track","userId":"bo","event":"B"}';
    const given = '{"type":"track","userId":"cy","event":"C","messageId":"m-7"}';
    const first = parseEventsFile([a, a, given].join('\n'), 'e.ndjson');
    const ids = first.events.map((e) => e.messageId);
    expect(first.named).toBe(2);
    expect(ids[0]).toMatch(/^cli-[0-9a-f]{32}$/);
    expect(ids[1]).not.toBe(ids[0]); // two identical lines stay two events
    expect(ids[2]).toBe('m-7');
    // read again with a line added before them: the same ids, the new line its own
    const again = parseEventsFile([b, a, given, a].join('\n'), 'e.ndjson');
    expect(again.events.map((e) => e.messageId)).toEqual([
      expect.not.stringMatching(new RegExp(`^(${ids[0]}|${ids[1]})$`)),
      ids[0],
      'm-7',
      ids[1],
    ]);
  });

  it('refuses an events file with unreadable lines whole, listing each of them', () => {
    const text = ['{"type":"track","userId":"ann","event":"A"}', 'not json', '{"type":"bogus"}'];
    expect(() => parseEventsFile(text.join('\n'), 'e.ndjson')).toThrow(
      new InputError(
        [
          '2 of the 3 lines of e.ndjson are not events; nothing was sent',
          `  e.ndjson:2 is not JSON: ${jsonError('not json')}`,
          '  e.ndjson:3: type "bogus" is not one of track, identify, group, alias, page, screen',
        ].join('\n'),
      ),
    );
    const many = Array.from({ length: 25 }, () => '[]').join('\n');
    const message = captureMessage(() => parseEventsFile(many, 'm.ndjson'));
    expect(message.split('\n')).toHaveLength(1 + 20 + 1);
    expect(message).toMatch(/\n {2}and 5 more$/);
  });

  it('refuses a rule file that is not a rule, naming the file', () => {
    expect(() => parseRuleFile('{"condition":{"nope":{}}}', 'rule.json')).toThrow(
      /rule.json is not a rule/,
    );
    expect(
      parseRuleFile('{"condition":{"trait":{"path":"plan","equals":"pro"}}}', 'r.json'),
    ).toBeDefined();
  });

  it('takes the first column of a CSV and skips an id header', () => {
    expect(parseIdsCsv('profile_id,name\np1,Ann\r\n"p2",Bob\n\np3\n')).toEqual(['p1', 'p2', 'p3']);
    expect(parseIdsCsv('p1\np2')).toEqual(['p1', 'p2']);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} is JSON`);
}

function captureMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('nothing was thrown');
}
