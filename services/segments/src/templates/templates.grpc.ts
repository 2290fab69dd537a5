import type { JsonValue } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import type { CreateSegmentFromTemplateRequest } from '@shoal/contracts';
import type { CallContext } from '@shoal/platform';
import { TemplatesService } from './templates.service';

/** The template RPCs of SegmentService: the wire into use cases, no rules. */
@Injectable()
export class TemplatesGrpc {
  constructor(private readonly templates: TemplatesService) {}

  async listTemplates() {
    return { templates: this.templates.list() };
  }

  async createSegmentFromTemplate(
    request: CreateSegmentFromTemplateRequest,
    { principal }: CallContext,
  ) {
    const segment = await this.templates.create({
      templateId: request.templateId,
      parameters: (request.parameters ?? {}) as Record<string, JsonValue>,
      draft: request.segment,
      asDraft: request.draft,
      principal,
    });
    return { segment };
  }
}
