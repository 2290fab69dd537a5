import { status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { type Profile, ProfileService } from '@shoal/contracts';
import { CONFIG, type GrpcClient, GrpcCallError, ServiceClients } from '@shoal/platform';
import type { ExporterConfig } from '../service';
import type { ProfileSource } from './peers.ports';
import { PeerError } from './peers.errors';

/**
 * Profiles from ingestion's GetProfile, a bounded number of calls in flight (ingestion answers
 * reads by id fast; it has no batch read yet). The only code that knows how ingestion serves
 * profiles: a batch read there changes this file alone.
 */
@Injectable()
export class ProfilesGrpcClient implements ProfileSource {
  private client?: GrpcClient<typeof ProfileService>;

  constructor(
    private readonly clients: ServiceClients,
    @Inject(CONFIG) private readonly config: ExporterConfig,
  ) {}

  async profiles(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Profile>> {
    const client = (this.client ??= this.clients.connect(
      ProfileService,
      this.config.EXPORTER_INGESTION_ADDRESS,
    ));
    const found = new Map<string, Profile>();
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        signal?.throwIfAborted();
        const id = ids[next++] as string;
        const profile = await client
          .getProfile({ profileId: id }, signal ? { signal } : {})
          .then((response) => response.profile)
          .catch((error: unknown) => {
            if (error instanceof GrpcCallError && error.code === status.NOT_FOUND) return undefined;
            throw PeerError.of('ingestion', error);
          });
        if (profile) found.set(id, profile);
      }
    };
    const workers = Math.min(this.config.EXPORTER_PROFILE_READS_IN_FLIGHT, ids.length);
    await Promise.all(Array.from({ length: workers }, worker));
    return found;
  }
}
