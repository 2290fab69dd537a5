import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module';
import { ListCountsReconciler } from './list-counts.reconciler';
import { ListMembersRelay } from './list-members.relay';
import { LIST_MEMBER_REPOSITORY } from './list-members.repository.port';
import { MongoListMemberRepository } from './list-members.mongo-repository';
import { ListMembersService } from './list-members.service';
import { StaticListsGrpc } from './static-lists.grpc';
import { LIST_MEMBER_CHANGES, StaticListsService } from './static-lists.service';

const repositories = [{ provide: LIST_MEMBER_REPOSITORY, useClass: MongoListMemberRepository }];
const relays = [ListMembersRelay, { provide: LIST_MEMBER_CHANGES, useExisting: ListMembersRelay }];
export const STATIC_LIST_USE_CASES = [ListMembersService, StaticListsService];

/**
 * Static lists' members: stored in chunks, changed by their list's owner and editors, published
 * per member change, copied into a duplicated list; their kept member counts reconciled after
 * start-up (ListCountsReconciler). A list's definition is a segment's (SegmentsModule).
 */
@Module({
  imports: [SegmentsModule],
  providers: [
    ...repositories,
    ...relays,
    ...STATIC_LIST_USE_CASES,
    ListCountsReconciler,
    StaticListsGrpc,
  ],
  exports: [StaticListsGrpc],
})
export class StaticListsModule {}
