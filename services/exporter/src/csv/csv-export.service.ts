import { Inject, Injectable } from '@nestjs/common';
import { type CsvColumn, CsvColumnKind, type Profile } from '@shoal/contracts';
import { type Principal, Violations } from '@shoal/platform';
import {
  MEMBER_SOURCE,
  type MemberSource,
  PROFILE_SOURCE,
  type ProfileSource,
} from '../peers/peers.ports';
import { SegmentAccessService } from '../segments/segment-access.service';
import { effectiveColumns, headerRow, memberRows } from './csv-columns';
import { CsvExportError } from './csv.errors';

/** How exports read members: page size of ListMembers, most columns asked for. */
export interface CsvSettings {
  readonly pageSize: number;
  readonly maxColumns: number;
}

export const CSV_SETTINGS = Symbol('CsvSettings');

const MAX_TEXT = 200;

/** One chunk of an export: text and how many member rows it holds. */
export interface CsvChunk {
  readonly text: string;
  readonly rows: number;
}

/**
 * A segment's members as CSV. Memory stays bounded whatever the segment's size: one page of
 * members and their profiles is held at a time, and the next page is read only once the
 * consumer has taken the previous chunk (so a slow reader slows the export, not the heap).
 * Members whose profile no longer exists (erased, merged) are left out.
 */
@Injectable()
export class CsvExportService {
  constructor(
    private readonly access: SegmentAccessService,
    @Inject(MEMBER_SOURCE) private readonly members: MemberSource,
    @Inject(PROFILE_SOURCE) private readonly profiles: ProfileSource,
    @Inject(CSV_SETTINGS) private readonly settings: CsvSettings,
  ) {}

  /**
   * Checks the request and the caller's right to see the segment at once (so refusals come
   * before any byte), then answers the chunks: the header row first, then a chunk per page.
   */
  async open({
    segmentId,
    columns,
    principal,
    signal,
  }: {
    segmentId: string;
    columns: readonly CsvColumn[];
    principal: Principal;
    signal?: AbortSignal;
  }): Promise<AsyncIterable<CsvChunk>> {
    this.validate(segmentId, columns);
    const segment = await this.access.visible(segmentId, principal);
    const chosen = effectiveColumns(columns);
    const { members, profiles, settings } = this;
    return {
      async *[Symbol.asyncIterator]() {
        yield { text: headerRow(chosen), rows: 0 };
        for await (const ids of members.pages(segment, settings.pageSize, signal)) {
          const found = await profiles.profiles(ids, signal);
          const rows = ids.flatMap((id) => {
            const profile = found.get(id);
            return profile ? [profile] : ([] as Profile[]);
          });
          if (rows.length > 0) yield { text: memberRows(chosen, rows), rows: rows.length };
        }
      },
    };
  }

  private validate(segmentId: string, columns: readonly CsvColumn[]): void {
    const violations = new Violations();
    if (!segmentId) violations.add('segmentId', 'is required');
    if (columns.length > this.settings.maxColumns)
      violations.add('columns', `at most ${this.settings.maxColumns} columns`);
    columns.forEach((column, index) => {
      const at = `columns[${index}]`;
      if (column.kind === CsvColumnKind.UNSPECIFIED) violations.add(`${at}.kind`, 'is required');
      const needsTrait =
        column.kind === CsvColumnKind.TRAIT || column.kind === CsvColumnKind.IDENTITY_TRAIT;
      if (needsTrait && !column.trait) violations.add(`${at}.trait`, 'is required for this kind');
      if (!needsTrait && column.trait)
        violations.add(`${at}.trait`, 'only trait and identity-trait columns name a trait');
      if (column.trait.length > MAX_TEXT)
        violations.add(`${at}.trait`, `at most ${MAX_TEXT} characters`);
      if (column.header.length > MAX_TEXT)
        violations.add(`${at}.header`, `at most ${MAX_TEXT} characters`);
    });
    if (!violations.empty) throw CsvExportError.invalid(violations.all);
  }
}
