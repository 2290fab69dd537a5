import { SegmentDraftSchema } from '@shoal/contracts';
import { Violations } from '@shoal/platform';
import type { DraftField } from './segment-definitions';

/**
 * The draft fields an update mask names, each in its proto (`hidden_from`) or JSON
 * (`hiddenFrom`) spelling; an empty mask names them all, as a full replace.
 */
export function draftFieldsOf(paths: readonly string[]): DraftField[] {
  const all = SegmentDraftSchema.fields;
  if (paths.length === 0) return all.map((f) => f.localName as DraftField);
  const v = new Violations();
  const fields = paths.flatMap((path, i) => {
    const field = all.find((f) => f.name === path || f.jsonName === path);
    if (!field) v.add(`updateMask.paths[${i}]`, `"${path}" is not a field of SegmentDraft`);
    return field ? [field.localName as DraftField] : [];
  });
  v.throwIfAny();
  return fields;
}
