import { Module } from '@nestjs/common';
import { CONFIG } from '@shoal/platform';
import type { SegmentsConfig } from '../service';
import { ListMembersRelay } from '../static-lists/list-members.relay';
import {
  LIST_MEMBER_REPOSITORY,
  MongoListMemberRepository,
} from '../static-lists/list-members.repository';
import { ListMembersService } from '../static-lists/list-members.service';
import { StaticListsService } from '../static-lists/static-lists.service';
import { TemplatesService } from '../templates/templates.service';
import { DefinitionsRelay } from './definitions.relay';
import { DuplicationService } from './duplication.service';
import { SEGMENT_LIMITS, limitsFromConfig } from './segment-limits';
import { SegmentsGrpc } from './segments.grpc';
import { MongoSegmentRepository, SEGMENT_REPOSITORY } from './segments.repository';
import { SEGMENT_CHANGES, SegmentsService } from './segments.service';

const repositories = [
  MongoSegmentRepository,
  { provide: SEGMENT_REPOSITORY, useExisting: MongoSegmentRepository },
  MongoListMemberRepository,
  { provide: LIST_MEMBER_REPOSITORY, useExisting: MongoListMemberRepository },
];
const relays = [
  DefinitionsRelay,
  { provide: SEGMENT_CHANGES, useExisting: DefinitionsRelay },
  ListMembersRelay,
];
const useCases = [
  SegmentsService,
  ListMembersService,
  StaticListsService,
  TemplatesService,
  DuplicationService,
];
const configuration = [
  {
    provide: SEGMENT_LIMITS,
    useFactory: (config: SegmentsConfig) => limitsFromConfig(config),
    inject: [CONFIG],
  },
];

/** Segment definitions, static lists and templates, served as SegmentService. */
@Module({ providers: [...configuration, ...repositories, ...relays, ...useCases, SegmentsGrpc] })
export class SegmentsModule {}
