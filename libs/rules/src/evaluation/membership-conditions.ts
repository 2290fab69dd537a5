import type { JsonValue } from '@bufbuild/protobuf';
import type { EvaluationState } from '../incremental/state';
import { formatInstant } from '../language/values';
import { explanation, type CompiledLeaf } from './condition';

// Segment membership, static lists and tags: facts of the subject that time alone never changes.

interface Observation {
  matched: boolean;
  summary: string;
  observed: JsonValue;
}

function staticLeaf(path: string, observe: (state: EvaluationState) => Observation): CompiledLeaf {
  return {
    kind: 'leaf',
    evaluate: (state) => observe(state).matched,
    changeCandidates: () => [],
    explain: (state) => explanation({ path, ...observe(state) }),
  };
}

export function compileSegmentMembership(id: string, wanted: boolean, path: string): CompiledLeaf {
  return staticLeaf(path, (state) => {
    const since = Object.prototype.hasOwnProperty.call(state.segments, id)
      ? state.segments[id]
      : undefined;
    const member = since !== undefined;
    return {
      matched: member === wanted,
      summary: `${member ? `member of segment ${id} since ${formatInstant(since as number)}` : `not a member of segment ${id}`} (needs ${wanted ? 'member' : 'not a member'})`,
      observed: member,
    };
  });
}

export function compileListMembership(id: string, wanted: boolean, path: string): CompiledLeaf {
  return staticLeaf(path, (state) => {
    const onList = state.lists.includes(id);
    return {
      matched: onList === wanted,
      summary: `${onList ? 'on' : 'not on'} static list ${id} (needs ${wanted ? 'on' : 'not on'} it)`,
      observed: onList,
    };
  });
}

export function compileTag(tag: string, wanted: boolean, path: string): CompiledLeaf {
  return staticLeaf(path, (state) => {
    const tagged = state.tags.includes(tag);
    return {
      matched: tagged === wanted,
      summary: `${tagged ? 'has' : 'does not have'} tag "${tag}" (needs ${wanted ? 'it' : 'it absent'})`,
      observed: tagged,
    };
  });
}
