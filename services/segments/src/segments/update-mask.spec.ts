import { ValidationError } from '@shoal/platform';
import { draftFieldsOf } from './update-mask';

describe('the update mask', () => {
  it('names every draft field when empty, as a full replace', () => {
    expect(draftFieldsOf([])).toEqual([
      'name',
      'description',
      'tags',
      'audience',
      'rule',
      'refresh',
      'reentry',
      'visibility',
      'hiddenFrom',
      'editors',
      'valueTrait',
    ]);
  });

  it('takes fields in their proto or JSON spelling', () => {
    expect(draftFieldsOf(['hidden_from', 'hiddenFrom', 'rule'])).toEqual([
      'hiddenFrom',
      'hiddenFrom',
      'rule',
    ]);
  });

  it('refuses every path that is not a field of the draft, at its place in the mask', () => {
    const refuse = () => draftFieldsOf(['name', 'owner', 'rule.condition', 'version']);
    expect(refuse).toThrow(ValidationError);
    expect(refuse).toThrow(
      'updateMask.paths[1]: "owner" is not a field of SegmentDraft; ' +
        'updateMask.paths[2]: "rule.condition" is not a field of SegmentDraft; ' +
        'updateMask.paths[3]: "version" is not a field of SegmentDraft',
    );
  });
});
