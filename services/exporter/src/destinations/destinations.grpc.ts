import { Injectable } from '@nestjs/common';
import type {
  CreateDestinationRequest,
  DeleteDestinationRequest,
  GetDestinationRequest,
  LinkSegmentRequest,
  ListDeadLettersRequest,
  ListDestinationsRequest,
  ListSyncRunsRequest,
  RedeliverDeadLettersRequest,
  SetAutoSyncRequest,
  SyncNowRequest,
  UnlinkSegmentRequest,
  UpdateDestinationRequest,
} from '@shoal/contracts';
import { type CallContext, Violations } from '@shoal/platform';
import { DeadLettersService } from './dead-letters.service';
import { DestinationsService } from './destinations.service';
import { SyncDispatcher } from './sync.dispatcher';
import { SyncService } from './sync.service';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

/** The destination RPCs of ExportService: translation only. */
@Injectable()
export class DestinationsGrpc {
  constructor(
    private readonly destinations: DestinationsService,
    private readonly sync: SyncService,
    private readonly dispatcher: SyncDispatcher,
    private readonly deadLetters: DeadLettersService,
  ) {}

  async createDestination(request: CreateDestinationRequest, { principal }: CallContext) {
    const created = await this.destinations.create({
      name: request.name,
      config: request.config,
      principal,
    });
    return { destination: await this.destinations.view(created) };
  }

  async getDestination(request: GetDestinationRequest, { principal }: CallContext) {
    const found = await this.destinations.get(request.destinationId, principal);
    return { destination: await this.destinations.view(found) };
  }

  async listDestinations(request: ListDestinationsRequest, { principal }: CallContext) {
    const found = await this.destinations.list(principal, limitOf(request.limit));
    return { destinations: await Promise.all(found.map((d) => this.destinations.view(d))) };
  }

  async updateDestination(request: UpdateDestinationRequest, { principal }: CallContext) {
    const updated = await this.destinations.update({
      id: request.destinationId,
      expectedVersion: request.expectedVersion,
      name: request.name,
      config: request.config,
      principal,
    });
    return { destination: await this.destinations.view(updated) };
  }

  async deleteDestination(request: DeleteDestinationRequest, { principal }: CallContext) {
    await this.destinations.remove(request.destinationId, principal);
    return {};
  }

  async linkSegment(request: LinkSegmentRequest, { principal }: CallContext) {
    const linked = await this.destinations.link({
      id: request.destinationId,
      segmentId: request.segmentId,
      mode: request.mode,
      autoSync: request.autoSync,
      traits: request.traits,
      schedule: request.schedule,
      timeZone: request.timeZone,
      principal,
    });
    return { destination: await this.destinations.view(linked) };
  }

  async setAutoSync(request: SetAutoSyncRequest, { principal }: CallContext) {
    const updated = await this.destinations.setAutoSync({
      id: request.destinationId,
      segmentId: request.segmentId,
      autoSync: request.autoSync,
      principal,
    });
    return { destination: await this.destinations.view(updated) };
  }

  async unlinkSegment(request: UnlinkSegmentRequest, { principal }: CallContext) {
    const updated = await this.destinations.unlink({
      id: request.destinationId,
      segmentId: request.segmentId,
      principal,
    });
    return { destination: await this.destinations.view(updated) };
  }

  async syncNow(request: SyncNowRequest, { principal }: CallContext) {
    const { destination } = await this.destinations.syncable(
      request.destinationId,
      request.segmentId,
      principal,
    );
    return { run: this.dispatcher.startFull(destination, request.segmentId) };
  }

  async listSyncRuns(request: ListSyncRunsRequest, { principal }: CallContext) {
    const destination = await this.destinations.get(request.destinationId, principal);
    return { runs: await this.sync.runsOf(destination.id, limitOf(request.limit)) };
  }

  async listDeadLetters(request: ListDeadLettersRequest, { principal }: CallContext) {
    const destination = await this.destinations.get(request.destinationId, principal);
    return {
      deadLetters: await this.sync.deadLettersOf(destination.id, limitOf(request.limit)),
    };
  }

  redeliverDeadLetters(request: RedeliverDeadLettersRequest, { principal }: CallContext) {
    return this.deadLetters.redeliver({
      destinationId: request.destinationId,
      deadLetterIds: request.deadLetterIds,
      principal,
    });
  }
}

function limitOf(limit: number): number {
  const violations = new Violations();
  if (limit < 0 || limit > MAX_LIMIT) violations.add('limit', `between 0 and ${MAX_LIMIT}`);
  violations.throwIfAny();
  return limit || DEFAULT_LIMIT;
}
