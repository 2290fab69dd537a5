import { Injectable } from '@nestjs/common';
import { type Segment, SegmentKind } from '@shoal/contracts';
import type { Principal } from '@shoal/platform';
import { StaticListsService } from '../static-lists/static-lists.service';
import { SegmentsService } from './segments.service';

/** Duplicating: a copy of the definition, and for a static list its members too. */
@Injectable()
export class DuplicationService {
  constructor(
    private readonly segments: SegmentsService,
    private readonly lists: StaticListsService,
  ) {}

  async duplicate({
    id,
    name,
    principal,
  }: {
    id: string;
    name: string;
    principal: Principal;
  }): Promise<Segment> {
    const copy = await this.segments.duplicate({ id, name, principal });
    if (copy.kind === SegmentKind.STATIC_LIST)
      await this.lists.copyMembers({ fromListId: id, toListId: copy.id, principal });
    return copy;
  }
}
