import { segmentStatusKey, topicCatalogue } from './topics';

describe('topic catalogue', () => {
  it('has unique names, and every dead-letter topic is in the catalogue', () => {
    const names = topicCatalogue.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const topic of topicCatalogue) {
      if (topic.deadLetter) expect(names).toContain(topic.deadLetter.name);
    }
  });

  it('keys and describes every topic', () => {
    for (const topic of topicCatalogue) {
      expect(topic.key).not.toBe('');
      expect(topic.description).not.toBe('');
      expect(topic.partitions).toBeGreaterThan(0);
    }
  });
});

describe('segmentStatusKey', () => {
  it('reads back the segment and partition it wrote, also when the segment id holds a slash', () => {
    expect(segmentStatusKey.parse(segmentStatusKey.of('seg_a', 7))).toEqual({
      segmentId: 'seg_a',
      partition: 7,
    });
    expect(segmentStatusKey.parse('team/seg/0')).toEqual({ segmentId: 'team/seg', partition: 0 });
  });

  it.each(['seg_a', '/3', 'seg_a/', 'seg_a/-1', 'seg_a/1.5', 'seg_a/x'])(
    'answers undefined for %j',
    (key) => expect(segmentStatusKey.parse(key)).toBeUndefined(),
  );
});
