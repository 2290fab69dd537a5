import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Injectable } from '@nestjs/common';
import type { GetScheduleRequest, SetScheduleRequest } from '@shoal/contracts';
import type { CallContext } from '@shoal/platform';
import { SchedulesService } from './schedules.service';

const at = (d: Date) => timestampFromMs(d.getTime());

/** The schedule RPCs of SchedulerService. */
@Injectable()
export class SchedulesGrpc {
  constructor(private readonly schedules: SchedulesService) {}

  async getSchedule(request: GetScheduleRequest, { principal }: CallContext) {
    const s = await this.schedules.get(request.segmentId, principal);
    return {
      ...(s.schedule ? { schedule: s.schedule } : {}),
      isDefault: s.isDefault,
      mode: s.mode,
      nextRuns: s.nextRuns.map(at),
    };
  }

  async setSchedule(request: SetScheduleRequest, { principal, header, signal }: CallContext) {
    const s = await this.schedules.set(
      request.segmentId,
      { cron: request.schedule?.cron ?? '', timeZone: request.schedule?.timeZone ?? '' },
      { principal, authorization: header('authorization'), signal },
    );
    return {
      ...(s.schedule ? { schedule: s.schedule } : {}),
      isDefault: s.isDefault,
      nextRuns: s.nextRuns.map(at),
    };
  }
}
